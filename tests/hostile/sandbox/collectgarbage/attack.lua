return {run = function()
  collectgarbage("stop")
  return "stopped"
end}
