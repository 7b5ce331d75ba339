return {run = function()
  local function spin() while true do end end
  while true do
    local co = coroutine.create(function()
      local inner = coroutine.wrap(spin)
      pcall(inner)
      spin()
    end)
    coroutine.resume(co)   -- an error ends co; resume returns false; go again
    coroutine.close(co)
  end
end}
