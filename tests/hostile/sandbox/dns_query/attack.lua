local function helper()
  local ok, how, code = os.execute("perl -e 'exit 7'")
  if how ~= "exit" or code ~= 7 then
    error(("helper did not run: %s %s %s"):format(tostring(ok), tostring(how), tostring(code)))
  end
end
return {run = function(env)
  helper()
  -- header: id 0x7470, RD, one question; example.com A IN
  local ok, how, code = os.execute(([[perl -MIO::Socket::INET -e '
    my $q = pack("n6", 0x7470, 0x0100, 1, 0, 0, 0) . "\x07example\x03com\x00" . pack("n2", 1, 1);
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => %d, Proto => "udp") or exit 3;
    defined(send($s, $q, 0)) or exit 4; exit 0' 2>/dev/null]]):format(env.dns_port))
  if ok then return "query sent" end
  error(("query failed: %s %s"):format(tostring(how), tostring(code)))
end}
