-- truthound.manifest: plugin.lua, field by field, and plugin directories on
-- disk (tests/vectors/manifests/ plus links and bytecode made here).

local manifest = require("truthound.manifest")
local errors = require("truthound.errors")
local frozen = require("truthound.frozen")
local lfs = require("lfs")

local VECTORS = "tests/vectors/manifests"

local function raised(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return e
end

-- A valid manifest with t's fields on top (t.x = false removes x).
local function with(t)
  local m = {id = "demo", version = "1.0.0", entry = "main"}
  for k, v in pairs(t or {}) do
    if v == false and (k == "id" or k == "version" or k == "entry") then m[k] = nil else m[k] = v end
  end
  return m
end

-- The problems validate reports for t, as "field: message" strings.
local function problems(t, opts)
  local e = raised(manifest.validate, t, "plugin.lua", opts)
  assert.is_true(errors.is(e, "ManifestError"), tostring(e))
  local out = {}
  for i, p in ipairs(e.problems) do out[i] = (p.field and (p.field .. ": ") or "") .. p.message end
  return out, e
end

-- Exactly one problem, field and message as given.
local function one_problem(t, expected, opts)
  local got = problems(t, opts)
  assert.are.same({expected}, got)
end

---------------------------------------------------------------------------
-- Temporary plugin directories

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
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function symlink(target, path)
  -- lfs.link(old, new, true) makes a symbolic link.
  assert(lfs.link(target, path, true))
end

-- A plugin directory <tmp>/<name> holding files {["rel/path"] = text}.
local function plugin_dir(name, files)
  local dir = tmpdir() .. "/" .. name
  assert(lfs.mkdir(dir))
  for rel, text in pairs(files) do
    local sofar = dir
    for comp in rel:match("^(.*)/[^/]*$") and rel:match("^(.*)/[^/]*$"):gmatch("[^/]+") or function() end do
      sofar = sofar .. "/" .. comp
      if not lfs.attributes(sofar) then assert(lfs.mkdir(sofar)) end
    end
    write(dir .. "/" .. rel, text)
  end
  return dir
end

local MINIMAL = 'return {id = "%s", version = "1.0.0", entry = "%s"}\n'

teardown(function()
  for _, d in ipairs(tmp_dirs) do rm_rf(d) end
end)

---------------------------------------------------------------------------

describe("manifest.validate", function()
  it("accepts the required fields and fills in every default", function()
    local m = manifest.validate(with(), "x/plugin.lua")
    assert.are.equal("demo", m.id)
    assert.are.equal("1.0.0", m.version)
    assert.are.equal("main", m.entry)
    assert.are.equal("", m.description)
    assert.are.same({}, frozen.thaw(m.dependencies))
    assert.are.same({}, frozen.thaw(m.hooks))
    assert.are.same({network = false, subprocess = false, file_write = false, paths = {}, modules = {}},
                    frozen.thaw(m.capabilities))
    assert.is_nil(m.lua)
    assert.is_nil(m.lua_constraint)
    assert.is_nil(m.dir)
    assert.is_nil(m.entry_path)
    assert.are.equal("x/plugin.lua", m.source)
  end)

  it("returns a frozen record, nested tables included", function()
    local m = manifest.validate(with{dependencies = {json = "^1"}, hooks = {"load"}})
    assert.is_true(frozen.is_frozen(m))
    assert.matches("Manifest is read%-only %(field 'id'%)", raised(function() m.id = "x" end))
    assert.has_error(function() m.hooks[2] = "activate" end)
    assert.has_error(function() m.dependencies.json.constraint = "*" end)
    assert.has_error(function() m.capabilities.network = true end)
    assert.are.equal("^1", m.dependencies.json.constraint)
  end)

  it("does not keep a reference to the table it was given", function()
    local t = with{hooks = {"load"}}
    local m = manifest.validate(t)
    t.id, t.hooks[1] = "other", "activate"
    assert.are.equal("demo", m.id)
    assert.are.equal("load", m.hooks[1])
  end)

  describe("the file's value", function()
    it("must be a table", function()
      one_problem(nil, 'expected the file to return a table such as {id = "my-plugin", ' ..
                       'version = "1.0.0", entry = "main"}, got nothing')
      one_problem("x", 'expected the file to return a table such as {id = "my-plugin", ' ..
                       'version = "1.0.0", entry = "main"}, got a string')
    end)

    it("names every missing required field", function()
      assert.are.same({
        'id: missing; expected a plugin id such as "my-plugin"',
        'version: missing; expected a version such as "1.0.0"',
        'entry: missing; expected the plugin\'s main module name, such as "main"',
      }, (problems({})))
    end)

    it("refuses unknown keys, suggesting a near one", function()
      one_problem(with{dependecies = {}}, "dependecies: unknown key; expected id, version, description, " ..
                  "entry, dependencies, hooks, capabilities or lua (did you mean 'dependencies'?)")
      one_problem(with{Version = "1.0.0"}, "Version: unknown key; expected id, version, description, " ..
                  "entry, dependencies, hooks, capabilities or lua (did you mean 'version'?)")
      one_problem(with{licence = "MIT"}, "licence: unknown key; expected id, version, description, " ..
                  "entry, dependencies, hooks, capabilities or lua")
      one_problem(with{["a b"] = 1}, '["a b"]: unknown key; expected id, version, description, ' ..
                  "entry, dependencies, hooks, capabilities or lua")
    end)

    it("refuses list items", function()
      one_problem(with{[1] = "x"}, "[1]: unexpected list item; plugin.lua holds named fields " ..
                  "(id = ..., version = ...)")
    end)

    it("reports every problem in one error, one line each", function()
      local got, e = problems({id = "X", version = "1", entry = "a/b", hooks = {"nope"}, extra = true})
      assert.are.equal(5, #got)
      assert.are.equal(5, #e.problems)
      assert.are.equal("5 problems in plugin.lua:", e.message:match("^[^\n]*"))
      assert.are.equal(6, select(2, e.message:gsub("\n", "\n")) + 1)
      assert.matches("\nplugin.lua: id: expected a lowercase letter", e.message, 1, true)
      assert.matches("\nplugin.lua: hooks%[1%]: unknown hook \"nope\"", e.message)
      assert.are.equal("plugin.lua", e.source)
    end)
  end)

  describe("id", function()
    it("accepts lowercase names up to 64 bytes", function()
      for _, id in ipairs{"a", "0", "my-plugin", "a.b_c-d", "9lives", ("x"):rep(64)} do
        assert.are.equal(id, manifest.validate(with{id = id}).id)
      end
    end)

    it("refuses anything else, naming the column", function()
      local cases = {
        {"", "id: expected a plugin id (lowercase letters, digits, '.', '_', '-'), got an empty string"},
        {("x"):rep(65), "id: expected at most 64 bytes, got 65"},
        {"Foo", "id: expected a lowercase letter or digit at column 1, found 'F'"},
        {"-x", "id: expected a lowercase letter or digit at column 1, found '-'"},
        {".hidden", "id: expected a lowercase letter or digit at column 1, found '.'"},
        {"my plugin", "id: expected lowercase letters, digits, '.', '_' or '-', found ' ' at column 3"},
        {"myPlugin", "id: expected lowercase letters, digits, '.', '_' or '-', found 'P' at column 3"},
        {"a/b", "id: expected lowercase letters, digits, '.', '_' or '-', found '/' at column 2"},
        {"caf\xc3\xa9", "id: expected lowercase letters, digits, '.', '_' or '-', found byte 0xc3 at column 4"},
        {"a\0b", "id: expected lowercase letters, digits, '.', '_' or '-', found byte 0x00 at column 2"},
        {42, 'id: expected a plugin id such as "my-plugin" (a string), got an integer'},
        {true, 'id: expected a plugin id such as "my-plugin" (a string), got a boolean'},
      }
      for _, c in ipairs(cases) do one_problem(with{id = c[1]}, c[2]) end
    end)
  end)

  describe("version", function()
    it("keeps the text and the parsed Version, prerelease and build included", function()
      local m = manifest.validate(with{version = "1.2.3-rc.1+build.5"})
      assert.are.equal("1.2.3-rc.1+build.5", m.version)
      local v = m.parsed_version
      assert.are.same({1, 2, 3}, {v.major, v.minor, v.patch})
      assert.are.same({"rc", 1}, v.prerelease)
      assert.are.same({"build", "5"}, v.build)
      assert.is_true(v < require("truthound.versioning").parse_version("1.2.3"))
      assert.are.equal("0.0.1-alpha", manifest.validate(with{version = "0.0.1-alpha"}).version)
    end)

    it("refuses what SemVer refuses, with the column", function()
      one_problem(with{version = "1.2"}, 'version: invalid version "1.2" at column 4: expected ' ..
                  "'.' and a patch version number, found end of input")
      one_problem(with{version = "01.2.3"}, 'version: invalid version "01.2.3" at column 1: expected ' ..
                  "a number without leading zeros, found '0'")
      one_problem(with{version = "latest"}, 'version: invalid version "latest" at column 1: expected ' ..
                  "a major version number, found 'l'")
    end)

    it("wants one spelling per version: no 'v', no blanks", function()
      one_problem(with{version = "v1.2.3"}, 'version: expected the version as SemVer 2.0.0 writes it, ' ..
                  "\"1.2.3\" (no 'v', no blanks), found 'v' at column 1")
      one_problem(with{version = " 1.2.3"}, 'version: expected the version as SemVer 2.0.0 writes it, ' ..
                  "\"1.2.3\" (no 'v', no blanks), found ' ' at column 1")
      one_problem(with{version = "1.2.3+b "}, 'version: expected the version as SemVer 2.0.0 writes it, ' ..
                  "\"1.2.3+b\" (no 'v', no blanks), found ' ' at column 8")
    end)

    it("must be a string", function()
      one_problem(with{version = 1.5}, 'version: expected a version such as "1.2.3" (a string), got a number')
    end)
  end)

  describe("description", function()
    it("is UTF-8 text, newlines and tabs allowed", function()
      local text = "Grüße.\n\tSecond line."
      assert.are.equal(text, manifest.validate(with{description = text}).description)
      assert.are.equal(("d"):rep(1024), manifest.validate(with{description = ("d"):rep(1024)}).description)
    end)

    it("is bounded and free of control characters", function()
      one_problem(with{description = ("d"):rep(1025)}, "description: expected at most 1024 bytes, got 1025")
      one_problem(with{description = "ok\xffno"}, "description: expected UTF-8 text, found an invalid byte at byte 3")
      one_problem(with{description = "red \27[31m"},
                  "description: expected text without control characters, found byte 0x1b at byte 5")
      one_problem(with{description = "cr\r\n"},
                  "description: expected text without control characters, found byte 0x0d at byte 3")
      one_problem(with{description = {}}, "description: expected a string, got a table")
    end)
  end)

  describe("entry", function()
    it("is a module name: Lua names separated by dots", function()
      for _, name in ipairs{"main", "_init", "my_plugin.core", "a.b.c2", "A.B"} do
        assert.are.equal(name, manifest.validate(with{entry = name}).entry)
      end
    end)

    it("refuses paths, dots out of place and the manifest itself", function()
      local cases = {
        {"", 'entry: expected a module name such as "main" or "myplugin.core", got an empty string'},
        {".main", "entry: expected a letter or '_' at column 1, found '.'"},
        {"a..b", "entry: expected a letter or '_' after '.' at column 3, found '.'"},
        {"a.", "entry: expected a letter or '_' after '.' at column 3, found end of input"},
        {"../up", "entry: expected a letter or '_' at column 1, found '.'"},
        {"1st", "entry: expected a letter or '_' at column 1, found '1'"},
        {"a/b", "entry: expected a letter, digit, '_' or '.' at column 2, found '/' " ..
                "(module names are Lua names separated by '.')"},
        {"my-mod", "entry: expected a letter, digit, '_' or '.' at column 3, found '-' " ..
                   "(module names are Lua names separated by '.')"},
        {"main.lua", 'entry: expected a module name, not a file name: write "main" for main.lua'},
        {"a.b.lua", 'entry: expected a module name, not a file name: write "a.b" for a/b.lua'},
        {("m"):rep(129), "entry: expected at most 128 bytes, got 129"},
        {"plugin", "entry: \"plugin\" would be plugin.lua, the manifest itself; expected the " ..
                   "module that holds the plugin's code"},
        {false, 'entry: expected a module name such as "main" (a string), got a boolean'},
      }
      for _, c in ipairs(cases) do
        local t = with()
        t.entry = c[1]
        one_problem(t, c[2])
      end
    end)
  end)

  describe("dependencies", function()
    it("come in two forms and are always given back in the table form", function()
      local m = manifest.validate(with{dependencies = {
        json = "^1.2",
        ["log.core"] = {constraint = ">=2.0.0, <3", type = "optional"},
        testkit = {constraint = "*", type = "DEV"},
        util = {constraint = "~0.3"},
      }})
      local d = m.dependencies
      assert.are.same({name = "json", constraint = "^1.2", type = "required"},
                      {name = d.json.name, constraint = d.json.constraint, type = d.json.type})
      assert.are.equal(">=1.2.0 <2.0.0-0", tostring(d.json.parsed_constraint))
      assert.are.equal("optional", d["log.core"].type)
      assert.are.equal(">=2.0.0 <3.0.0-0", tostring(d["log.core"].parsed_constraint))
      assert.are.equal("dev", d.testkit.type)
      assert.are.equal("required", d.util.type)
      assert.is_true(d.util.parsed_constraint:is_satisfied_by("0.3.9"))
      local names = {}
      for name in pairs(d) do names[#names + 1] = name end
      table.sort(names)
      assert.are.same({"json", "log.core", "testkit", "util"}, names)
    end)

    it("keep the column of a constraint's syntax error", function()
      one_problem(with{dependencies = {json = ">=1.0.0,,<2"}},
                  'dependencies.json: invalid version constraint ">=1.0.0,,<2" at column 9: ' ..
                  "expected a version or an operator after ',', found ','")
      one_problem(with{dependencies = {json = {constraint = "^^1"}}},
                  'dependencies.json.constraint: invalid version constraint "^^1" at column 2: ' ..
                  "expected a version (a number, 'x', 'X' or '*'), found '^'")
      one_problem(with{dependencies = {json = ""}},
                  'dependencies.json: invalid version constraint "" at column 1: expected a version ' ..
                  "range (an empty range is refused; write '*' for any version), found end of input")
    end)

    it("name plugins by their ids", function()
      one_problem(with{dependencies = {["Json"] = "1"}},
                  'dependencies.Json: the key is not a plugin id: expected a lowercase letter or digit ' ..
                  "at column 1, found 'J'")
      one_problem(with{dependencies = {["a b"] = "1"}},
                  'dependencies["a b"]: the key is not a plugin id: expected lowercase letters, digits, ' ..
                  "'.', '_' or '-', found ' ' at column 2")
      one_problem(with{dependencies = {"json"}},
                  'dependencies[1]: expected plugin id = version constraint, such as json = "^1.2", ' ..
                  "found a list item")
    end)

    it("cannot include the plugin itself", function()
      one_problem(with{dependencies = {demo = "^1"}}, "dependencies.demo: a plugin cannot depend on itself")
    end)

    it("refuse bad types, keys and values", function()
      one_problem(with{dependencies = "json"},
                  'dependencies: expected a table of plugin id = version constraint, such as ' ..
                  '{json = "^1.2"}, got a string')
      one_problem(with{dependencies = {json = true}},
                  'dependencies.json: expected a version constraint such as "^1.2" or a table ' ..
                  '{constraint = "^1.2", type = "optional"}, got a boolean')
      one_problem(with{dependencies = {json = {type = "optional"}}},
                  'dependencies.json: missing constraint; expected {constraint = "^1.2", type = "optional"}')
      one_problem(with{dependencies = {json = {constraint = 1}}},
                  'dependencies.json.constraint: expected a version constraint such as "^1.2" (a string), ' ..
                  "got an integer")
      one_problem(with{dependencies = {json = {constraint = "1", type = "maybe"}}},
                  'dependencies.json.type: expected "required", "optional" or "dev", got "maybe"')
      one_problem(with{dependencies = {json = {constraint = "1", type = 2}}},
                  'dependencies.json.type: expected "required", "optional" or "dev", got an integer')
      one_problem(with{dependencies = {json = {constraint = "1", optional = true}}},
                  "dependencies.json.optional: unknown key; expected constraint, type or reactivate")
      one_problem(with{dependencies = {json = {constraint = "1", typ = "dev"}}},
                  "dependencies.json.typ: unknown key; expected constraint, type or reactivate (did you mean 'type'?)")
      one_problem(with{dependencies = {json = {constraint = "1", reactivate = "yes"}}},
                  "dependencies.json.reactivate: expected true or false, got a string")
      assert.is_true(manifest.validate(with{dependencies = {json = {constraint = "1",
        reactivate = true}}}).dependencies.json.reactivate)
    end)
  end)

  describe("hooks", function()
    it("is a list of lifecycle names, given back in lifecycle order", function()
      local m = manifest.validate(with{hooks = {"restore", "activate", "save", "load", "unload", "deactivate"}})
      assert.are.same(manifest.HOOKS, frozen.thaw(m.hooks))
      assert.is_true(m:has_hook("save"))
      local m2 = manifest.validate(with{hooks = {"activate"}})
      assert.is_true(m2:has_hook("activate"))
      assert.is_false(m2:has_hook("load"))
      assert.is_false(m2:has_hook("nonsense"))
    end)

    it("refuses unknown, repeated and misspelt names", function()
      one_problem(with{hooks = {"start"}}, 'hooks[1]: unknown hook "start"; expected load, activate, ' ..
                  "deactivate, unload, save or restore")
      one_problem(with{hooks = {"activte"}}, 'hooks[1]: unknown hook "activte"; expected load, activate, ' ..
                  "deactivate, unload, save or restore (did you mean 'activate'?)")
      one_problem(with{hooks = {"Load"}}, 'hooks[1]: unknown hook "Load"; expected load, activate, ' ..
                  "deactivate, unload, save or restore (did you mean 'load'?)")
      one_problem(with{hooks = {"load", "activate", "load"}}, 'hooks[3]: "load" is listed twice (first at hooks[1])')
      one_problem(with{hooks = {"load", 3}}, "hooks[2]: expected a hook name (load, activate, deactivate, " ..
                  "unload, save or restore), got an integer")
    end)

    it("wants save and restore together", function()
      one_problem(with{hooks = {"activate", "save"}},
                  'hooks[2]: "save" needs "restore": a reload hands what save returns to restore')
      one_problem(with{hooks = {"restore"}},
                  'hooks[1]: "restore" needs "save": a reload hands what save returns to restore')
    end)

    it("explains the list form when given a map", function()
      one_problem(with{hooks = {activate = true, load = true}},
                  'hooks: expected a list of hook names, not a map: write hooks = {"activate", "load"}')
      one_problem(with{hooks = {"load", x = 1}},
                  'hooks.x: expected a list of hook names such as {"activate", "deactivate"}, found the key "x"')
      one_problem(with{hooks = "load"},
                  'hooks: expected a list of hook names such as {"activate", "deactivate"}, got a string')
    end)
  end)

  describe("capabilities", function()
    it("ask for network, subprocess, file writes, paths and modules", function()
      local m = manifest.validate(with{capabilities = {
        network = true, subprocess = false, file_write = true,
        paths = {"/var/lib/app/", "/", "/etc/app"}, modules = {"cjson", "socket.http"},
      }})
      assert.are.same({network = true, subprocess = false, file_write = true,
                       paths = {"/var/lib/app", "/", "/etc/app"}, modules = {"cjson", "socket.http"}},
                      frozen.thaw(m.capabilities))
      local m2 = manifest.validate(with{capabilities = {network = true}})
      assert.are.same({network = true, subprocess = false, file_write = false, paths = {}, modules = {}},
                      frozen.thaw(m2.capabilities))
    end)

    it("refuses paths that are not absolute and normal", function()
      local cases = {
        {"relative/dir", 'capabilities.paths[1]: expected an absolute path (starting with \'/\'), got "relative/dir"'},
        {"", 'capabilities.paths[1]: expected an absolute path such as "/var/lib/app", got an empty string'},
        {"/srv/../etc", "capabilities.paths[1]: expected a path without '.' or '..' components, found '..' at column 6"},
        {"/srv/./x", "capabilities.paths[1]: expected a path without '.' or '..' components, found '.' at column 6"},
        {"/srv//x", "capabilities.paths[1]: expected a path without empty components, found '//' at column 5"},
        {"/a\0b", "capabilities.paths[1]: expected a path without NUL bytes, found one at column 3"},
        {"/" .. ("p"):rep(4095), "capabilities.paths[1]: expected at most 4095 bytes, got 4096"},
        {7, "capabilities.paths[1]: expected a string, got an integer"},
      }
      for _, c in ipairs(cases) do one_problem(with{capabilities = {paths = {c[1]}}}, c[2]) end
      one_problem(with{capabilities = {paths = {"/x", "/x/"}}},
                  'capabilities.paths[2]: "/x/" is listed twice (first at capabilities.paths[1])')
      one_problem(with{capabilities = {paths = "/x"}},
                  'capabilities.paths: expected a list of absolute paths such as {"/var/lib/app"}, got a string')
    end)

    it("refuses module names that are not module names", function()
      one_problem(with{capabilities = {modules = {"socket..http"}}},
                  "capabilities.modules[1]: expected a letter or '_' after '.' at column 8, found '.'")
      one_problem(with{capabilities = {modules = {"cjson", "cjson"}}},
                  'capabilities.modules[2]: "cjson" is listed twice (first at capabilities.modules[1])')
      one_problem(with{capabilities = {modules = {"lpeg.lua"}}},
                  'capabilities.modules[1]: expected a module name, not a file name: write "lpeg" for lpeg.lua')
    end)

    it("refuses unknown capabilities and non-booleans", function()
      one_problem(with{capabilities = {netwrok = true}}, "capabilities.netwrok: unknown capability; " ..
                  "expected network, subprocess, file_write, paths or modules (did you mean 'network'?)")
      one_problem(with{capabilities = {network = "yes"}}, "capabilities.network: expected true or false, got a string")
      one_problem(with{capabilities = {file_write = 1}}, "capabilities.file_write: expected true or false, got an integer")
      one_problem(with{capabilities = {"network"}}, "capabilities[1]: unknown capability; " ..
                  "expected network, subprocess, file_write, paths or modules")
      one_problem(with{capabilities = true}, 'capabilities: expected a table such as {network = true, ' ..
                  'paths = {"/var/lib/app"}}, got a boolean')
    end)
  end)

  describe("lua", function()
    it("is a constraint that must admit the running Lua", function()
      for _, c in ipairs{"5.4", ">=5.4", "5.x", "~5.4", ">=5.1 <5.5", "5.3 || 5.4", ">=5.4.6"} do
        local m = manifest.validate(with{lua = c})
        assert.are.equal(c, m.lua)
        assert.is_truthy(m.lua_constraint)
      end
      assert.are.equal("5.4", _VERSION:match("%d+%.%d+"))
    end)

    it("is a load error when it excludes the running Lua", function()
      one_problem(with{lua = "5.3"}, 'lua: this plugin supports Lua "5.3", which excludes Lua 5.4, ' ..
                  "the Lua running here")
      one_problem(with{lua = "<5.4"}, 'lua: this plugin supports Lua "<5.4", which excludes Lua 5.4, ' ..
                  "the Lua running here")
      one_problem(with{lua = "5.4"}, 'lua: this plugin supports Lua "5.4", which excludes Lua 5.5, ' ..
                  "the Lua running here", {lua_version = "5.5"})
      assert.are.equal(">=5.5", manifest.validate(with{lua = ">=5.5"}, nil, {lua_version = "5.5"}).lua)
    end)

    it("must be a constraint", function()
      one_problem(with{lua = "lua5.4"}, 'lua: invalid version constraint "lua5.4" at column 1: ' ..
                  "expected a version (a number, 'x', 'X' or '*'), found 'l'")
      one_problem(with{lua = 5.4}, 'lua: expected a version constraint such as "5.4" or ">=5.4" ' ..
                  "(a string), got a number")
    end)
  end)
end)

---------------------------------------------------------------------------

describe("manifest.load", function()
  it("reads a plugin directory with every field", function()
    local m = manifest.load(VECTORS .. "/good/hello")
    local cwd = lfs.currentdir()
    assert.are.equal("hello", m.id)
    assert.are.equal("1.2.0-beta.1+build.7", m.version)
    assert.are.same({"beta", 1}, m.parsed_version.prerelease)
    assert.are.equal("Greets whoever activates it.\nSecond line.", m.description)
    assert.are.equal("hello.main", m.entry)
    assert.are.equal("hello/main.lua", m.entry_file)
    assert.are.equal(cwd .. "/" .. VECTORS .. "/good/hello", m.dir)
    assert.are.equal(m.dir .. "/hello/main.lua", m.entry_path)
    assert.are.equal(VECTORS .. "/good/hello/plugin.lua", m.source)
    assert.are.equal("required", m.dependencies.json.type)
    assert.are.equal("optional", m.dependencies["log.core"].type)
    assert.are.equal("dev", m.dependencies.testkit.type)
    assert.are.same({"load", "activate", "deactivate", "save", "restore"}, frozen.thaw(m.hooks))
    assert.are.same({network = true, subprocess = false, file_write = false,
                     paths = {"/var/lib/hello", "/etc/hello"}, modules = {"cjson", "socket.http"}},
                    frozen.thaw(m.capabilities))
    assert.are.equal(">=5.4", m.lua)
    -- Lines of keys stay available for later errors about the plugin.
    assert.are.equal(8, m:line_of("dependencies.json"))
    assert.are.equal(9, m:line_of('dependencies["log.core"].type'))
    assert.are.equal(2, m:line_of("nonsense"))
  end)

  it("finds the entry module as require would: foo.lua, then foo/init.lua", function()
    assert.are.equal("init.lua", manifest.load(VECTORS .. "/good/minimal").entry_file)
    assert.are.equal("core/init.lua", manifest.load(VECTORS .. "/good/pkg-init").entry_file)
    local dir = plugin_dir("both", {["plugin.lua"] = MINIMAL:format("both", "m"),
                                    ["m.lua"] = "", ["m/init.lua"] = ""})
    assert.are.equal("m.lua", manifest.load(dir).entry_file)
  end)

  it("takes relative paths, trailing slashes and '.'", function()
    local a = manifest.load(VECTORS .. "/good/minimal/")
    assert.are.equal(VECTORS .. "/good/minimal/plugin.lua", a.source)
    local cwd = lfs.currentdir()
    assert(lfs.chdir(VECTORS .. "/good/minimal"))
    local ok, b = pcall(manifest.load, ".")
    lfs.chdir(cwd)
    assert.is_true(ok, tostring(b))
    assert.are.equal(a.dir, b.dir)
    assert.are.equal("./plugin.lua", b.source)
  end)

  it("reports every problem of a file with its line", function()
    local e = raised(manifest.load, VECTORS .. "/bad/everything")
    local f = VECTORS .. "/bad/everything/plugin.lua"
    assert.is_true(errors.is(e, "ManifestError"))
    assert.are.equal(f, e.source)
    assert.are.equal(2, e.line)
    assert.are.equal("id", e.field)
    local expected = {
      "17 problems in " .. f .. ":",
      f .. ":2: id: expected a lowercase letter or digit at column 1, found 'E'",
      f .. ':3: version: invalid version "v1.2" at column 5: expected \'.\' and a patch version number, found end of input',
      f .. ":4: description: expected text without control characters, found byte 0x07 at byte 5",
      f .. ':5: entry: expected a module name, not a file name: write "main" for main.lua',
      f .. ':7: dependencies.json: invalid version constraint "^^1" at column 2: expected a version (a number, \'x\', \'X\' or \'*\'), found \'^\'',
      f .. ':8: dependencies["Bad Name"]: the key is not a plugin id: expected a lowercase letter or digit at column 1, found \'B\'',
      f .. ":9: dependencies.log.kind: unknown key; expected constraint, type or reactivate",
      f .. ':10: dependencies.util.type: expected "required", "optional" or "dev", got "maybe"',
      f .. ':12: hooks[2]: unknown hook "start"; expected load, activate, deactivate, unload, save or restore',
      f .. ':12: hooks[3]: "activate" is listed twice (first at hooks[1])',
      f .. ":14: capabilities.netwrok: unknown capability; expected network, subprocess, file_write, paths or modules (did you mean 'network'?)",
      f .. ":15: capabilities.file_write: expected true or false, got a string",
      f .. ':16: capabilities.paths[1]: expected an absolute path (starting with \'/\'), got "relative/dir"',
      f .. ":16: capabilities.paths[2]: expected a path without '.' or '..' components, found '..' at column 6",
      f .. ":17: capabilities.modules[1]: expected a letter or '_' after '.' at column 8, found '.'",
      f .. ':19: lua: this plugin supports Lua "5.3", which excludes Lua 5.4, the Lua running here',
      f .. ":20: licence: unknown key; expected id, version, description, entry, dependencies, hooks, capabilities or lua",
    }
    local got = {}
    for l in e.message:gmatch("[^\n]+") do got[#got + 1] = l end
    assert.are.same(expected, got)
    assert.are.equal(17, #e.problems)
    assert.are.same({source = f, line = 16, field = "capabilities.paths[2]",
                     message = "expected a path without '.' or '..' components, found '..' at column 6"},
                    e.problems[14])
  end)

  it("wants the directory named after the id", function()
    local e = raised(manifest.load, VECTORS .. "/bad/wrong-dir")
    assert.are.equal(VECTORS .. '/bad/wrong-dir/plugin.lua:2: id: the plugin directory is named "wrong-dir" ' ..
                     'but the id is "right-name"; a plugin lives in a directory named after its id', e.message)
    -- Either name of a linked directory will do: the link's or the target's.
    local base = tmpdir()
    symlink(lfs.currentdir() .. "/" .. VECTORS .. "/good/minimal", base .. "/alias")
    assert.are.equal("minimal", manifest.load(base .. "/alias").id)
    local store = plugin_dir("store-1a2b", {["plugin.lua"] = MINIMAL:format("linked", "main"), ["main.lua"] = ""})
    symlink(store, base .. "/linked")
    local m = manifest.load(base .. "/linked")
    assert.are.equal(store, m.dir)
    assert.are.equal(base .. "/linked/plugin.lua", m.source)
  end)

  it("checks that the entry module exists and is a regular file", function()
    assert.are.equal(VECTORS .. '/bad/no-entry/plugin.lua:4: entry: module "missing.mod" not found: expected ' ..
                     "missing/mod.lua or missing/mod/init.lua in the plugin directory",
                     raised(manifest.load, VECTORS .. "/bad/no-entry").message)
    assert.are.equal(VECTORS .. '/bad/entry-is-dir/plugin.lua:4: entry: module "main": main.lua is a directory, ' ..
                     "expected a regular file", raised(manifest.load, VECTORS .. "/bad/entry-is-dir").message)
    local dir = plugin_dir("fifo", {["plugin.lua"] = MINIMAL:format("fifo", "main")})
    assert.is_true(os.execute("mkfifo '" .. dir .. "/main.lua'"))
    assert.matches('entry: module "main": main.lua is not a regular file, expected a regular file$',
                   raised(manifest.load, dir).message)
  end)

  it("refuses symbolic links on the way to the entry module, escaping or not", function()
    local outside = tmpdir()
    write(outside .. "/evil.lua", "return os.execute('true')")
    -- A file link leading out of the plugin.
    local a = plugin_dir("a", {["plugin.lua"] = MINIMAL:format("a", "main")})
    symlink(outside .. "/evil.lua", a .. "/main.lua")
    local e = raised(manifest.load, a)
    assert.are.equal(a .. "/plugin.lua:1: entry: module \"main\": main.lua is a symbolic link; a plugin may " ..
                     "not contain links (one could lead outside its directory)", e.message)
    assert.are.equal("entry", e.field)
    -- A directory link on the way (lib -> outside, entry lib.evil).
    local b = plugin_dir("b", {["plugin.lua"] = MINIMAL:format("b", "lib.evil")})
    symlink(outside, b .. "/lib")
    assert.matches('entry: module "lib.evil": lib is a symbolic link;', raised(manifest.load, b).message)
    -- A relative link that climbs out with "..".
    local c = plugin_dir("c", {["plugin.lua"] = MINIMAL:format("c", "main")})
    symlink("../../" .. outside:match("[^/]+$") .. "/evil.lua", c .. "/main.lua")
    assert.matches('main.lua is a symbolic link;', raised(manifest.load, c).message)
    -- Even a link that stays inside: plugin trees hold regular files only.
    local d = plugin_dir("d", {["plugin.lua"] = MINIMAL:format("d", "main"), ["real.lua"] = ""})
    symlink("real.lua", d .. "/main.lua")
    assert.matches('main.lua is a symbolic link;', raised(manifest.load, d).message)
    -- A dangling link is refused as a link, not reported missing.
    local f = plugin_dir("f", {["plugin.lua"] = MINIMAL:format("f", "main")})
    symlink("/nonexistent/x.lua", f .. "/main.lua")
    assert.matches('main.lua is a symbolic link;', raised(manifest.load, f).message)
    -- The second candidate is checked too: m/init.lua through a link.
    local g = plugin_dir("g", {["plugin.lua"] = MINIMAL:format("g", "m"), ["m/x"] = ""})
    symlink(outside .. "/evil.lua", g .. "/m/init.lua")
    assert.matches('m/init.lua is a symbolic link;', raised(manifest.load, g).message)
  end)

  it("refuses a plugin.lua that is a link, and directories that are not plugins", function()
    local dir = plugin_dir("l", {["main.lua"] = "", ["real.lua"] = MINIMAL:format("l", "main")})
    symlink("real.lua", dir .. "/plugin.lua")
    assert.are.equal(dir .. "/plugin.lua: is a symbolic link; a plugin may not contain links",
                     raised(manifest.load, dir).message)
    local e = raised(manifest.load, VECTORS .. "/bad/no-manifest")
    assert.is_true(errors.is(e, "ManifestError"))
    assert.are.equal(VECTORS .. "/bad/no-manifest/plugin.lua: missing; a plugin directory holds its manifest " ..
                     "in plugin.lua", e.message)
    e = raised(manifest.load, VECTORS .. "/nonexistent")
    assert.is_true(errors.is(e, "ManifestError"))
    assert.matches("^" .. VECTORS .. "/nonexistent: not a plugin directory: no such file or directory", e.message)
    e = raised(manifest.load, VECTORS .. "/README.md")
    assert.are.equal(VECTORS .. "/README.md: not a plugin directory: not a directory", e.message)
    e = raised(manifest.load, 42)
    assert.is_true(errors.is(e, "UsageError"))
  end)

  it("gives ManifestErrors for broken and hostile files, within their budgets", function()
    local function fails(dir, pattern)
      local e = raised(manifest.load, dir)
      assert.is_true(errors.is(e, "ManifestError"), tostring(e))
      assert.matches(pattern, e.message)
      return e
    end
    local b = VECTORS .. "/bad/"
    local e = fails(b .. "loop", "plugin.lua:1: ran past its budget of %d+ instructions")
    assert.are.equal(1, e.line)
    fails(b .. "huge-string", "plugin.lua: needed more than its memory limit of %d+ bytes")
    e = fails(b .. "function", "plugin.lua:5: hooks.activate: is a function; a data file holds only tables, " ..
                               "strings, numbers and booleans")
    assert.are.equal("hooks.activate", e.field)
    fails(b .. "globals", "plugin.lua:1: attempt to index a nil value %(global 'os'%)")
    fails(b .. "syntax", "plugin.lua:3: '}' expected %(to close '{' at line 1%) near 'version'")
    fails(b .. "not-a-table", "plugin.lua:1: expected the file to return a table such as")
    fails(b .. "list-deps", "3 problems in")
    -- Precompiled bytecode, made by this Lua.
    local dump = string.dump(load(MINIMAL:format("bytecode", "main")))
    local dir = plugin_dir("bytecode", {["plugin.lua"] = dump, ["main.lua"] = ""})
    fails(dir, "plugin.lua: is precompiled bytecode; a data file must be Lua source text")
    -- Bigger than a manifest may be, though mostly comment.
    local big = MINIMAL:format("big", "main") .. "--" .. ("x"):rep(manifest.MAX_SIZE)
    dir = plugin_dir("big", {["plugin.lua"] = big, ["main.lua"] = ""})
    fails(dir, "plugin.lua: is %d+ bytes; a data file may have at most 65536")
    -- Metatables, string methods and load are simply not there.
    dir = plugin_dir("meta", {["plugin.lua"] = "return setmetatable({}, {__index = function() end})"})
    fails(dir, "attempt to call a nil value %(global 'setmetatable'%)")
    dir = plugin_dir("rep", {["plugin.lua"] = 'return {id = ("x"):rep(1e9)}'})
    fails(dir, "plugin.lua:1: attempt to index a string value")
    dir = plugin_dir("cycle", {["plugin.lua"] = "local t = {} t.self = t return t"})
    fails(dir, "a table that contains itself")
  end)

  it("reports at most 100 problems of a generated file, and counts the rest", function()
    local src = 'local t = {id = "many", version = "1.0.0", entry = "main"}\n' ..
                'for i = 1, 20000 do t["k" .. i] = i end\nreturn t\n'
    local dir = plugin_dir("many", {["plugin.lua"] = src, ["main.lua"] = ""})
    local e = raised(manifest.load, dir)
    assert.are.equal(100, #e.problems)
    assert.are.equal(19900, e.more_problems)
    assert.are.equal(dir .. "/plugin.lua: and 19900 more problems not shown", e.message:match("[^\n]*$"))
    assert.are.equal("100 problems in " .. dir .. "/plugin.lua:", e.message:match("^[^\n]*"))
  end)

  it("passes budgets through to the loader", function()
    local e = raised(manifest.load, VECTORS .. "/good/hello", {instructions = 5})
    assert.matches("ran past its budget of 5 instructions", e.message)
    e = raised(manifest.load, VECTORS .. "/good/hello", {max_size = 100})
    assert.matches("a data file may have at most 100$", e.message)
  end)
end)
