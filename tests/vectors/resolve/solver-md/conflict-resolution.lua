-- solver.md, "Performing Conflict Resolution": root depends on foo >=1.0.0
-- (a requirement).
return {
  foo = {
    ["1.0.0"] = {},
    ["2.0.0"] = {dependencies = {bar = "^1.0.0"}},
  },
  bar = {["1.0.0"] = {dependencies = {foo = "^1.0.0"}}},
}
