return {run = function(env)
  local src = env.work .. "/moved.txt"
  local f = assert(io.open(src, "w")); f:write("x"); f:close()
  local ok, err = os.rename(src, env.outside .. "/moved.txt")
  os.remove(src)
  if not ok then error("rename failed: " .. tostring(err)) end
  return "renamed"
end}
