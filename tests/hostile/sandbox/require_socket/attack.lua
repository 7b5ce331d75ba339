return {run = function()
  local socket = require("socket")
  return socket.connect("127.0.0.1", 1) and "connected" or "socket loaded"
end}
