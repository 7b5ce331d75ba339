return {run = function(env)
  return require(env.name)
end}
