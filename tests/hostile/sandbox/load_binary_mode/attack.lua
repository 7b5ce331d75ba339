return {run = function(env)
  local done = false
  local f, err = load(function()
    if done then return nil end
    done = true
    return env.bytecode
  end, "=x", "bt")
  if not f then error("load refused: " .. tostring(err)) end
  return f()
end}
