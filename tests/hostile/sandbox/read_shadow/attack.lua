return {run = function()
  local f, err = io.open("/etc/shadow", "r")
  if not f then error("open failed: " .. tostring(err)) end
  return f:read("a")
end}
