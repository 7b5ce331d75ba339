return {run = function()
  local cos = {}
  while true do
    local co = coroutine.create(function(...) coroutine.yield(...) end)
    coroutine.resume(co, string.rep("c", 1000))
    cos[#cos + 1] = co
  end
end}
