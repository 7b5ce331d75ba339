-- solver.md, "Conflict Resolution With a Partial Satisfier": root depends
-- on foo ^1.0.0 and target ^2.0.0 (requirements).
return {
  foo = {
    ["1.0.0"] = {},
    ["1.1.0"] = {dependencies = {left = "^1.0.0", right = "^1.0.0"}},
  },
  left = {["1.0.0"] = {dependencies = {shared = ">=1.0.0"}}},
  right = {["1.0.0"] = {dependencies = {shared = "<2.0.0"}}},
  shared = {
    ["1.0.0"] = {dependencies = {target = "^1.0.0"}},
    ["2.0.0"] = {},
  },
  target = {["1.0.0"] = {}, ["2.0.0"] = {}},
}
