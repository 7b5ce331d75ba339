return {run = function(env)
  -- a child that sleeps, named with this run's marker so the suite can
  -- tell whether it outlived the sandbox
  return os.execute(([[exec perl -e '$0 = "%s-sleep"; sleep 600']]):format(env.marker))
end}
