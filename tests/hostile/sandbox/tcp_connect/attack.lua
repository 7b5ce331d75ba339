local function helper()
  local ok, how, code = os.execute("perl -e 'exit 7'")
  if how ~= "exit" or code ~= 7 then
    error(("helper did not run: %s %s %s"):format(tostring(ok), tostring(how), tostring(code)))
  end
end
return {run = function(env)
  helper()
  local ok, how, code = os.execute(([[perl -MIO::Socket::INET -e '
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => %d, Proto => "tcp",
                                  Timeout => 3) or exit 3;
    print $s "tphostile tcp\n"; close $s; exit 0' 2>/dev/null]]):format(env.port))
  if ok then return "connected" end
  error(("connect failed: %s %s"):format(tostring(how), tostring(code)))
end}
