return {run = function()
  local p = io.popen("/bin/sh -c id")
  return p and p:read("a")
end}
