-- solver.md, "Branching Error Reporting": root depends on foo ^1.0.0 (a
-- requirement).
return {
  foo = {
    ["1.0.0"] = {dependencies = {a = "^1.0.0", b = "^1.0.0"}},
    ["1.1.0"] = {dependencies = {x = "^1.0.0", y = "^1.0.0"}},
  },
  a = {["1.0.0"] = {dependencies = {b = "^2.0.0"}}},
  b = {["1.0.0"] = {}, ["2.0.0"] = {}},
  x = {["1.0.0"] = {dependencies = {y = "^2.0.0"}}},
  y = {["1.0.0"] = {}, ["2.0.0"] = {}},
}
