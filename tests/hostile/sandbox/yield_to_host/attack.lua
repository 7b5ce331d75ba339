return {run = function()
  coroutine.yield("to the host")
  return "resumed"
end}
