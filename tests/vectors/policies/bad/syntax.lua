return {
  isolation_level = "PROCESS"
  allow_network = false,
}
-- expect: 3: : '}' expected (to close '{' at line 1) near 'allow_network'
