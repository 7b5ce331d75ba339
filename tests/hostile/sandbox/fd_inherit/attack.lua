return {run = function()
  local open = {}
  for n = 4, 256 do
    local f = io.open("/proc/self/fd/" .. n, "rb") or io.open("/dev/fd/" .. n, "rb")
    if f then open[#open + 1] = n; f:close() end
  end
  return open
end}
