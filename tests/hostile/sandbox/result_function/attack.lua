return {run = function()
  return function() return os.execute("id") end, coroutine.create(print)
end}
