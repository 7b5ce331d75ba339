-- solver.md, "Avoiding Conflict During Decision Making": root depends on
-- foo ^1.0.0 and bar ^1.0.0 (requirements).
return {
  foo = {
    ["1.0.0"] = {},
    ["1.1.0"] = {dependencies = {bar = "^2.0.0"}},
  },
  bar = {["1.0.0"] = {}, ["1.1.0"] = {}, ["2.0.0"] = {}},
}
