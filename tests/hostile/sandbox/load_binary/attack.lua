return {run = function(env)
  local f, err = load(env.bytecode)
  if not f then error("load refused: " .. tostring(err)) end
  return f()
end}
