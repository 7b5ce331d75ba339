return {run = function()
  local io_ = require("io")
  return io_.open("/etc/passwd"):read("a")
end}
