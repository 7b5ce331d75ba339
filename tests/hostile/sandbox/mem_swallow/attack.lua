return {run = function()
  local keep = {}
  for _ = 1, 1000 do
    pcall(function()
      local t = {}
      while true do t[#t + 1] = string.rep("y", 4096) end
    end)
    keep[#keep + 1] = string.rep("z", 1 << 20)   -- and keep growing outside
  end
  return #keep
end}
