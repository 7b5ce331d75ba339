local function helper()
  local ok, how, code = os.execute("perl -e 'exit 7'")
  if how ~= "exit" or code ~= 7 then
    error(("helper did not run: %s %s %s"):format(tostring(ok), tostring(how), tostring(code)))
  end
end
return {run = function(env)
  helper()
  -- signal 0 checks permission without delivering; SIGCONT is harmless
  local ok, how, code = os.execute(([[perl -e 'kill(0, %d) or exit 3; kill("CONT", %d) or exit 4; exit 0' 2>/dev/null]])
                                   :format(env.host_pid, env.host_pid))
  if ok then return "signalled the host" end
  error(("kill failed: %s %s"):format(tostring(how), tostring(code)))
end}
