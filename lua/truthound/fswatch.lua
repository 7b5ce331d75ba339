-- truthound.fswatch: a directory tree watched on the truthound loop.
--
--   local fswatch = require("truthound.fswatch")
--   local w = fswatch.watch("plugins", {debounce_ms = 50}, function(batch, watch)
--     for _, c in ipairs(batch.changes) do print(c.kind, c.path) end
--     if batch.overflow then rescan() end       -- may wait (tp.sleep, ...)
--   end)
--   ...
--   w:stop()
--
-- One inotify watch per directory (core/fswatch.c), new directories
-- watched and walked as they appear, events merged per path into batches
-- that close after debounce_ms without a new event. Each batch runs the
-- handler as a new loop task; nothing runs Lua inside a libuv callback.
-- docs/fswatch.md has the rules; docs/loop.md "Signals" the pattern (an
-- idle watch does not keep tp.run() alive).

local core = require("truthound.native")
local errors = require("truthound.errors")
local loop = require("truthound.loop")

local F = core.fswatch
local fswatch = {}

local DEFAULTS = {debounce_ms = 50, recursive = true, max_dirs = 4096}

local function typename(v)
  if type(v) == "number" then
    if v ~= v then return "nan" end
    return tostring(v)
  end
  return type(v)
end

local function usage(message, input, expected)
  -- Level 3: usage < check_* < fswatch.watch's caller... raised from
  -- watch() itself through check_opts, so 4 reaches the caller.
  errors.raise("UsageError", "fswatch.watch: " .. message, {input = input, expected = expected}, 4)
end

local function is_callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and mt.__call ~= nil
end

local function check_ms(v, name)
  if math.type(v) == nil or v ~= v or v < 0 or v == math.huge or v > 2 ^ 53 then
    usage(("%s: a non-negative finite number of milliseconds expected, got %s")
      :format(name, typename(v)), v, "milliseconds >= 0")
  end
  return v + 0.0
end

local KNOWN = {debounce_ms = true, max_wait_ms = true, recursive = true, max_dirs = true,
  ignore = true}

local function check_opts(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    usage(("opts: a table expected, got %s"):format(typename(opts)), opts, "table")
  end
  for k in pairs(opts) do
    if not KNOWN[k] then
      usage(("opts: unknown option %s (known: debounce_ms, max_wait_ms, recursive, "
        .. "max_dirs, ignore)"):format(tostring(k)), k, "a known option")
    end
  end
  local o = {}
  o.debounce_ms = check_ms(opts.debounce_ms == nil and DEFAULTS.debounce_ms
    or opts.debounce_ms, "debounce_ms")
  if opts.max_wait_ms == nil then
    o.max_wait_ms = math.max(1000.0, 20 * o.debounce_ms)
  else
    o.max_wait_ms = check_ms(opts.max_wait_ms, "max_wait_ms")
    if o.max_wait_ms < o.debounce_ms then
      usage(("max_wait_ms (%s) is below debounce_ms (%s)"):format(typename(opts.max_wait_ms),
        typename(o.debounce_ms)), opts.max_wait_ms, "max_wait_ms >= debounce_ms")
    end
  end
  if opts.recursive == nil then
    o.recursive = DEFAULTS.recursive
  elseif type(opts.recursive) ~= "boolean" then
    usage(("recursive: a boolean expected, got %s"):format(typename(opts.recursive)),
      opts.recursive, "boolean")
  else
    o.recursive = opts.recursive
  end
  local md = opts.max_dirs == nil and DEFAULTS.max_dirs or opts.max_dirs
  if math.type(md) ~= "integer" or md < 1 then
    usage(("max_dirs: a positive integer expected, got %s"):format(typename(md)), md,
      "integer >= 1")
  end
  o.max_dirs = md
  if opts.ignore ~= nil and not is_callable(opts.ignore) then
    usage(("ignore: a function expected, got %s"):format(typename(opts.ignore)),
      opts.ignore, "function(relpath) -> boolean")
  end
  o.ignore = opts.ignore
  return o
end

-- The root must be an existing directory (a symbolic link to one is
-- followed, the root only). Returns its real path: the watch does not
-- depend on the current directory afterwards.
local function check_root(root)
  if type(root) ~= "string" or root == "" then
    usage(("root: a directory path expected, got %s"):format(typename(root)), root,
      "a directory path")
  end
  local real, msg = core.fs.realpath(root)
  if real == nil then
    errors.raise("InputError", ("fswatch.watch: cannot watch %s: %s"):format(root, msg),
      {input = root, expected = "an existing directory", found = msg}, 3)
  end
  local kind = core.fs.kind(real)
  if kind ~= "directory" then
    errors.raise("InputError", ("fswatch.watch: cannot watch %s: not a directory (%s)")
      :format(root, kind or "gone"),
      {input = root, expected = "an existing directory", found = kind}, 3)
  end
  return real
end

local function start_failed(root, o, code, msg, relpath)
  local where = relpath ~= "" and ("%s/%s"):format(root, relpath) or root
  if code == "E2BIG" then
    errors.raise("InputError", ("fswatch.watch: %s has more than max_dirs = %d directories")
      :format(root, o.max_dirs), {input = root, expected = ("at most %d directories (max_dirs)")
      :format(o.max_dirs), limit = o.max_dirs}, 3)
  elseif code == "ENOSPC" or code == "EMFILE" then
    errors.raise("LoopError", ("fswatch.watch: cannot watch %s: the kernel's inotify limit "
      .. "was reached (%s; see fs.inotify.max_user_watches / max_user_instances)")
      :format(where, msg), {input = root, limit = code}, 3)
  elseif code == "ENOENT" or code == "ENOTDIR" or code == "EACCES" or code == "ELOOP" then
    errors.raise("InputError", ("fswatch.watch: cannot watch %s: %s"):format(where, msg),
      {input = root, expected = "a readable directory", found = msg}, 3)
  end
  errors.raise("LoopError", ("fswatch.watch: cannot watch %s: %s"):format(where, msg),
    {input = root}, 3)
end

-- A watch of truthound.loop's kind (loop.watch_arm, loop.watch_stop,
-- loop.WatchMethods: active, dropped).
local Watch = setmetatable({__name = "truthound.FsWatch"}, {__index = loop.WatchMethods})
Watch.__index = Watch

