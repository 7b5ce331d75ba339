return {run = function(env)
  local f = io.open(env.fifo, "r")   -- blocks in open(2) until a writer comes
  return f and f:read("a")
end}
