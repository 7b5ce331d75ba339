return {run = function()
  return #string.rep("x", 1 << 40)
end}