-- The ready batch, through the ignore filter, becomes one handler task.
-- A batch left empty by the filter (and not overflowed) runs nothing.
local function dispatch(w)
  local batch = w._native:take()
  if batch == nil then return end
  local ignore = w._ignore
  if ignore then
    local kept = {}
    for _, c in ipairs(batch.changes) do
      if not ignore(c.path) then kept[#kept + 1] = c end
    end
    batch.changes = kept
  end
  if #batch.changes == 0 and not batch.overflow then return end
  w._batches = w._batches + 1
  loop.spawn(w._handler, batch, w)
end

-- fswatch.watch(root, opts, handler) -> watch. See docs/fswatch.md.
function fswatch.watch(root, opts, handler)
  if handler == nil and is_callable(opts) then opts, handler = nil, opts end
  local o = check_opts(opts)
  if not is_callable(handler) then
    usage(("handler: a function expected, got %s"):format(typename(handler)), handler,
      "function(batch, watch)")
  end
  local real = check_root(root)
  local native, code, msg, relpath = F.watch(real, o.debounce_ms, o.max_wait_ms,
    o.recursive, o.max_dirs)
  if native == nil then start_failed(root, o, code, msg, relpath) end
  local w = setmetatable({root = root, path = real, _native = native, _handler = handler,
    _ignore = o.ignore, _active = true, _batches = 0}, Watch)
  -- the loop's turn calls dispatch once a batch is ready; an ignore
  -- function that raises fails a task of its own, the watch goes on
  loop.watch_arm(w, dispatch)
  return w
end

-- watch:stop(): no batch is delivered after it (a batch still gathering
-- is dropped; handler tasks already spawned run on), every handle and the
-- inotify descriptor are released at once. true, or false if it was
-- stopped already.
function Watch:stop()
  return loop.watch_stop(self)
end

-- `local w <close> = fswatch.watch(...)` stops at the end of the block.
function Watch:__close()
  self:stop()
end

-- Watch:active(); Watch:dropped() (loop.WatchMethods): events and
-- directories the watch could not keep (a batch beyond 65536 paths,
-- directories beyond max_dirs or the kernel's limits, a kernel queue
-- overflow); each also sets the batch's overflow flag.

-- Directories watched right now (0 once stopped).
function Watch:dirs()
  return self._native:dirs()
end

function Watch:__tostring()
  return ("fs watch (%s, %s): %p"):format(self.root, self._active and "active" or "stopped",
    self)
end

return fswatch
