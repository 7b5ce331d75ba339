local function helper()
  local ok, how, code = os.execute("perl -e 'exit 7'")
  if how ~= "exit" or code ~= 7 then
    error(("helper did not run: %s %s %s"):format(tostring(ok), tostring(how), tostring(code)))
  end
end
return {run = function(env)
  helper()
  -- x86_64: ptrace is 101; PTRACE_ATTACH 16, PTRACE_DETACH 17
  local ok, how, code = os.execute(([[perl -e '
    my $pid = %d;
    syscall(101, 16, $pid, 0, 0) == -1 and exit 3;
    select(undef, undef, undef, 0.05); syscall(101, 17, $pid, 0, 0); exit 0' 2>/dev/null]]):format(env.host_pid))
  if ok then return "attached to the host" end
  error(("ptrace failed: %s %s"):format(tostring(how), tostring(code)))
end}
