-- solver.md, "Linear Error Reporting": root depends on foo ^1.0.0 and
-- baz ^1.0.0 (requirements; solver.md's prose says baz ^3.0.0, its tables
-- and derivation say ^1.0.0, which is what makes it fail).
return {
  foo = {["1.0.0"] = {dependencies = {bar = "^2.0.0"}}},
  bar = {["2.0.0"] = {dependencies = {baz = "^3.0.0"}}},
  baz = {["1.0.0"] = {}, ["3.0.0"] = {}},
}
