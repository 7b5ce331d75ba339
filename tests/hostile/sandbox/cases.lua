-- The table of cases of the sandbox hostile suite (run.lua runs it;
-- docs/hostile.md explains each). One entry per attack plugin:
--
--   plugin    the directory of the attack (entry module "attack")
--   what      one line for TAP
--   levels    where the attack runs: the levels that promise to stop it
--   policy    knobs for H.policy (mem MiB, time s, read, write, modules,
--             subprocess, net, fds), or function(level, env) -> knobs
--   args      function(env, level) -> packed arguments (default: env)
--   expect    the typed error and fields (or the result) it must end in,
--             or a table by level (with default)
--   after     extra checks on the host: function(env, r, level, ctx) -> why
--   control   the same action under a policy that allows it, at the same
--             level, or on the host: must succeed (what "would have
--             worked" means)
--   run       a case that drives the engine itself
return function(H)

local ALL = {"NONE", "PROCESS", "CONTAINER"}
local KERNEL = {"PROCESS", "CONTAINER"}
local IO = {"io", "os", "attack"}
local OS = {"os", "attack"}
local env = H.env
local timeout, memory, module, runtime = H.timeout, H.memory, H.module, H.runtime

-- The host runs a command (the control of the network cases).
local function host_perl(cmd)
  local ok, how, code = os.execute(cmd)
  if not ok then return ("the host's own attempt failed too (%s %s): the control proves nothing")
                        :format(tostring(how), tostring(code)) end
  return nil
end

local function listener_got(name, want)
  for _ = 1, 40 do
    local got = H.drain(name)
    if got then
      if want and not got:find(want, 1, true) then return ("the %s listener got %s"):format(name, H.show(got)) end
      return nil
    end
    os.execute("sleep 0.05")
  end
  return ("the %s listener received nothing from the host's own attempt"):format(name)
end

-- control: the same plugin, at the same level, under a policy that allows
-- the action; check(values) -> nil | why
local function allowed(knobs, check, args)
  return function(level, e, create, call, terminate)
    local ctx, err = create(level, nil or knobs.plugin, knobs)
    if not ctx then return "control: create_sandbox failed: " .. H.show(err) end
    local r = call(level, ctx, "attack.run", args and args(e) or {e, n = 1})
    terminate(level, ctx)
    if not r[1] then return "control: the allowed action failed: " .. H.show(r[2]) end
    return check(r[2], r)
  end
end

local function with_plugin(plugin, knobs) knobs.plugin = plugin; return knobs end

local function net_case(plugin, what, listener, fail_text, host_cmd, want)
  return {plugin = plugin, what = what, levels = KERNEL,
          policy = {modules = OS, subprocess = true, net = false},
          expect = runtime(fail_text),
          control = function() return host_perl(host_cmd()) or listener_got(listener, want) end,
          control_what = "the host's own identical attempt reaches the listener"}
end

local MIB = 1024 * 1024
local function no_secret(values)
  for i = 1, values.n do
    local v = values[i]
    if type(v) == "string" then
      for _, s in ipairs(H.SECRETS) do
        if s and v:find(s, 1, true) then return "the result carries a secret: " .. s end
      end
    end
  end
  return nil
end

local cases = {
  -- Time
  {plugin = "loop_plain", what = "while true do end", levels = ALL, policy = {time = 1}, expect = timeout(1)},
  {plugin = "loop_pcall", what = "the timeout caught by pcall, loop again", levels = ALL, policy = {time = 1},
   expect = timeout(1)},
  {plugin = "loop_xpcall_handler", what = "a message handler that loops", levels = ALL, policy = {time = 1},
   expect = timeout(1)},
  {plugin = "loop_coroutine", what = "loops in nested coroutines that swallow errors", levels = ALL,
   policy = {time = 1}, expect = timeout(1)},
  {plugin = "loop_close", what = "a __close handler that loops", levels = ALL, policy = {time = 1},
   expect = timeout(1)},
  {plugin = "loop_string_rep", what = "backtracking string.find, inside C", levels = KERNEL,
   policy = {time = 1}, expect = timeout(1)},
  {plugin = "loop_gsub", what = "backtracking string.gsub, inside C", levels = KERNEL, policy = {time = 1},
   expect = timeout(1)},
  {plugin = "loop_lpeg", what = "an exponential LPeg grammar, inside C", levels = KERNEL,
   policy = {time = 1, modules = {"lpeg", "attack"}}, expect = timeout(1)},
  {plugin = "block_fifo", what = "blocked in open(2) of a FIFO", levels = KERNEL,
   policy = function(_, e) return {time = 1, modules = IO, read = {e.fifo_dir}} end, expect = timeout(1)},
  {plugin = "block_sleep", what = "blocked waiting for a child (a 600 s sleep)", levels = KERNEL,
   policy = {time = 1, modules = OS, subprocess = true}, expect = timeout(1)},

  -- Memory
  {plugin = "mem_table", what = "a table that grows forever", levels = ALL, policy = {mem = 32, time = 20},
   expect = memory(32)},
  {plugin = "mem_string", what = "a string that doubles forever", levels = ALL, policy = {mem = 32, time = 20},
   expect = memory(32)},
  {plugin = "mem_rep", what = "string.rep of 1 TiB", levels = ALL, policy = {mem = 32, time = 20},
   expect = H.any(memory(32), runtime("too large"))},
  {plugin = "mem_swallow", what = "memory refusals swallowed by pcall", levels = ALL,
   policy = {mem = 32, time = 20}, expect = memory(32)},
  {plugin = "mem_coroutine", what = "thousands of coroutines", levels = ALL, policy = {mem = 32, time = 20},
   expect = memory(32)},
  {plugin = "mem_cjson", what = "cjson.encode's malloc'd buffer (256 MiB), outside the Lua allocator",
   levels = KERNEL, policy = {mem = 32, time = 20, modules = {"cjson", "attack"}},
   args = function(e) return {{copies = 64}, n = 1} end, expect = memory(32), hwm_mb = 128},
  -- in-process nothing would hold cjson's malloc: NONE refuses the module
  {plugin = "mem_cjson", what = "cjson (mallocs outside the cap) offered in-process",
   levels = {"NONE"}, policy = {mem = 32, time = 20, modules = {"cjson", "attack"}},
   args = function(e) return {{copies = 64}, n = 1} end, expect = module("cjson"), hwm_mb = 128},
  {plugin = "mem_child", what = "1 GiB in a child process", levels = KERNEL,
   policy = {mem = 32, time = 20, modules = OS, subprocess = true},
   expect = H.any(runtime("allocation failed"), memory(32))},

  -- Processes
  {plugin = "fork_bomb", what = "a shell fork bomb (allow_subprocess = false)", levels = KERNEL,
   policy = {modules = OS}, expect = H.subprocess()},
  {plugin = "fork_many", what = "300 children with allow_subprocess = true: pids limit", levels = KERNEL,
   policy = {modules = IO, subprocess = true, time = 10},
   args = function(e) return {{children = 300, marker = e.marker}, n = 1} end,
   expect = H.result(function(v)
     if type(v[1]) ~= "number" then return "expected a count of children, got " .. H.show(v[1]) end
     if v[1] >= 300 then return ("all %d children were created: no process limit"):format(v[1]) end
     return nil
   end)},
  {plugin = "exec_shell", what = "io.popen('/bin/sh -c id')", levels = KERNEL, policy = {modules = IO},
   expect = H.subprocess()},
  {plugin = "exec_os_execute", what = "os.execute('/usr/bin/id')", levels = KERNEL, policy = {modules = OS},
   expect = H.subprocess()},
  {plugin = "exec_none", what = "os.execute / io.popen in-process", levels = {"NONE"},
   expect = runtime("nil value")},

  -- Files
  {plugin = "read_shadow", what = "io.open('/etc/shadow')", levels = KERNEL, policy = {modules = IO},
   expect = runtime("open failed")},
  {plugin = "read_host_key", what = "the host's key outside allowed_paths (mode 0644)", levels = ALL,
   policy = function(_, e) return {modules = IO, read = {e.data}} end,
   expect = {NONE = {kind = "PolicyError", fields = {field = "allowed_modules", mechanism = "lua.no_io"}},
             default = runtime("open failed")},
   control = allowed(with_plugin("read_host_key", {modules = IO, read = {env.host_dir}}),
                     function(v) if v ~= env.key_text then return "control read " .. H.show(v) end end),
   control_levels = {PROCESS = true, CONTAINER = true},
   control_what = "with the key's directory in allowed_paths the same read works"},
  {plugin = "read_dotdot", what = "allowed/../host/keys/host.key", levels = KERNEL,
   policy = function(_, e) return {modules = IO, read = {e.data}} end, expect = runtime("open failed"),
   control = allowed(with_plugin("read_dotdot", {modules = IO, read = {env.data, env.host_dir}}),
                     function(v) if v ~= env.key_text then return "control read " .. H.show(v) end end),
   control_what = "with both directories allowed the same path reads"},
  {plugin = "read_symlink", what = "a symlink in an allowed directory to the host key", levels = KERNEL,
   policy = function(_, e) return {modules = IO, read = {e.data}} end, expect = runtime("open failed"),
   control = allowed(with_plugin("read_symlink", {modules = IO, read = {env.data, env.host_dir}}),
                     function(v) if v ~= env.key_text then return "control read " .. H.show(v) end end),
   control_what = "with the target allowed too the link reads"},
  {plugin = "read_proc_host", what = "/proc/<host pid>/{environ,mem,cmdline,maps}", levels = KERNEL,
   policy = {modules = IO}, expect = runtime("open failed")},
  {plugin = "write_outside", what = "write outside writable_paths", levels = KERNEL,
   policy = function(_, e) return {modules = IO, write = {e.work}} end, expect = runtime("open failed"),
   control = allowed(with_plugin("write_outside", {modules = IO, write = {env.outside}}),
                     function(v) if v ~= "written" then return "control: " .. H.show(v) end end),
   control_what = "with outside/ writable the same write works"},
  {plugin = "write_readonly", what = "append to an allowed file, allow_file_write = false", levels = KERNEL,
   policy = function(_, e) return {modules = IO, read = {e.data}} end, expect = runtime("open failed"),
   control = allowed(with_plugin("write_readonly", {modules = IO, write = {env.data}}),
                     function(v) if v ~= "written" then return "control: " .. H.show(v) end end),
   control_what = "with data/ writable the same append works"},
  {plugin = "write_symlink", what = "write through work/evil -> outside/victim.txt", levels = KERNEL,
   policy = function(_, e) return {modules = IO, write = {e.work}} end, expect = runtime("open failed"),
   control = allowed(with_plugin("write_symlink", {modules = IO, write = {env.work, env.outside}}),
                     function(v) if v ~= "written" then return "control: " .. H.show(v) end end),
   control_what = "with outside/ writable too the link writes"},
  {plugin = "write_dotdot", what = "write work/../outside/victim.txt", levels = KERNEL,
   policy = function(_, e) return {modules = IO, write = {e.work}} end, expect = runtime("open failed"),
   control = allowed(with_plugin("write_dotdot", {modules = IO, write = {env.work, env.outside}}),
                     function(v) if v ~= "written" then return "control: " .. H.show(v) end end),
   control_what = "with outside/ writable too the path writes"},
  {plugin = "rename_out", what = "os.rename from work/ to outside/", levels = KERNEL,
   policy = function(_, e) return {modules = IO, write = {e.work}} end, expect = runtime("rename failed"),
   control = allowed(with_plugin("rename_out", {modules = IO, write = {env.work, env.outside}}),
                     function(v) if v ~= "renamed" then return "control: " .. H.show(v) end end),
   -- in a container the two directories are two bind mounts: a rename
   -- between them is EXDEV whatever the policy, so the control is PROCESS's
   control_levels = {PROCESS = true},
   control_what = "with both writable the rename works"},
  {plugin = "remove_outside", what = "os.remove outside writable_paths", levels = KERNEL,
   policy = function(_, e) return {modules = IO, write = {e.work}} end, expect = runtime("remove failed"),
   control = allowed(with_plugin("remove_outside", {modules = IO, write = {env.outside}}),
                     function(v) if v ~= "removed" then return "control: " .. H.show(v) end end),
   control_what = "with outside/ writable the remove works"},

  -- The module gate and the environment
  {plugin = "require_symlink", what = "require of a module that is a symlink to the host key", levels = ALL,
   expect = H.any({kind = "SandboxError", fields = {reason = "not_found"}}, runtime("leak"),
                  {kind = "SandboxSecurityViolation", fields = {violation_type = "module"}})},
  {plugin = "require_dotdot", what = "require('../../host/keys/host')", levels = ALL,
   args = function() return {{name = "../../host/keys/host"}, n = 1} end,
   expect = H.any({kind = "SandboxError", fields = {reason = "not_found"}},
                  {kind = "SandboxError", fields = {reason = "runtime"}},
                  {kind = "SandboxSecurityViolation", fields = {violation_type = "module"}})},
  {plugin = "require_io", what = "require('io') under the default policy", levels = ALL,
   expect = module("io")},
  {plugin = "require_debug", what = "require('debug')", levels = ALL, expect = module("debug")},
  {plugin = "require_socket", what = "require('socket') with allowed_modules = {'socket'}", levels = ALL,
   policy = {modules = {"socket", "attack"}}, expect = H.any(module("socket"), runtime("'socket' not found"))},
  {plugin = "require_package_loadlib", what = "require('package').loadlib", levels = ALL,
   expect = module("package")},
  {plugin = "reach_hidden", what = "debug/loadlib/popen/dump/execute through _ENV and metatables",
   levels = ALL, expect = H.result(function(v)
     if type(v[1]) ~= "table" then return "expected a list, got " .. H.show(v[1]) end
     if #v[1] > 0 then return "reachable: " .. table.concat(v[1], ", ") end
     return nil
   end)},
  {plugin = "patch_string_mt", what = "patch the string metatable and library", levels = ALL,
   expect = H.any(H.result(function() return nil end), runtime("")),
   after = function()
     if ("abc"):upper() ~= "ABC" then return "the host's string.upper was replaced" end
   end},
  {plugin = "load_binary", what = "load() of a binary chunk", levels = ALL,
   args = function() return {{bytecode = string.dump(function() return "pwned" end)}, n = 1} end,
   expect = runtime("binary")},
  {plugin = "load_binary_mode", what = "load(reader, 'x', 'bt') of a binary chunk", levels = ALL,
   args = function() return {{bytecode = string.dump(function() return "pwned" end)}, n = 1} end,
   expect = runtime("binary")},
  {plugin = "string_dump", what = "string.dump", levels = ALL, expect = runtime("dump")},
  {plugin = "gc_finalizer", what = "a __gc that loops (finalizers run unhooked)", levels = ALL,
   expect = H.any(H.result(function(v) if v[1] ~= "returned" then return H.show(v[1]) end end),
                  runtime(""))},
  {plugin = "collectgarbage", what = "collectgarbage('stop')", levels = ALL, expect = runtime("collectgarbage")},
  {plugin = "error_tostring_loop", what = "an error object whose __tostring and __index loop", levels = ALL,
   expect = {kind = "SandboxError", fields = {reason = "runtime"}}},
  {plugin = "error_huge", what = "an 8 MiB cyclic error value", levels = ALL, policy = {mem = 64},
   expect = {kind = "SandboxError", fields = {reason = "runtime"}},
   after = function(e, r)
     local err = r and r[2]
     if type(err) == "table" and #tostring(err.message) > 64 * 1024 then
       return ("the error message is %d bytes: not cut short"):format(#tostring(err.message))
     end
   end},
  {plugin = "stack_overflow", what = "unbounded recursion through Lua and gsub", levels = ALL,
   expect = H.any(runtime("overflow"), memory(32))},
  {plugin = "yield_to_host", what = "coroutine.yield at the top of a call", levels = ALL,
   expect = runtime("yield")},
  {plugin = "env_secret", what = "os.getenv of the host's secret", levels = ALL,
   policy = function(level) return {modules = level ~= "NONE" and OS or nil} end,
   expect = {NONE = runtime("getenv"),
             default = H.result(function(v)
               if v[1] ~= nil then return "the worker sees the host's environment: " .. H.show(v[1]) end
               return nil
             end)}},
  {plugin = "fd_inherit", what = "descriptors of the host beyond 0-3", levels = KERNEL,
   policy = {modules = IO}, expect = H.result(function(v)
     if type(v[1]) ~= "table" then return "expected a list, got " .. H.show(v[1]) end
     if #v[1] > 0 then return "open descriptors: " .. table.concat(v[1], ", ") end
     return nil
   end)},
  {plugin = "fd_exhaust", what = "open files until the limit (max_file_descriptors = 32)", levels = KERNEL,
   policy = function(_, e) return {modules = IO, read = {e.data}, fds = 32} end,
   expect = runtime("Too many open files"),
   after = function(e, r)
     local n = r and type(r[2]) == "table" and tonumber(tostring(r[2].message):match("after (%d+) opens"))
     if n and n >= 32 then return ("%d files were opened under a limit of 32"):format(n) end
   end},

  -- Results
  {plugin = "result_huge", what = "a 64 MiB result", levels = ALL, policy = {mem = 256, time = 20},
   expect = H.result_error()},
  {plugin = "result_cyclic", what = "a cyclic result", levels = ALL, expect = H.result_error()},
  {plugin = "result_deep", what = "a result nested 10000 deep", levels = ALL, expect = H.result_error()},
  {plugin = "result_function", what = "a function and a thread as results", levels = ALL,
   expect = H.result_error()},
  {plugin = "result_metatable", what = "a result whose metatable loops", levels = ALL,
   expect = H.any(H.result_error(), H.result(function(v)
     if type(v[1]) ~= "table" or v[1].a ~= 1 or getmetatable(v[1]) ~= nil then
       return "expected the plain data {a = 1}, got " .. H.show(v[1])
     end
     return nil
   end))},

  -- Network (allow_subprocess = true so that a program with sockets runs;
  -- only allow_network = false may stop it)
  net_case("tcp_connect", "TCP connect to a host listener", "tcp", "connect failed", function()
    return ([[perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => %d,
      Proto => "tcp") or exit 3; print $s "control tcp\n"; close $s' ]]):format(env.port)
  end, "control"),
  net_case("udp_send", "UDP datagram to a host listener", "udp", "send failed", function()
    return ([[perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
      PeerPort => %d, Proto => "udp") or exit 3; send($s, "control udp", 0) or exit 4' ]]):format(env.udp_port)
  end, "control"),
  net_case("dns_query", "a DNS query to a resolver on the host", "dns", "query failed", function()
    return ([[perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
      PeerPort => %d, Proto => "udp") or exit 3; send($s, pack("n6", 1, 256, 1, 0, 0, 0) .
      "\x07example\x03com\x00" . pack("n2", 1, 1), 0) or exit 4' ]]):format(env.dns_port)
  end, nil),
  net_case("unix_connect", "connect to a host service's unix socket (mode 0777)", "unix", "connect failed",
    function()
      return ([[perl -MIO::Socket::UNIX -e 'my $s = IO::Socket::UNIX->new(Peer => "%s", Type => SOCK_STREAM)
        or exit 3; print $s "control unix\n"; close $s' ]]):format(env.sock)
    end, "control"),

  -- The host process
  {plugin = "ptrace_host", what = "ptrace(PTRACE_ATTACH, host)", levels = KERNEL,
   policy = {modules = OS, subprocess = true}, expect = runtime("ptrace failed")},
  {plugin = "signal_host", what = "kill(host, 0) and SIGCONT from a child", levels = KERNEL,
   policy = {modules = OS, subprocess = true}, expect = runtime("kill failed"),
   control = function() return host_perl(("perl -e 'kill(0, %d) or exit 3'"):format(env.host_pid)) end,
   control_what = "another process of the host's uid can signal it"},
  {plugin = "die_none", what = "os.exit in-process", levels = {"NONE"}, expect = runtime("exit")},

  -- The worker dies in the middle of a call; the next call still works.
  {plugin = "die_mid_call", what = "os.exit in the middle of a call, then another call", levels = KERNEL,
   policy = {modules = OS}, run = function(level, ctx, eng, e, call)
     local r = call(level, ctx, "attack.run")
     if r[1] then return "the call returned: " .. H.show(r[2]) end
     local kind = require("truthound.errors").kind(r[2])
     if kind ~= "SandboxError" then return "expected a SandboxError, got " .. H.show(r[2]) end
     local r2 = call(level, ctx, "attack.ok")
     if not r2[1] or r2[2] ~= "still here" then
       return "the next call of the same sandbox failed: " .. H.show(r2[2])
     end
     return nil
   end},

  -- Timing out while holding the pool: other plugins' calls and the same
  -- plugin's next call complete.
  {plugin = "hold_pool", what = "a call loops while the canary and a second call run", levels = KERNEL,
   policy = {time = 2}, run = function(level, ctx, eng, e, call)
     local tp = require("truthound")
     local errors = require("truthound.errors")
     local order, whys = {}, {}
     local cctx = eng:create_sandbox("hostile.hold_pool.canary", H.policy(level, {}),
                                     {plugin_dir = e.plugins .. "/canary", entry = "canary"})
     tp.spawn(function()
       local r = call(level, ctx, "attack.run")
       order[#order + 1] = "loop"
       if r[1] or errors.kind(r[2]) ~= "SandboxTimeoutError" then
         whys[#whys + 1] = "the looping call ended with " .. H.show(r[2])
       end
     end)
     tp.spawn(function()
       for i = 1, 5 do
         local r = call(level, cctx, "canary.ping", {i, n = 1})
         if not r[1] or r[2] ~= 2 * i then whys[#whys + 1] = "canary call failed: " .. H.show(r[2]) end
       end
       order[#order + 1] = "canary"
     end)
     tp.spawn(function()
       local r = call(level, ctx, "attack.quick", {1, n = 1})
       order[#order + 1] = "quick"
       if not r[1] or r[2] ~= 2 then whys[#whys + 1] = "the plugin's next call failed: " .. H.show(r[2]) end
     end)
     local ok, err = pcall(tp.run)
     pcall(eng.terminate, eng, cctx)
     if not ok then return "the loop raised: " .. H.show(err) end
     if #whys > 0 then return table.concat(whys, "; ") end
     local at = {}
     for i, what in ipairs(order) do at[what] = i end
     if not (at.canary and at.loop and at.canary < at.loop) then
       return "the canary's calls did not complete while the loop held its worker: order " ..
              table.concat(order, ", ")
     end
     return nil
   end},
}

return cases
end
