return {
  allowed_modules = {"socket", "bad name", "", ".hidden", "a..b", "socket"},
  blocked_modules = {"os", 5},
}
-- expect: 2: allowed_modules[2]: expected a module name such as "socket" or "socket.http" (letters, digits, '_', '-', parts joined by '.'), got "bad name"
-- expect: 2: allowed_modules[3]: expected a module name such as "socket" or "socket.http" (letters, digits, '_', '-', parts joined by '.'), got ""
-- expect: 2: allowed_modules[4]: expected a module name such as "socket" or "socket.http" (letters, digits, '_', '-', parts joined by '.'), got ".hidden"
-- expect: 2: allowed_modules[5]: expected a module name such as "socket" or "socket.http" (letters, digits, '_', '-', parts joined by '.'), got "a..b"
-- expect: 2: allowed_modules[6]: duplicate entry "socket" (also allowed_modules[1])
-- expect: 3: blocked_modules[2]: expected a module name, got 5
