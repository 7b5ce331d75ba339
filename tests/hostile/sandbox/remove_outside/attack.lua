return {run = function(env)
  local ok, err = os.remove(env.outside .. "/victim.txt")
  if not ok then error("remove failed: " .. tostring(err)) end
  return "removed"
end}
