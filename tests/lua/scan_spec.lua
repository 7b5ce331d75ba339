-- truthound.dependencies.scan: plugin directories, and directories of
-- them, to plugin infos; broken manifests become problems, not failures.

local scan = require("truthound.dependencies.scan")
local errors = require("truthound.errors")
local lfs = require("lfs")

local tmp_dirs = {}

local function rm_rf(path)
  local mode = lfs.symlinkattributes(path, "mode")
  if mode == "directory" then
    for name in lfs.dir(path) do
      if name ~= "." and name ~= ".." then rm_rf(path .. "/" .. name) end
    end
    assert(lfs.rmdir(path))
  elseif mode then
    assert(os.remove(path))
  end
end

local function tmpdir()
  local base = os.tmpname()
  os.remove(base)
  assert(lfs.mkdir(base))
  tmp_dirs[#tmp_dirs + 1] = base
  return base
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- A plugin directory root/<id> with a valid manifest (deps: plugin.lua text).
local function plugin(root, id, version, deps)
  local dir = root .. "/" .. id
  assert(lfs.mkdir(dir))
  write(dir .. "/main.lua", "return {}\n")
  write(dir .. "/plugin.lua", ("return {\n  id = %q,\n  version = %q,\n  entry = \"main\",\n  dependencies = %s,\n}\n")
        :format(id, version, deps or "{}"))
  return dir
end

teardown(function()
  for _, d in ipairs(tmp_dirs) do rm_rf(d) end
end)

describe("scan.plugins", function()
  it("reads a plugin directory and a directory of them", function()
    local root = tmpdir()
    plugin(root, "app", "1.0.0", '{json = "^1.2", log = {constraint = "~2", type = "optional"}}')
    plugin(root, "json", "1.3.0")
    local infos, problems = scan.plugins(root)
    assert.are.same({}, problems)
    local real = root   -- os.tmpname paths are absolute, without links
    assert.are.same({
      {id = "app", version = "1.0.0", dir = real .. "/app", source = root .. "/app/plugin.lua",
       dependencies = {json = {constraint = "^1.2", type = "required"},
                       log = {constraint = "~2", type = "optional"}}},
      {id = "json", version = "1.3.0", dir = real .. "/json", source = root .. "/json/plugin.lua",
       dependencies = {}},
    }, infos)
    local one = scan.plugins({root .. "/json"})
    assert.are.equal(1, #one)
    assert.are.equal("json", one[1].id)
    -- infos are plain tables the caller may change
    one[1].version = "9.9.9"
  end)

  it("collects every version across roots, sorted by id then version", function()
    local a, b = tmpdir(), tmpdir()
    plugin(a, "json", "1.10.0")
    plugin(a, "app", "2.0.0")
    plugin(b, "json", "1.9.0")
    plugin(b, "json-extra", "0.1.0")
    local infos = scan.plugins({a, b})
    local got = {}
    for i, info in ipairs(infos) do got[i] = info.id .. " " .. info.version end
    assert.are.same({"app 2.0.0", "json 1.9.0", "json 1.10.0", "json-extra 0.1.0"}, got)
  end)

  it("skips broken manifests and reports their problems with file and line", function()
    local root = tmpdir()
    plugin(root, "good", "1.0.0")
    local bad = plugin(root, "bad", "1.0")
    plugin(root, "worse", "1.0.0", '{x = "^^1"}')
    local infos, problems = scan.plugins(root)
    assert.are.equal(1, #infos)
    assert.are.equal("good", infos[1].id)
    assert.are.equal(2, #problems)
    assert.are.equal(bad .. "/plugin.lua", problems[1].source)
    assert.are.equal(3, problems[1].line)
    assert.are.equal("version", problems[1].field)
    assert.matches('invalid version "1.0"', problems[1].message, 1, true)
    assert.are.equal("dependencies.x", problems[2].field)
    assert.are.equal(5, problems[2].line)
  end)

  it("keeps the first of two copies of one version, and says so", function()
    local a, b = tmpdir(), tmpdir()
    plugin(a, "json", "1.0.0")
    plugin(b, "json", "1.0.0")
    local infos, problems = scan.plugins({a, b, a})   -- a twice: seen once
    assert.are.equal(1, #infos)
    assert.are.equal(a .. "/json", infos[1].dir)
    assert.are.equal(1, #problems)
    assert.are.equal(b .. "/json/plugin.lua", problems[1].source)
    assert.are.equal("version", problems[1].field)
    assert.are.equal(3, problems[1].line)
    assert.matches("is also in " .. a .. "/json; the first one found is used", problems[1].message, 1, true)
  end)

  it("reports paths that hold no plugin, and ignores hidden and unrelated directories", function()
    local root = tmpdir()
    assert(lfs.mkdir(root .. "/docs"))
    assert(lfs.mkdir(root .. "/.cache"))
    write(root .. "/.cache/plugin.lua", "return {}")
    write(root .. "/README", "hi")
    local infos, problems = scan.plugins({root, root .. "/README", root .. "/nope"})
    assert.are.same({}, infos)
    assert.are.same({
      {source = root, message = "no plugins here: neither plugin.lua nor a directory holding one"},
      {source = root .. "/README", message = "not a directory; expected a plugin directory or a directory of them"},
      {source = root .. "/nope", message = "cannot open: No such file or directory"},
    }, problems)
  end)

  it("refuses arguments that are not paths", function()
    for _, bad in ipairs({3, {1}}) do
      local ok, e = pcall(scan.plugins, bad)
      assert.is_false(ok)
      assert.is_true(errors.is(e, "UsageError"))
    end
  end)
end)
