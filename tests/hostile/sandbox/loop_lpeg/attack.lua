local lpeg = require("lpeg")
return {run = function()
  -- A_i <- A_{i+1} "x" / A_{i+1} "y"; the subject has neither, so every
  -- level tries both branches: 2^40 steps, all inside lpeg's C VM.
  local g = {"A1"}
  for i = 1, 40 do
    local nxt = i < 40 and lpeg.V("A" .. (i + 1)) or lpeg.P("a")^0
    g["A" .. i] = nxt * "x" + nxt * "y"
  end
  return lpeg.match(lpeg.P(g), string.rep("a", 1000) .. "z")
end}
