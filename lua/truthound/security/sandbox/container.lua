-- truthound.security.sandbox.container: the CONTAINER engine. The same
-- worker as PROCESS, started through bubblewrap so that it sees a mount
-- view of its own: read-only /usr (and the /lib, /bin links of a merged
-- /usr), the worker program, the plugin directory read-only, a tmpfs /tmp,
-- a fresh /proc and /dev, and binds for the policy's allowed (ro) and
-- writable (rw) paths only; every namespace unshared, capabilities
-- dropped, a new session, and death with its parent. Inside, the worker
-- confines itself exactly as under PROCESS (rlimits, cgroup, Landlock,
-- seccomp), so CONTAINER adds the mount view on top.
--
-- podman and docker are not used: they would be only where host.probe()
-- reports that a probe run works, which no host we test on offers yet
-- (docs/sandbox.md). Asking for them (opts.runtime) is an error that says
-- so, never a silent bwrap.

local core = require("truthound.native")
local errors = require("truthound.errors")
local common = require("truthound.security.sandbox.common")
local process = require("truthound.security.sandbox.process")

local M = {level = "CONTAINER"}

local function add(t, ...)
  for i = 1, select("#", ...) do t[#t + 1] = select(i, ...) end
end

-- The bwrap command line before the worker's path (docs/sandbox.md).
function M.command(ctx, worker)
  local bwrap = common.bwrap_path()
  local argv = {bwrap, "--unshare-all", "--die-with-parent", "--new-session",
                "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr"}
  for _, l in ipairs{"lib", "lib64", "lib32", "libx32", "bin", "sbin"} do
    local kind = core.fs.kind("/" .. l)
    if kind == "link" then
      add(argv, "--symlink", "usr/" .. l, "/" .. l)
    elseif kind == "directory" then
      add(argv, "--ro-bind", "/" .. l, "/" .. l)
    end
  end
  -- the mounts that hide what is below them first, then the binds
  add(argv, "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev",
      "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
      "--ro-bind", worker, worker)
  if ctx.plugin_dir then add(argv, "--ro-bind", ctx.plugin_dir, ctx.plugin_dir) end
  local access = ctx.policy:file_access()
  local writable = {}
  for _, p in ipairs(access.write) do writable[p] = true end
  for _, p in ipairs(access.read) do
    if p ~= "/" and not writable[p] then add(argv, "--ro-bind-try", p, p) end
  end
  for _, p in ipairs(access.write) do
    if p ~= "/" then add(argv, "--bind-try", p, p) end
  end
  add(argv, "--chdir", "/", "--")
  return argv
end

function M.new(opts)
  opts = opts or {}
  local runtime = opts.runtime or "bwrap"
  if runtime ~= "bwrap" then
    errors.raise("SandboxError", ("CONTAINER runtime %s is not supported by this build: only " ..
      "bubblewrap (bwrap) is. podman and docker need an OCI runtime that works on the host; none " ..
      "we could test on does (docs/sandbox.md)"):format(tostring(runtime)),
      {reason = "unavailable", runtime = runtime}, 3)
  end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.level = "CONTAINER"
  o.prefix = M.command
  o.startup_ms = o.startup_ms or 10000
  return process.new(o)
end

-- probe() -> ok, reason: bwrap is there and a worker inside it answers.
function M.probe()
  if not common.bwrap_path() then return false, "bubblewrap (bwrap) is not installed" end
  local ok, why = process.probe{level = "CONTAINER", prefix = M.command}
  if ok then return true, "bwrap " .. common.bwrap_path() .. "; " .. why end
  return false, why
end

return M
