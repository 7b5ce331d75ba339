-- truthound.dependencies.DependencyResolver through its Lua API: input
-- forms, what the dependency types mean, the result's fields, bad input,
-- the step budget, the graph questions (can_load, install and uninstall
-- order) and registry files. The solver itself: tests/c/test_resolve.c,
-- resolver_property_spec.lua, resolver_solver_md_spec.lua.

local deps = require("truthound.dependencies")
local resolver = require("truthound.dependencies.resolver")
local explain = require("truthound.dependencies.explain")
local versioning = require("truthound.versioning")
local errors = require("truthound.errors")

local DependencyResolver = deps.DependencyResolver
local DependencyGraph = deps.DependencyGraph

local function raised(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return e
end

local function info(id, version, dependencies)
  return {id = id, version = version, dependencies = dependencies}
end

local function resolve(infos, opts, ropts)
  return DependencyResolver.new(ropts):resolve(infos, opts)
end

describe("DependencyResolver.new", function()
  it("has the seed's defaults", function()
    local r = DependencyResolver.new()
    assert.is_true(r.strict)
    assert.is_true(r.allow_missing_optional)
    assert.is_false(r.include_dev)
    assert.are.equal(DependencyResolver.DEFAULT_MAX_STEPS, r.max_steps)
  end)

  it("refuses unknown options and wrong types, naming them", function()
    local e = raised(DependencyResolver.new, {strcit = true})
    assert.is_true(errors.is(e, "UsageError"))
    assert.matches("unknown option \"strcit\"", e.message, 1, true)
    assert.matches("strict: expected true or false", raised(DependencyResolver.new, {strict = 1}).message, 1, true)
    assert.matches("max_steps", raised(DependencyResolver.new, {max_steps = -1}).message, 1, true)
    assert.matches("max_steps", raised(DependencyResolver.new, {max_steps = 1.5}).message, 1, true)
  end)

  it("is reached from require('truthound.dependencies') and its own module", function()
    assert.are.equal(resolver.DependencyResolver, DependencyResolver)
  end)
end)

describe("resolve", function()
  it("picks the highest version that works, and a load order from DependencyGraph", function()
    local r = resolve({
      info("app", "1.0.0", {json = "^1.2", log = "^2"}),
      info("app", "2.0.0", {json = "^2", log = "^2"}),
      info("json", "1.2.0"), info("json", "1.5.1"),
      info("log", "2.0.0", {json = ">=1.0.0 <2.0.0"}), info("log", "2.1.0", {json = "^1.4"}),
    })
    assert.is_true(r.success)
    -- app 2.0.0 needs json ^2, which no version is: app 1.0.0
    assert.are.same({app = "1.0.0", json = "1.5.1", log = "2.1.0"}, r.selected)
    assert.are.same({"json", "log", "app"}, r.load_order)
    assert.are.same({}, r.conflicts)
    assert.are.same({}, r.missing)
    assert.are.equal("", r.explanation)
    assert.are.equal("json", r.plugins.json.id)
    assert.are.equal("1.5.1", r.plugins.json.version)
    assert.is_true(r.stats.steps > 0)
    assert.are.same({"app", "log", "json"}, r.stats.decision_order)
  end)

  it("takes every dependency form: constraint, type, table, DependencyType, objects", function()
    local DT = deps.DependencyType
    local r = resolve({
      {id = "a", version = versioning.parse_version("1.0.0"), dependencies = {
        b = "^1", c = "required", d = {constraint = versioning.parse_constraint("^2"), type = DT.OPTIONAL},
        e = {type = "DEV", constraint = "*"}, f = "Optional",
      }},
      info("b", "1.0.0"), info("c", "0.1.0"), info("d", "2.0.0"),
    })
    assert.is_true(r.success)
    assert.are.same({a = "1.0.0", b = "1.0.0", c = "0.1.0", d = "2.0.0"}, r.selected)
    assert.are.same({"b", "c", "d", "a"}, r.load_order)
    -- f is optional and missing: a warning; e is dev: not looked at
    assert.are.same({"a 1.0.0: optional dependency f is missing"}, r.warnings)
  end)

  it("takes manifest records as they are", function()
    local scan = require("truthound.dependencies.scan")
    local infos = scan.plugins({"examples/plugins"})
    local manifest = require("truthound.manifest")
    local records = {manifest.load("examples/plugins/report"), manifest.load("examples/plugins/csv-stats"),
                     manifest.load("examples/plugins/greeter")}
    for _, list in ipairs({infos, records}) do
      local r = resolve(list)
      assert.is_true(r.success)
      assert.are.same({["csv-stats"] = "0.3.1", greeter = "1.0.0", report = "1.1.0"}, r.selected)
      assert.are.same({"greeter", "csv-stats", "report"}, r.load_order)
    end
  end)

  it("without requirements requires every plugin found, with them only what they need", function()
    local infos = {info("a", "1.0.0", {b = "*"}), info("b", "1.0.0"), info("c", "1.0.0")}
    assert.are.same({a = "1.0.0", b = "1.0.0", c = "1.0.0"}, resolve(infos).selected)
    local r = resolve(infos, {requirements = {{name = "a"}}})
    assert.are.same({a = "1.0.0", b = "1.0.0"}, r.selected)
    r = resolve(infos, {requirements = {"c", {"b", "^1"}}})
    assert.are.same({b = "1.0.0", c = "1.0.0"}, r.selected)
  end)

  it("counts prereleases as versions when no constraint narrows them", function()
    local infos = {info("a", "1.0.0"), info("a", "1.1.0-rc.1")}
    assert.are.equal("1.1.0-rc.1", resolve(infos).selected.a)
    -- "*" is node-semver's: no prereleases
    assert.are.equal("1.0.0", resolve(infos, {requirements = {{name = "a", constraint = "*"}}}).selected.a)
  end)

  it("prefers the loaded version when it is allowed, and says when it is not kept", function()
    local infos = {info("a", "1.0.0"), info("a", "1.1.0"), info("a", "2.0.0"), info("b", "1.0.0", {a = "^1"})}
    local r = resolve(infos, {loaded = {a = "1.0.0"}})
    assert.are.equal("1.0.0", r.selected.a)
    assert.are.same({}, r.warnings)
    r = resolve({info("a", "1.0.0"), info("a", "2.0.0"), info("b", "1.0.0", {a = "^2"})}, {loaded = {a = "1.0.0"}})
    assert.are.equal("2.0.0", r.selected.a)
    assert.are.same({"a: selected 2.0.0 instead of the loaded 1.0.0"}, r.warnings)
    r = resolve({info("a", "1.0.0")}, {loaded = {a = "0.9.0"}})
    assert.are.same({"a: the loaded version 0.9.0 is not among the candidates (1.0.0)"}, r.warnings)
  end)

  it("uses the first of two infos with the same version, and warns", function()
    local r = resolve({{id = "a", version = "1.0.0+x", dir = "/one/a"}, {id = "a", version = "1.0.0", dir = "/two/a"}})
    assert.is_true(r.success)
    assert.are.equal("1.0.0+x", r.selected.a)
    assert.are.equal("/one/a", r.plugins.a.dir)
    assert.are.same({"a 1.0.0+x is given twice (/one/a and /two/a); the first is used"}, r.warnings)
  end)

  describe("dependency types", function()
    it("required: a missing one fails with the explanation and the missing list", function()
      local r = resolve({info("a", "1.0.0", {x = "^1.0"})})
      assert.is_false(r.success)
      assert.are.same({}, r.selected)
      assert.are.equal("Because a 1.0.0 depends on x ^1.0 but x is missing and a is required, version solving failed.",
                       r.explanation)
      assert.are.equal(1, #r.missing)
      assert.are.same({"a", "1.0.0", "x", "^1.0", "required"},
        {r.missing[1].id, r.missing[1].version, r.missing[1].dependency, r.missing[1].constraint, r.missing[1].type})
      assert.are.equal("missing", r.conflicts[1].kind)
      assert.are.equal("requirement", r.conflicts[2].kind)
    end)

    it("required, strict = false: a missing one is reported, not fatal", function()
      local r = resolve({info("a", "1.0.0", {x = "^1.0"})}, nil, {strict = false})
      assert.is_true(r.success)
      assert.are.same({a = "1.0.0"}, r.selected)
      assert.are.same({"a"}, r.load_order)
      assert.are.same({{id = "a", version = "1.0.0", dependency = "x", constraint = "^1.0", type = "required"}}, r.missing)
      assert.are.same({"a 1.0.0: required dependency x ^1.0 is missing (ignored: strict is false)"}, r.warnings)
    end)

    it("optional: constrains the version only when the dependency is selected", function()
      local infos = {info("a", "1.0.0", {log = {constraint = "^2", type = "optional"}}),
                     info("log", "1.0.0"), info("log", "2.3.0"), info("log", "3.0.0")}
      assert.are.same({a = "1.0.0", log = "2.3.0"}, resolve(infos).selected)
      assert.are.same({"log", "a"}, resolve(infos).load_order)
      -- required only a: log stays out, and is not constrained
      assert.are.same({a = "1.0.0"}, resolve(infos, {requirements = {{name = "a"}}}).selected)
    end)

    it("optional with allow_missing_optional = false counts as required", function()
      local infos = {info("a", "1.0.0", {log = {constraint = "^2", type = "optional"}})}
      assert.is_true(resolve(infos).success)
      local r = resolve(infos, nil, {allow_missing_optional = false})
      assert.is_false(r.success)
      assert.matches("a 1.0.0 depends on log ^2 but log is missing", r.explanation, 1, true)
    end)

    it("dev: ignored unless include_dev, then required", function()
      local infos = {info("a", "1.0.0", {testkit = {constraint = "^1", type = "dev"}}), info("testkit", "0.5.0")}
      local r = resolve(infos)
      assert.is_true(r.success)
      r = resolve(infos, nil, {include_dev = true})
      assert.is_false(r.success)
      assert.matches("a 1.0.0 depends on testkit ^1 (dev) but no version of testkit matches it (found: 0.5.0)",
                     r.explanation, 1, true)
      assert.are.equal("dev", r.conflicts[1].type)
    end)
  end)

  it("fails closed on a cycle among the selected plugins: versions fit, no load order", function()
    local r = resolve({info("a", "1.0.0", {b = "^1"}), info("b", "1.0.0", {a = "^1"})})
    assert.is_false(r.success)
    assert.are.same({a = "1.0.0", b = "1.0.0"}, r.selected)
    assert.are.same({}, r.load_order)
    assert.are.equal("cycle", r.conflicts[1].kind)
    assert.are.same({"a", "b", "a"}, r.conflicts[1].cycle)
    assert.are.equal("The selected plugins depend on each other in a cycle: a -> b -> a.\n"
                     .. "So no load order exists, and resolution failed.", r.explanation)
  end)

  it("lists the facts of a failure in conflicts, with the versions they cover", function()
    local r = resolve({
      info("plugin-a", "1.0.0", {["plugin-b"] = "^2.0"}), info("plugin-a", "2.0.0", {["plugin-b"] = "^3.0"}),
      info("plugin-a", "2.1.0", {["plugin-b"] = "^3.0"}), info("plugin-b", "2.5.0"), info("plugin-b", "3.1.0"),
      info("plugin-c", "1.4.0", {["plugin-b"] = "<3.0.0"}),
    }, {requirements = {{name = "plugin-a", constraint = ">=2.0.0"}, {name = "plugin-c"}}})
    assert.is_false(r.success)
    assert.are.equal("Because plugin-c 1.4.0 depends on plugin-b <3.0.0 and plugin-a >=2.0.0 depends on "
      .. "plugin-b ^3.0, plugin-c 1.4.0 is incompatible with plugin-a >=2.0.0.\n"
      .. "So, because plugin-a >=2.0.0 and plugin-c are required, version solving failed.", r.explanation)
    local a = r.conflicts[2]
    assert.are.same({"dependency", "plugin-a", ">=2.0.0", "plugin-b", "^3.0", "required"},
                    {a.kind, a.id, a.versions, a.dependency, a.constraint, a.type})
    assert.are.same({"2.0.0", "2.1.0"}, a.covers)
    assert.are.equal("plugin-a >=2.0.0 depends on plugin-b ^3.0", a.message)
    assert.are.equal("requirement", r.conflicts[3].kind)
    assert.is_nil(r.conflicts[3].id)
    assert.is_table(r.proof)
  end)

  it("explains a tangled failure with a numbered line and chains of facts", function()
    local infos = resolver.read_registry("tests/vectors/resolve/tangled.lua")
    local r = resolve(infos, {requirements = {{name = "ui"}, {name = "core", constraint = "^2"}}})
    assert.is_false(r.success)
    assert.are.equal(table.concat({
      "    Because cache 1.0.0 depends on auth ^1.1 which depends on cache ^3, cache 1.0.0 is forbidden.",
      "    And because cache 1.1.0 depends on db ^1.1 which depends on ui 2.x but no version of ui matches it "
        .. "(found: 1.0.0, 1.2.0, 3.0.0), cache <=1.1.0 is forbidden.",
      "    And because ui 3.0.0 depends on cache >=1.0.0 <=2.0.0 and ui 1.0.0 depends on db ^2 but no version "
        .. "of db matches it (found: 1.2.0), ui 1.0.0 || 3.0.0 requires cache >=1.2.0 <=2.0.0.",
      "    And because ui 1.2.0 depends on http >=1.1.0 and http 2.0.0 depends on core ^3, every version of ui "
        .. "requires cache >=1.2.0 <=2.0.0, http 3.0.0 or core ^3.",
      "(1) So, because cache 2.0.0 depends on auth ~1.2.0 but no version of auth matches it (found: 1.0.0, 1.1.0, "
        .. "3.0.0) and cache 1.2.0 depends on http ^3, every version of ui requires http 3.0.0 or core ^3.",
      "",
      "    Because json 2.0.0 depends on http ^2 and json 2.1.0 depends on ui ^2 but no version of ui matches it "
        .. "(found: 1.0.0, 1.2.0, 3.0.0), json >=2.0.0 <=2.1.0 requires http ^2.",
      "    And because http 3.0.0 depends on json ^2, http 3.0.0 is forbidden.",
      "    And because every version of ui requires http 3.0.0 or core ^3 (1), every version of ui requires core ^3.",
      "    So, because core ^2 and ui are required, version solving failed.",
    }, "\n"), r.explanation)
  end)

  it("summarises a proof too deep to write out", function()
    local infos = {}
    for i = 1, 40 do
      for m = 1, 3 do
        local d = {}
        if i < 40 then d[("p%02d"):format(i + 1)] = "^" .. (i + 1 == 40 and m + 10 or m) end
        infos[#infos + 1] = info(("p%02d"):format(i), m .. ".0.0", d)
      end
    end
    local saved = explain.MAX_DEPTH
    explain.MAX_DEPTH = 10
    local ok, r = pcall(resolve, infos, {requirements = {"p01"}})
    explain.MAX_DEPTH = saved
    assert.is_true(ok, tostring(r))
    assert.is_false(r.success)
    assert.matches("^No selection of versions works, and the proof is too long to write out %(%d+ "
      .. "incompatibilities, nested more than 10 deep%)%. It rests on %d+ facts, listed in conflicts; the first: ", r.explanation)
    assert.is_true(#r.conflicts > 40)
    assert.matches("version solving failed%.$", resolve(infos, {requirements = {"p01"}}).explanation)
  end)

  it("is deterministic: the same answer whatever the order of the infos", function()
    local infos = {
      info("a", "1.0.0", {b = "^1", c = "^1"}), info("a", "2.0.0", {b = "^2", c = "^2"}),
      info("b", "1.0.0"), info("b", "2.0.0", {c = "^1"}), info("c", "1.0.0"), info("c", "2.0.0"),
      info("d", "1.0.0", {a = "^2"}), info("d", "0.9.0", {a = "^1"}),
    }
    local first = resolve(infos)
    for shift = 1, #infos - 1 do
      local shuffled = {}
      for i = 1, #infos do shuffled[i] = infos[(i * 3 + shift) % #infos + 1] end
      local r = resolve(shuffled)
      assert.are.same(first.selected, r.selected)
      assert.are.same(first.load_order, r.load_order)
      assert.are.equal(first.explanation, r.explanation)
    end
  end)

  it("gives up with a DependencyError past its step budget, never hangs", function()
    local infos = {}
    for i = 1, 30 do
      for m = 1, 6 do
        local d = {}
        if i < 30 then d[("p%02d"):format(i + 1)] = "^" .. (i + 1 == 30 and m + 10 or m) end
        infos[#infos + 1] = info(("p%02d"):format(i), m .. ".0.0", d)
      end
    end
    local e = raised(function() return resolve(infos, {requirements = {"p01"}}, {max_steps = 50}) end)
    assert.is_true(errors.is(e, "DependencyError"))
    assert.are.equal(50, e.max_steps)
    assert.is_true(e.steps > 50)
    assert.matches("resolve: too complex: gave up after %d+ steps %(max_steps = 50%)", e.message)
    assert.is_false(resolve(infos, {requirements = {"p01"}}).success)
  end)

  describe("bad input", function()
    it("names the plugin, the field and the column", function()
      local e = raised(function() return resolve({info("a", "1.0.0"), info("b", "1.2")}) end)
      assert.is_true(errors.is(e, "VersionError"))
      assert.are.equal('resolve: plugin_infos[2] (b): invalid version "1.2" at column 4: '
        .. "expected '.' and a patch version number, found end of input", e.message)
      assert.are.equal(4, e.position)
      e = raised(function() return resolve({info("a", "1.0.0", {z = "^1", b = ">=1.0.0,,<2", c = "^^1"})}) end)
      assert.is_true(errors.is(e, "ConstraintSyntaxError"))
      -- the first bad dependency by name, whatever order pairs() takes
      assert.are.equal('resolve: plugin_infos[1] (a 1.0.0): dependencies.b: invalid version constraint '
        .. '">=1.0.0,,<2" at column 9: expected a version or an operator after \',\', found \',\'', e.message)
      assert.are.equal(">=1.0.0,,<2", e.input)
      e = raised(function() return resolve({info("a", "1.0.0")}, {requirements = {{name = "a", constraint = "^x.1"}}}) end)
      assert.is_true(errors.is(e, "ConstraintSyntaxError"))
      assert.matches("^resolve: requirements%[1%]: invalid version constraint", e.message)
      e = raised(function() return resolve({info("a", "1.0.0")}, {loaded = {a = "one"}}) end)
      assert.matches("^resolve: loaded.a: invalid version", e.message)
    end)

    it("refuses what is not plugin info", function()
      for _, case in ipairs({
        {{"x"}, "plugin_infos%[1%]: expected a table"},
        {{{version = "1.0.0"}}, "plugin_infos%[1%]: id: expected a plugin id"},
        {{{id = "a"}}, "plugin_infos%[1%] %(a%): version: expected a version string"},
        {{{id = "", version = "1.0.0"}}, "expected a plugin id of 1 to 4096 bytes"},
        {{info("a", "1.0.0", "b")}, "dependencies: expected a table"},
        {{info("a", "1.0.0", {b = 12})}, "dependencies.b: expected a version constraint, a dependency type"},
        {{info("a", "1.0.0", {b = {type = "mandatory"}})}, "dependencies.b: type: unknown dependency type"},
        {{info("a", "1.0.0", {[1] = "^1"})}, "dependencies: expected plugin ids as keys"},
      }) do
        local e = raised(function() return resolve(case[1]) end)
        assert.is_true(errors.is(e, "UsageError"), tostring(e))
        assert.matches(case[2], e.message)
      end
      assert.is_true(errors.is(raised(function() return resolve("x") end), "UsageError"))
      assert.is_true(errors.is(raised(function() return resolve({}, {requirments = {}}) end), "UsageError"))
    end)
  end)
end)

describe("graph questions", function()
  local function graph()
    local g = DependencyGraph.new()
    g:add_node("app", {version = "2.0.0", dependencies = {json = {type = "required", constraint = "^1.2"},
                                                           log = {type = "optional", constraint = "^2"},
                                                           testkit = "dev"}})
    g:add_node("json", {version = "1.4.0"})
    g:add_node("log", {version = "2.1.0", dependencies = {json = "required"}})
    g:add_node("cli", {version = "1.0.0", dependencies = {app = "required"}})
    return g
  end

  it("can_load: needed dependencies loaded at a version their constraint admits", function()
    local r, g = DependencyResolver.new(), graph()
    assert.are.same({true, {}}, {r:can_load("app", g, {json = "1.4.0"})})
    assert.are.same({false, {"json"}}, {r:can_load("app", g, {})})
    assert.are.same({false, {"json"}}, {r:can_load("app", g, {json = "2.0.0"})})
    assert.are.same({false, {"log"}}, {r:can_load("app", g, {json = "1.4.0", log = "3.0.0"})})
    assert.are.same({true, {}}, {r:can_load("app", g, {"json", "log"})})
    assert.are.same({false, {"testkit"}}, {DependencyResolver.new{include_dev = true}:can_load("app", g, {json = true})})
    assert.is_true(errors.is(raised(r.can_load, r, "nope", g, {}), "UsageError"))
  end)

  it("get_install_order: with what they need (and present optional ones), dependencies first", function()
    local r, g = DependencyResolver.new(), graph()
    assert.are.same({"json", "log", "app"}, r:get_install_order({"app"}, g))
    assert.are.same({"json", "log"}, r:get_install_order("log", g))
    g:add_node("x", {version = "1.0.0", dependencies = {ghost = "required"}})
    local e = raised(r.get_install_order, r, {"x"}, g)
    assert.is_true(errors.is(e, "MissingDependencyError"))
    assert.are.equal("ghost", e.missing[1].dependency)
    assert.are.same({"x"}, DependencyResolver.new{strict = false}:get_install_order({"x"}, g))
  end)

  it("get_uninstall_order: refuses, naming the dependents, unless forced", function()
    local r, g = DependencyResolver.new(), graph()
    local e = raised(r.get_uninstall_order, r, {"json"}, g)
    assert.is_true(errors.is(e, "DependencyError"))
    assert.are.same({"app", "cli", "log"}, e.dependents)
    assert.are.equal("get_uninstall_order: cannot uninstall json: app, cli, log depend on it; "
                     .. "pass {force = true} to uninstall them too", e.message)
    assert.are.same({"cli", "app", "log", "json"}, r:get_uninstall_order({"json"}, g, {force = true}))
    -- an optional dependent does not stop it
    assert.are.same({"cli"}, r:get_uninstall_order("cli", g))
    assert.are.same({"cli", "app"}, r:get_uninstall_order({"app", "cli"}, g))
    assert.are.same({"cli", "app", "log"}, r:get_uninstall_order({"log"}, g, {force = true}) and
                    r:get_uninstall_order({"app", "cli", "log"}, g))
  end)
end)

describe("registry files", function()
  local function eval(src) return resolver.eval_registry(src, "reg.lua") end

  it("read into plugin infos, sorted", function()
    local infos = eval([[return {
      b = {["1.0.0"] = {}},
      a = {["2.0.0"] = {dependencies = {b = "^1", c = {constraint = "*", type = "optional"}}}, ["1.0.0"] = {}},
    }]])
    assert.are.same({
      {id = "a", version = "1.0.0", dependencies = {}, source = "reg.lua"},
      {id = "a", version = "2.0.0", source = "reg.lua",
       dependencies = {b = {constraint = "^1", type = "required"}, c = {constraint = "*", type = "optional"}}},
      {id = "b", version = "1.0.0", dependencies = {}, source = "reg.lua"},
    }, infos)
    assert.are.same({a = "2.0.0", b = "1.0.0"}, resolve(infos).selected)
  end)

  it("reports every problem at once, with lines", function()
    local e = raised(eval, table.concat({
      "return {",
      "  Bad = {},",
      "  a = {[\"1.2\"] = {}, [\"1.0.0\"] = {deps = {}}},",
      "  b = {[\"1.0.0\"] = {dependencies = {c = \"^^1\", d = {type = \"nope\", constraint = \"*\"}}}},",
      "}",
    }, "\n"))
    assert.is_true(errors.is(e, "InputError"))
    local got = {}
    for i, p in ipairs(e.problems) do got[i] = ("%d %s"):format(p.line, p.field) end
    assert.are.same({"2 Bad", "3 a[\"1.0.0\"].deps", "3 a[\"1.2\"]", "4 b[\"1.0.0\"].dependencies.c",
                     "4 b[\"1.0.0\"].dependencies.d.type"}, got)
    assert.matches("^5 problems in reg.lua:\nreg.lua:2: Bad: expected a lowercase letter", e.message)
  end)

  it("are data: code and endless loops are refused", function()
    assert.is_true(errors.is(raised(eval, "while true do end"), "InputError"))
    assert.is_true(errors.is(raised(eval, "return {a = {['1.0.0'] = {dependencies = {b = function() end}}}}"), "InputError"))
    assert.matches("expected a table", raised(eval, "return 1").message)
  end)
end)

describe("explain.ranges", function()
  local v = {"1.0.0", "1.3.2", "1.4.0", "2.0.0", "2.1.0"}
  it("names runs of candidates", function()
    assert.are.equal("any version", explain.ranges(v, {1, 2, 3, 4, 5}))
    assert.are.equal("no version", explain.ranges(v, {}))
    assert.are.equal("1.4.0", explain.ranges(v, {3}))
    assert.are.equal(">=2.0.0", explain.ranges(v, {4, 5}))
    assert.are.equal("<=1.3.2", explain.ranges(v, {1, 2}))
    assert.are.equal(">=1.3.2 <=2.0.0", explain.ranges(v, {2, 3, 4}))
    assert.are.equal("1.0.0 || 1.4.0 || 2.1.0", explain.ranges(v, {1, 3, 5}))
  end)
end)
