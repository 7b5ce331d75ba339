local function helper()
  local ok, how, code = os.execute("perl -e 'exit 7'")
  if how ~= "exit" or code ~= 7 then
    error(("helper did not run: %s %s %s"):format(tostring(ok), tostring(how), tostring(code)))
  end
end
return {run = function(env)
  helper()
  local ok, how, code = os.execute(([[perl -MIO::Socket::INET -e '
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => %d, Proto => "udp") or exit 3;
    defined(send($s, "tphostile udp", 0)) or exit 4; exit 0' 2>/dev/null]]):format(env.udp_port))
  if ok then return "sent" end
  error(("send failed: %s %s"):format(tostring(how), tostring(code)))
end}
