return {run = function()
  local f = os.execute or (io and io.popen)
  return f("id")
end}
