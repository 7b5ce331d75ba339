return {run = function(env)
  local p = io.popen(([[perl -e '
    my $n = 0;
    for (1 .. %d) { my $p = fork; last unless defined $p;
      if (!$p) { $0 = "%s-fork"; sleep 20; exit 0 } $n++ }
    print "$n\n"' 2>/dev/null]]):format(env.children, env.marker))
  local n = p:read("n")
  p:close()
  return n
end}
