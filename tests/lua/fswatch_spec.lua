-- truthound.fswatch: a directory tree watched on the loop (inotify).
-- Every test works in a fresh directory under /tmp and runs the real loop
-- (tp.sleep, tp.run). File operations made from Lua while the loop does
-- not run queue their events in the kernel, so "one batch" is checked
-- without racing the debounce; after the first batch the loop runs well
-- past the debounce to see that no second batch comes. No durations are
-- asserted.

local tp = require("truthound")
local errors = require("truthound.errors")
local core = require("truthound.native")
local fswatch = require("truthound.fswatch")

local DEBOUNCE = 20
local QUIET = 150            -- ms of loop after a batch: nothing else may come

local root, watches = nil, {}

local function path(rel) return root .. "/" .. rel end

local function write(rel, data)
  local f = assert(io.open(path(rel), "w"))
  f:write(data or "x")
  f:close()
end

local function mkdir(rel) assert(core.fs.mkdir(path(rel), 448)) end

local function sh(cmd)
  assert(os.execute(cmd), cmd)
end

local function watch(opts, handler)
  local w = fswatch.watch(root, opts, handler)
  watches[#watches + 1] = w
  return w
end

-- A watch whose batches land in a list.
local function collect(opts)
  local got = {}
  opts = opts or {}
  if opts.debounce_ms == nil then opts.debounce_ms = DEBOUNCE end
  local w = watch(opts, function(batch) got[#got + 1] = batch end)
  return w, got
end

local function until_(cond)
  for _ = 1, 1000 do
    if cond() then return end
    tp.sleep(5)
  end
  error("condition never held")
end

-- Wait for n batches, then make sure no other one follows.
local function batches(got, n)
  until_(function() return #got >= n end)
  tp.sleep(QUIET)
  assert.are.equal(n, #got)
  return got
end

-- path -> kind of one batch, checking that each path is there once.
local function kinds(batch)
  local t = {}
  for _, c in ipairs(batch.changes) do
    assert.is_nil(t[c.path], "path listed twice: " .. c.path)
    t[c.path] = c.kind
  end
  return t
end

local function fd_count()
  return #assert(core.fs.list("/proc/self/fd"))
end

before_each(function()
  root = assert(core.fs.mkdtemp("/tmp/fswatch-spec-", 448))
end)

after_each(function()
  for _, w in ipairs(watches) do w:stop() end
  watches = {}
  pcall(tp.run)
  sh("rm -rf '" .. root .. "'")
end)

describe("fswatch: batches", function()
  it("reports a write to a file as one batch", function()
    write("a.lua", "1")
    local _, got = collect()
    write("a.lua", "2")
    batches(got, 1)
    assert.are.same({{path = "a.lua", kind = "change"}}, got[1].changes)
    assert.is_false(got[1].overflow)
  end)

  it("makes 20 rapid writes within the debounce one batch", function()
    write("a.lua")
    local _, got = collect({debounce_ms = 100})
    for i = 1, 20 do write("a.lua", tostring(i)) end
    batches(got, 1)
    assert.are.same({{path = "a.lua", kind = "change"}}, got[1].changes)
  end)

  it("keeps writes a debounce apart in separate batches", function()
    write("a.lua")
    local _, got = collect()
    write("a.lua", "1")
    batches(got, 1)
    write("a.lua", "2")
    batches(got, 2)
    assert.are.same({a = nil, ["a.lua"] = "change"}, kinds(got[2]))
  end)

  it("reports creation, deletion and rename of files", function()
    write("old.lua")
    write("gone.lua")
    local _, got = collect()
    write("new.lua")
    os.remove(path("gone.lua"))
    assert(os.rename(path("old.lua"), path("moved.lua")))
    batches(got, 1)
    assert.are.same({["new.lua"] = "create", ["gone.lua"] = "delete",
      ["old.lua"] = "rename", ["moved.lua"] = "rename"}, kinds(got[1]))
    -- first-seen order
    assert.are.same({"new.lua", "gone.lua", "old.lua", "moved.lua"},
      {got[1].changes[1].path, got[1].changes[2].path, got[1].changes[3].path,
       got[1].changes[4].path})
  end)

  it("leaves out a file that came and went within one batch", function()
    local _, got = collect()
    write("keep.lua")
    write("scratch.tmp")
    os.remove(path("scratch.tmp"))
    batches(got, 1)
    assert.are.same({["keep.lua"] = "create"}, kinds(got[1]))
  end)

  it("reports a rename over an existing file (atomic save) as a change of the target", function()
    write("init.lua", "old")
    local _, got = collect()
    write(".init.lua.tmp123", "new")
    assert(os.rename(path(".init.lua.tmp123"), path("init.lua")))
    batches(got, 1)
    assert.are.same({["init.lua"] = "change"}, kinds(got[1]))
  end)

  it("reports vim's save (rename to backup~, write, delete backup~) as one change", function()
    write("init.lua", "old")
    local _, got = collect()
    assert(os.rename(path("init.lua"), path("init.lua~")))
    write("init.lua", "new")
    os.remove(path("init.lua~"))
    batches(got, 1)
    assert.are.same({["init.lua"] = "change"}, kinds(got[1]))
  end)

  it("reports delete then create of the same path as a change", function()
    write("conf.lua", "old")
    local _, got = collect()
    os.remove(path("conf.lua"))
    write("conf.lua", "new")
    batches(got, 1)
    assert.are.same({["conf.lua"] = "change"}, kinds(got[1]))
  end)

  it("runs each batch as its own task, which may wait", function()
    local seen, tasks = {}, {}
    watch({debounce_ms = DEBOUNCE}, function(batch, w)
      tasks[#tasks + 1] = require("truthound.loop").current()
      tp.sleep(5)
      seen[#seen + 1] = {batch = batch, watch = w}
    end)
    write("a.lua")
    until_(function() return #seen == 1 end)
    assert.is_truthy(tasks[1])
    assert.are.equal(watches[1], seen[1].watch)
    assert.are.same({["a.lua"] = "create"}, kinds(seen[1].batch))
  end)
end)

describe("fswatch: directories", function()
  it("watches a new subdirectory and reports a file created right after it", function()
    local w, got = collect()
    assert.are.equal(1, w:dirs())
    -- No loop runs between the two: the file exists before the watch of
    -- the new directory can, so only the walk of it can report the file.
    mkdir("sub")
    write("sub/plugin.lua")
    mkdir("sub/deeper")
    write("sub/deeper/x.lua")
    batches(got, 1)
    assert.are.same({sub = "create", ["sub/plugin.lua"] = "create",
      ["sub/deeper"] = "create", ["sub/deeper/x.lua"] = "create"}, kinds(got[1]))
    assert.are.equal(3, w:dirs())
    -- and the new directories are watched from now on
    write("sub/deeper/x.lua", "2")
    batches(got, 2)
    assert.are.same({["sub/deeper/x.lua"] = "change"}, kinds(got[2]))
  end)

  it("reports the tree watched at start, nested, without reporting it", function()
    mkdir("a"); mkdir("a/b"); mkdir("a/b/c")
    write("a/b/c/f.lua")
    local w, got = collect()
    assert.are.equal(4, w:dirs())
    write("a/b/c/f.lua", "2")
    batches(got, 1)
    assert.are.same({["a/b/c/f.lua"] = "change"}, kinds(got[1]))
  end)

  it("reports a deleted subdirectory and stops watching it", function()
    mkdir("sub"); mkdir("sub/inner")
    write("sub/a.lua"); write("sub/inner/b.lua")
    local w, got = collect()
    assert.are.equal(3, w:dirs())
    sh("rm -rf '" .. path("sub") .. "'")
    batches(got, 1)
    assert.are.same({sub = "delete", ["sub/a.lua"] = "delete", ["sub/inner"] = "delete",
      ["sub/inner/b.lua"] = "delete"}, kinds(got[1]))
    assert.are.equal(1, w:dirs())
  end)

  it("follows a directory renamed within the tree, and forgets one moved out", function()
    mkdir("a"); mkdir("b"); mkdir("a/sub")
    write("a/sub/f.lua")
    local outside = assert(core.fs.mkdtemp("/tmp/fswatch-out-", 448))
    local w, got = collect()
    assert(os.rename(path("a/sub"), path("b/sub")))
    batches(got, 1)
    assert.are.same({["a/sub"] = "rename", ["a/sub/f.lua"] = "delete",
      ["b/sub"] = "rename", ["b/sub/f.lua"] = "create"}, kinds(got[1]))
    write("b/sub/f.lua", "2")
    batches(got, 2)
    assert.are.same({["b/sub/f.lua"] = "change"}, kinds(got[2]))
    assert.are.equal(4, w:dirs())
    assert(os.rename(path("b/sub"), outside .. "/sub"))
    batches(got, 3)
    assert.are.same({["b/sub"] = "rename", ["b/sub/f.lua"] = "delete"}, kinds(got[3]))
    assert.are.equal(3, w:dirs())
    local f = assert(io.open(outside .. "/sub/f.lua", "w")); f:write("3"); f:close()
    tp.sleep(QUIET)
    assert.are.equal(3, #got)
    sh("rm -rf '" .. outside .. "'")
  end)

  it("does not follow symbolic links below the root", function()
    local outside = assert(core.fs.mkdtemp("/tmp/fswatch-out-", 448))
    sh("ln -s '" .. outside .. "' '" .. path("link") .. "'")
    local w, got = collect()
    assert.are.equal(1, w:dirs())
    local f = assert(io.open(outside .. "/f", "w")); f:write("x"); f:close()
    tp.sleep(QUIET)
    assert.are.equal(0, #got)
    os.remove(path("link"))
    batches(got, 1)
    assert.are.same({link = "delete"}, kinds(got[1]))
    sh("rm -rf '" .. outside .. "'")
  end)

  it("watches only the root with recursive = false", function()
    mkdir("sub")
    local w, got = collect({recursive = false})
    assert.are.equal(1, w:dirs())
    write("sub/a.lua")
    mkdir("new")
    write("new/b.lua")
    write("top.lua")
    batches(got, 1)
    assert.are.same({new = "create", ["top.lua"] = "create"}, kinds(got[1]))
    assert.are.equal(1, w:dirs())
  end)
end)

describe("fswatch: limits and errors", function()
  it("refuses a tree with more than max_dirs directories, naming the bound", function()
    mkdir("a"); mkdir("b"); mkdir("c")
    local ok, e = pcall(fswatch.watch, root, {max_dirs = 3}, function() end)
    assert.is_false(ok)
    assert.is_true(errors.is(e, "InputError"))
    assert.matches("max_dirs = 3", e.message, 1, true)
    assert.are.equal(3, e.limit)
    local w = fswatch.watch(root, {max_dirs = 4}, function() end)
    assert.are.equal(4, w:dirs())
    w:stop()
  end)

  it("reports overflow when a new directory is over max_dirs, and goes on", function()
    local w, got = collect({max_dirs = 2})
    mkdir("one")
    mkdir("two")
    write("two/f.lua")
    batches(got, 1)
    assert.is_true(got[1].overflow)
    assert.are.equal(2, w:dirs())
    assert.is_true(w:dropped() >= 1)
    write("top.lua")
    batches(got, 2)
    assert.is_false(got[2].overflow)
    assert.are.same({["top.lua"] = "create"}, kinds(got[2]))
  end)

  it("reports a kernel queue overflow and watches the whole tree again after it", function()
    mkdir("sub")
    local w, got = collect()
    -- The kernel queues at most fs.inotify.max_queued_events (16384 by
    -- default) while nobody reads: each new file makes two events.
    local limit = tonumber(io.open("/proc/sys/fs/inotify/max_queued_events"):read("a"))
    if limit > 100000 then pending("max_queued_events is too large to overflow here") return end
    for i = 1, limit // 2 + 100 do
      local f = assert(io.open(path(("f%05d"):format(i)), "w")); f:close()
    end
    mkdir("later")                   -- lost in the overflow: found by the new walk
    batches(got, 1)
    assert.is_true(got[1].overflow)
    assert.is_true(w:dropped() >= 1)
    assert.are.equal(3, w:dirs())
    write("later/x.lua")
    batches(got, 2)
    assert.is_false(got[2].overflow)
    assert.are.same({["later/x.lua"] = "create"}, kinds(got[2]))
  end)

  it("raises InputError naming a missing root", function()
    local missing = root .. "/nope"
    local ok, e = pcall(fswatch.watch, missing, {}, function() end)
    assert.is_false(ok)
    assert.is_true(errors.is(e, "InputError"))
    assert.are.equal(missing, e.input)
    assert.matches(missing, e.message, 1, true)
  end)

  it("raises InputError naming a root that is not a directory", function()
    write("file")
    local ok, e = pcall(fswatch.watch, path("file"), {}, function() end)
    assert.is_false(ok)
    assert.is_true(errors.is(e, "InputError"))
    assert.are.equal(path("file"), e.input)
    assert.matches("not a directory", e.message, 1, true)
  end)

  it("raises UsageError for bad arguments", function()
    local function usage(...)
      local ok, e = pcall(fswatch.watch, ...)
      assert.is_false(ok)
      assert.is_true(errors.is(e, "UsageError"), tostring(e))
      return e
    end
    usage(nil, {}, function() end)
    usage(42, {}, function() end)
    usage(root, {}, "not a function")
    usage(root, {debounce_ms = -1}, function() end)
    usage(root, {debounce_ms = 0 / 0}, function() end)
    usage(root, {debounce_ms = math.huge}, function() end)
    usage(root, {max_dirs = 0}, function() end)
    usage(root, {max_dirs = 1.5}, function() end)
    usage(root, {recursive = "yes"}, function() end)
    usage(root, {ignore = 3}, function() end)
    usage(root, {debounce_ms = 100, max_wait_ms = 10}, function() end)
    assert.matches("debouce", usage(root, {debouce = 1}, function() end).message, 1, true)
    assert.are.equal(0, #watches)
  end)

  it("drops what the ignore function refuses, and skips a batch left empty", function()
    local seen = {}
    local _, got = collect({ignore = function(p)
      seen[#seen + 1] = p
      return p:match("%.sw[px]$") ~= nil or p:match("~$") ~= nil
    end})
    write("a.lua")
    write(".a.lua.swp")
    batches(got, 1)
    assert.are.same({["a.lua"] = "create"}, kinds(got[1]))
    write(".a.lua.swp", "more")
    write("b~")
    tp.sleep(QUIET)
    assert.are.equal(1, #got)
    assert.is_true(#seen >= 4)
  end)
end)

describe("fswatch: lifetime", function()
  it("stops delivery with :stop() and releases every descriptor", function()
    mkdir("a"); mkdir("a/b")
    tp.sleep(0)
    local before = fd_count()
    local w, got = collect()
    assert.is_true(fd_count() > before)
    write("a/b/x")
    batches(got, 1)
    assert.is_true(w:active())
    assert.is_true(w:stop())
    assert.is_false(w:stop())
    assert.is_false(w:active())
    assert.are.equal(before, fd_count())
    write("a/b/x", "again")
    write("y")
    tp.sleep(QUIET)
    assert.are.equal(1, #got)
    assert.are.equal(0, w:dirs())
  end)

  it("drops a batch still gathering when stopped", function()
    local w, got = collect({debounce_ms = 50})
    write("x")
    tp.sleep(0)
    w:stop()
    tp.sleep(QUIET)
    assert.are.equal(0, #got)
  end)

  it("does not keep tp.run() alive, and delivers once the loop runs again", function()
    local w, got = collect()
    tp.run()                      -- returns: only the watch is left
    assert.is_true(w:active())
    write("x")
    batches(got, 1)
    tp.run()
    assert.is_true(w:active())
    -- once the loop has read a batch's first event, tp.run() delivers it
    write("y")
    tp.sleep(0)
    tp.run()
    assert.are.equal(2, #got)
    assert.are.same({y = "create"}, kinds(got[2]))
  end)

  it("takes the handler as second argument when opts are left out", function()
    local got = {}
    watches[#watches + 1] = fswatch.watch(root, function(b) got[#got + 1] = b end)
    write("x")
    until_(function() return #got == 1 end)
    assert.are.same({x = "create"}, kinds(got[1]))
  end)

  it("fails a task of its own when ignore raises, and goes on", function()
    local _, got = collect({ignore = function(p)
      if p == "bad" then error("ignore failed") end
      return false
    end})
    write("bad")
    local ok, e
    for _ = 1, 200 do
      ok, e = pcall(tp.sleep, 5)
      if not ok then break end
    end
    assert.is_false(ok)
    assert.matches("ignore failed", tostring(e), 1, true)
    write("good")
    batches(got, 1)
    assert.are.same({good = "create"}, kinds(got[1]))
  end)

  it("stops at the end of a <close> block", function()
    local got = {}
    do
      local w <close> = fswatch.watch(root, {debounce_ms = DEBOUNCE},
        function(b) got[#got + 1] = b end)
      assert.is_true(w:active())
    end
    write("x")
    tp.sleep(QUIET)
    assert.are.equal(0, #got)
  end)

  it("keeps running when its object is not kept", function()
    local got = {}
    local w = fswatch.watch(root, {debounce_ms = DEBOUNCE}, function(b, watch_)
      got[#got + 1] = b
      watches[#watches + 1] = watch_
    end)
    w = nil                       -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    write("x")
    until_(function() return #got == 1 end)
  end)

  it("raises a failing handler through tp.run and goes on", function()
    local calls = 0
    watch({debounce_ms = DEBOUNCE}, function()
      calls = calls + 1
      error("handler failed")
    end)
    write("x")
    local ok, e
    for _ = 1, 200 do
      ok, e = pcall(tp.sleep, 5)
      if not ok then break end
    end
    assert.is_false(ok)
    assert.matches("handler failed", tostring(e), 1, true)
    write("y")
    for _ = 1, 200 do
      ok = pcall(tp.sleep, 5)
      if calls == 2 then break end
    end
    assert.are.equal(2, calls)
  end)
end)
