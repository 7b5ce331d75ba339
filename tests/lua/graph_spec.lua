-- truthound.dependencies: DependencyType and DependencyGraph through the
-- Lua API (the topology's C core has its own tests in tests/c/test_graph.c;
-- tests/e2e/tsort.sh compares the tsort mode with GNU tsort).

local deps = require("truthound.dependencies")
local graph_mod = require("truthound.dependencies.graph")
local errors = require("truthound.errors")
local versioning = require("truthound.versioning")
local frozen = require("truthound.frozen")

local DependencyGraph = deps.DependencyGraph
local DependencyType = deps.DependencyType

local function raised(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return e
end

-- A graph from {id = {deps...}} where deps maps names to types.
local function make(spec, order)
  local g = DependencyGraph.new()
  local ids = order
  if not ids then
    ids = {}
    for id in pairs(spec) do ids[#ids + 1] = id end
    table.sort(ids)
  end
  for _, id in ipairs(ids) do g:add_node(id, {dependencies = spec[id]}) end
  return g
end

local function position(list)
  local pos = {}
  for i, id in ipairs(list) do pos[id] = i end
  return pos
end

-- A small deterministic generator (xorshift), so failures reproduce.
local function rng(seed)
  local s = seed
  return function(n)
    s = s ~ (s << 13); s = s ~ (s >> 7); s = s ~ (s << 17)
    return (s & 0x7fffffff) % n + 1
  end
end

local function shuffled(list, rand)
  local t = {table.unpack(list)}
  for i = #t, 2, -1 do
    local j = rand(i)
    t[i], t[j] = t[j], t[i]
  end
  return t
end

describe("DependencyType", function()
  it("is string constants, as plugin.lua writes them", function()
    assert.are.equal("required", DependencyType.REQUIRED)
    assert.are.equal("optional", DependencyType.OPTIONAL)
    assert.are.equal("dev", DependencyType.DEV)
    assert.are.same({"required", "optional", "dev"}, DependencyType.list())
  end)

  it("parses any case and suggests a spelling", function()
    assert.are.equal("optional", DependencyType.parse("OPTIONAL"))
    assert.are.equal("dev", DependencyType.parse("Dev"))
    local t, why = DependencyType.parse("requried")
    assert.is_nil(t)
    assert.matches("did you mean 'required'", why, 1, true)
    assert.is_nil((DependencyType.parse(3)))
  end)

  it("is read-only", function()
    assert.has_error(function() DependencyType.EXTRA = "x" end)
  end)

  it("the module loads its classes lazily, from graph and resolver modules", function()
    assert.are.equal(graph_mod.DependencyGraph, deps.DependencyGraph)
    assert.are.equal(require("truthound.dependencies.scan"), deps.scan)
  end)
end)

describe("DependencyGraph nodes", function()
  it("adds, reads, replaces and removes nodes", function()
    local g = DependencyGraph.new()
    g:add_node("app", {version = "1.2.0", dependencies = {
      json = "required", log = {type = "Optional", constraint = "^2"}, kit = DependencyType.DEV},
      metadata = {dir = "/p/app", tags = {"a"}}})
    assert.is_true(g:has_node("app"))
    assert.is_false(g:has_node("json"))
    assert.are.same({
      id = "app", version = "1.2.0",
      dependencies = {json = {type = "required", constraint = "*"},
                      log = {type = "optional", constraint = "^2"},
                      kit = {type = "dev", constraint = "*"}},
      metadata = {dir = "/p/app", tags = {"a"}},
    }, g:get_node("app"))
    assert.is_nil(g:get_node("json"))
    assert.are.equal(1, #g)
    g:add_node("app", {version = "2.0.0"})          -- replaced
    assert.are.same({}, g:get_node("app").dependencies)
    assert.are.equal(1, g:size())
    assert.is_true(g:remove_node("app"))
    assert.is_false(g:remove_node("app"))
    assert.are.equal(0, #g)
  end)

  it("defaults: version 0.0.0, no dependencies, empty metadata", function()
    local g = DependencyGraph.new():add_node("x")
    assert.are.same({id = "x", version = "0.0.0", dependencies = {}, metadata = {}}, g:get_node("x"))
  end)

  it("keeps copies: neither the caller's tables nor get_node's results alias the graph", function()
    local meta = {nested = {n = 1}}
    local dependencies = {b = "required"}
    local g = DependencyGraph.new():add_node("a", {dependencies = dependencies, metadata = meta})
    meta.nested.n = 2
    dependencies.c = "required"
    local n = g:get_node("a")
    assert.are.equal(1, n.metadata.nested.n)
    assert.is_nil(n.dependencies.c)
    n.metadata.nested.n = 3
    n.dependencies.b.type = "dev"
    assert.are.equal(1, g:get_node("a").metadata.nested.n)
    assert.are.equal("required", g:get_node("a").dependencies.b.type)
  end)

  it("takes a manifest's dependency records and parsed constraints", function()
    local record = frozen.freeze({name = "json", constraint = "^1.2", type = "required",
                                  parsed_constraint = versioning.parse_constraint("^1.2")})
    local g = DependencyGraph.new()
    g:add_node("app", {version = versioning.parse_version("1.0.0"), dependencies = {
      json = record, log = {constraint = versioning.parse_constraint(">=2 <3")}}})
    local n = g:get_node("app")
    assert.are.equal("1.0.0", n.version)
    assert.are.same({type = "required", constraint = "^1.2"}, n.dependencies.json)
    assert.are.same({type = "required", constraint = ">=2 <3"}, n.dependencies.log)
  end)

  it("refuses bad input with the input, where and what was expected, and changes nothing", function()
    local g = DependencyGraph.new():add_node("keep", {dependencies = {x = "optional"}})
    local e = raised(g.add_node, g, "a", {version = "1.0"})
    assert.is_true(errors.is(e, "VersionError"))
    assert.matches('^add_node%("a"%): version: invalid version "1.0" at column 4', e.message)
    e = raised(g.add_node, g, "a", {dependencies = {b = {constraint = ">=1,,<2"}}})
    assert.is_true(errors.is(e, "ConstraintSyntaxError"))
    assert.are.equal(5, e.position)
    assert.matches('dependencies.b: constraint: invalid version constraint', e.message, 1, true)
    e = raised(g.add_node, g, "a", {dependencies = {b = "requried"}})
    assert.is_true(errors.is(e, "UsageError"))
    assert.matches("did you mean 'required'", e.message, 1, true)
    e = raised(g.add_node, g, "a", {dependencies = {b = {type = "required", typo = 1}}})
    assert.matches('unknown key "typo"', e.message, 1, true)
    e = raised(g.add_node, g, "a", {versoin = "1.0.0"})
    assert.matches('unknown option "versoin"; expected dependencies, metadata, version', e.message, 1, true)
    e = raised(g.add_node, g, "a", {dependencies = {b = {name = "c"}}})
    assert.matches('named "c", under the key "b"', e.message, 1, true)
    for _, bad in ipairs({"", 3, nil}) do
      e = raised(g.add_node, g, bad)
      assert.is_true(errors.is(e, "UsageError"))
    end
    e = raised(g.add_node, g, "a", {dependencies = {[1] = "required"}})
    assert.matches("expected plugin ids as keys", e.message, 1, true)
    e = raised(g.add_node, g, "a", {metadata = "x"})
    assert.matches("metadata: expected a table", e.message, 1, true)
    assert.are.same({"keep"}, g:ids())
    assert.are.same({"keep"}, g:get_load_order())
  end)
end)

describe("DependencyGraph load order", function()
  it("puts dependencies first and breaks ties by id", function()
    local g = make({app = {log = "required", json = "required"}, log = {json = "required"},
                    zlib = {}, json = {}, cli = {}})
    assert.are.same({"cli", "json", "log", "app", "zlib"}, g:get_load_order())
    assert.are.same({"app", "cli", "log", "json", "zlib"}, g:get_unload_order())
  end)

  it("counts a dependency added after its dependent", function()
    local g = DependencyGraph.new()
    g:add_node("a", {dependencies = {z = "required"}})
    assert.has_error(function() g:get_load_order() end)
    g:add_node("z")
    assert.are.same({"z", "a"}, g:get_load_order())
  end)

  it("orders by optional dependencies that are present, ignores absent ones", function()
    local g = make({app = {metrics = "optional", cache = "optional"}, metrics = {}})
    assert.are.same({"metrics", "app"}, g:get_load_order())
  end)

  it("ignores dev dependencies unless include_dev", function()
    local g = make({app = {kit = "dev"}, kit = {}})
    assert.are.same({"app", "kit"}, g:get_load_order())
    assert.are.same({"kit", "app"}, g:get_load_order({include_dev = true}))
    g:remove_node("kit")
    assert.are.same({"app"}, g:get_load_order())
    local e = raised(g.get_load_order, g, {include_dev = true})
    assert.is_true(errors.is(e, "MissingDependencyError"))
    assert.are.same({{id = "app", dependency = "kit", type = "dev", constraint = "*"}}, e.missing)
  end)

  it("fails closed on a missing required dependency, naming every one", function()
    local g = DependencyGraph.new()
    g:add_node("web", {dependencies = {tls = {constraint = "^3"}, cache = "optional"}})
    g:add_node("api", {dependencies = {web = "required", auth = "required"}})
    g:add_node("other")
    local e = raised(g.get_load_order, g)
    assert.is_true(errors.is(e, "MissingDependencyError"))
    assert.is_true(errors.is(e, "DependencyError"))
    assert.are.same({
      {id = "api", dependency = "auth", type = "required", constraint = "*"},
      {id = "web", dependency = "tls", type = "required", constraint = "^3"},
    }, e.missing)
    assert.are.equal("api", e.plugin_id)
    assert.are.equal("auth", e.dependency)
    assert.are.equal("get_load_order: cannot order the plugins: 2 required dependencies are missing: " ..
                     "api requires auth *; web requires tls ^3, which are not in the graph", e.message)
  end)

  it("fails closed on cycles, with every cycle's witness", function()
    local g = make({a = {b = "required"}, b = {c = "required"}, c = {a = "optional"},
                    x = {y = "required"}, y = {x = "required"}, free = {}})
    local e = raised(g.get_load_order, g)
    assert.is_true(errors.is(e, "DependencyCycleError"))
    assert.are.same({{"a", "b", "c", "a"}, {"x", "y", "x"}}, e.cycles)
    assert.are.same({"a", "b", "c", "a"}, e.cycle)
    assert.are.equal("get_load_order: cannot order the plugins: 2 dependency cycles: a -> b -> c -> a; x -> y -> x",
                     e.message)
    e = raised(g.get_unload_order, g)
    assert.is_true(errors.is(e, "DependencyCycleError"))
  end)

  it("detect_cycles: one shortest witness per component, from its smallest id", function()
    local g = make({e = {b = "required"}, d = {e = "required", b = "required"}, c = {d = "required"},
                    b = {c = "required"}, a = {b = "required"}, z = {z = "required"},
                    k = {m = "dev"}, m = {k = "required"}})
    assert.are.same({{"b", "c", "d", "b"}, {"z", "z"}}, g:detect_cycles())
    assert.are.same({{"b", "c", "d", "b"}, {"k", "m", "k"}, {"z", "z"}},
                    g:detect_cycles({include_dev = true}))
    assert.are.same({}, make({a = {b = "required"}, b = {}}):detect_cycles())
  end)

  it("refuses unknown options", function()
    local g = make({a = {}})
    local e = raised(g.get_load_order, g, {include_optional = true})
    assert.matches("unknown option", e.message)
  end)
end)

describe("DependencyGraph reachability", function()
  local g = make({app = {web = "required", metrics = "optional", kit = "dev"},
                  web = {tls = "required", gone = "required"}, metrics = {tls = "required"},
                  tls = {}, kit = {}})

  it("get_dependencies: direct and required by default; absent ones included", function()
    assert.are.same({"web"}, g:get_dependencies("app"))
    assert.are.same({"gone", "tls", "web"}, g:get_dependencies("app", {recursive = true}))
    assert.are.same({"gone", "metrics", "tls", "web"},
                    g:get_dependencies("app", {recursive = true, include_optional = true}))
    assert.are.same({"kit", "web"}, g:get_dependencies("app", {include_dev = true}))
    assert.are.same({}, g:get_dependencies("nobody"))
  end)

  it("get_dependents: direct, optional included by default", function()
    assert.are.same({"metrics", "web"}, g:get_dependents("tls"))
    assert.are.same({"app", "metrics", "web"}, g:get_dependents("tls", {recursive = true}))
    assert.are.same({"app"}, g:get_dependents("metrics"))
    assert.are.same({}, g:get_dependents("metrics", {include_optional = false}))
    assert.are.same({"web"}, g:get_dependents("gone"))
    assert.are.same({}, g:get_dependents("kit"))
    assert.are.same({"app"}, g:get_dependents("kit", {include_dev = true}))
  end)
end)

describe("DependencyGraph validate", function()
  it("reports self, missing, version and cycle problems, sorted", function()
    local g = DependencyGraph.new()
    g:add_node("app", {version = "1.0.0", dependencies = {
      json = {constraint = "^2"}, log = {type = "optional", constraint = "~1.1"},
      auth = "required", opt = "optional", kit = {type = "dev", constraint = "^9"}}})
    g:add_node("json", {version = "1.5.0"})
    g:add_node("log", {version = "1.1.4"})
    g:add_node("kit", {version = "1.0.0"})
    g:add_node("me", {dependencies = {me = "required"}})
    g:add_node("p", {dependencies = {q = "required"}})
    g:add_node("q", {dependencies = {p = "required"}})
    g:add_node("pre", {version = "2.0.0-rc.1"})
    g:add_node("user", {dependencies = {pre = "required"}})   -- "*": any version, prereleases too
    local got = {}
    for i, p in ipairs(g:validate()) do got[i] = p.kind .. " " .. p.id .. " " .. p.dependency .. ": " .. p.message end
    assert.are.same({
      "missing app auth: app requires auth *, which is not in the graph",
      "version app json: app requires json ^2, but json is 1.5.0",
      "self me me: me depends on itself",
      "cycle p q: dependency cycle p -> q -> p",
    }, got)
    local dev = g:validate({include_dev = true})
    assert.are.equal(5, #dev)
    assert.are.same({kind = "version", id = "app", dependency = "kit", type = "dev", constraint = "^9",
                     version = "1.0.0", message = "app requires kit ^9, but kit is 1.0.0"}, dev[3])
    assert.are.same({}, make({a = {b = "required"}, b = {}}):validate())
  end)
end)

describe("DependencyGraph conversions", function()
  local function sample()
    local g = DependencyGraph.new()
    g:add_node("app", {version = "1.0.0", dependencies = {json = {constraint = "^1.2"}, log = "optional",
                                                          kit = "dev"}, metadata = {dir = "/x"}})
    g:add_node("json", {version = "1.2.0"})
    return g
  end

  it("to_table is plain data that from_table reads back", function()
    local t = sample():to_table()
    assert.are.same({nodes = {
      app = {version = "1.0.0", metadata = {dir = "/x"}, dependencies = {
        json = {type = "required", constraint = "^1.2"}, log = {type = "optional", constraint = "*"},
        kit = {type = "dev", constraint = "*"}}},
      json = {version = "1.2.0", metadata = {}, dependencies = {}},
    }}, t)
    local g = DependencyGraph.from_table(t)
    assert.are.same(t, g:to_table())
    assert.are.same({"json", "app"}, g:get_load_order())
  end)

  it("from_table names the bad entry", function()
    local e = raised(DependencyGraph.from_table, {nodes = {a = {version = "x"}}})
    assert.is_true(errors.is(e, "VersionError"))
    assert.matches('^from_table: add_node%("a"%): version:', e.message)
    e = raised(DependencyGraph.from_table, {nodes = {a = 1}})
    assert.matches('nodes["a"]: expected a table', e.message, 1, true)
    e = raised(DependencyGraph.from_table, {nodez = {}})
    assert.matches('unknown option "nodez"', e.message, 1, true)
    assert.is_true(errors.is(raised(DependencyGraph.from_table, "x"), "UsageError"))
  end)

  it("to_dot draws nodes, typed edges and missing nodes, sorted", function()
    assert.are.equal(table.concat({
      'digraph "dependencies" {',
      '  node [shape=box, fontname="sans-serif"];',
      '  edge [fontname="sans-serif", fontsize=10];',
      '  "app" [label="app\\n1.0.0"];',
      '  "json" [label="json\\n1.2.0"];',
      '  "kit" [label="kit\\n(missing)", style=dashed, color=red, fontcolor=red];',
      '  "log" [label="log\\n(missing)", style=dashed, color=red, fontcolor=red];',
      '  "app" -> "json" [label="^1.2"];',
      '  "app" -> "kit" [label="dev", style=dotted];',
      '  "app" -> "log" [label="optional", style=dashed];',
      '}', ''}, "\n"), sample():to_dot())
    local g = DependencyGraph.new():add_node('we"ird\\id')
    assert.matches('"we\\"ird\\\\id" [label="we\\"ird\\\\id\\n0.0.0"];', g:to_dot(), 1, true)
  end)
end)

describe("DependencyGraph properties", function()
  -- A random graph: n nodes "p<i>", each with up to 4 dependencies of any
  -- type on other nodes; acyclic when dag (dependencies on lower numbers).
  local function random_spec(rand, n, dag)
    local spec, ids = {}, {}
    for i = 1, n do
      local id = ("p%d"):format(i)
      ids[i] = id
      spec[id] = {}
      for _ = 1, rand(5) - 1 do
        local j
        if not dag then j = rand(n) elseif i > 1 then j = rand(i - 1) end
        if j and j ~= i then
          spec[id][("p%d"):format(j)] = ({"required", "required", "optional", "dev"})[rand(4)]
        end
      end
    end
    return spec, ids
  end

  it("gives the same answers whatever the insertion order", function()
    local rand = rng(20260101)
    for round = 1, 60 do
      local spec, ids = random_spec(rand, rand(30), round % 2 == 0)
      local g1 = make(spec, ids)
      local g2 = make(spec, shuffled(ids, rand))
      -- and a third built with every dependent before its dependencies
      local g3 = make(spec, shuffled(ids, rand))
      for _, opts in ipairs({{}, {include_dev = true}}) do
        local ok1, r1 = pcall(g1.get_load_order, g1, opts)
        local ok2, r2 = pcall(g2.get_load_order, g2, opts)
        assert.are.equal(ok1, ok2)
        if ok1 then assert.are.same(r1, r2) else assert.are.same(r1.cycles, r2.cycles) end
        assert.are.same(g1:detect_cycles(opts), g3:detect_cycles(opts))
        assert.are.same(g1:validate(opts), g3:validate(opts))
      end
      assert.are.same(g1:to_table(), g2:to_table())
    end
  end)

  it("respects every edge, and fails only when a cycle exists", function()
    local rand = rng(7)
    for round = 1, 60 do
      local spec = random_spec(rand, rand(40), round % 3 ~= 0)
      local g = make(spec)
      local cycles = g:detect_cycles()
      local ok, order = pcall(g.get_load_order, g)
      assert.are.equal(#cycles == 0, ok)
      if ok then
        local pos = position(order)
        assert.are.equal(#g, #order)
        for id, d in pairs(spec) do
          for name, t in pairs(d) do
            if t ~= "dev" then assert.is_true(pos[name] < pos[id], name .. " before " .. id) end
          end
        end
        local unload = position(g:get_unload_order())
        for id, d in pairs(spec) do
          for name, t in pairs(d) do
            if t ~= "dev" then assert.is_true(unload[id] < unload[name]) end
          end
        end
      else
        assert.is_true(errors.is(order, "DependencyCycleError"))
        assert.are.same(cycles, order.cycles)
      end
    end
  end)

  it("never drops a node whose required dependency is missing", function()
    local rand = rng(99)
    for _ = 1, 30 do
      local spec = random_spec(rand, 5 + rand(20), true)
      local g = make(spec)
      local victim = ("p%d"):format(rand(#g))
      local dependents = g:get_dependents(victim, {include_optional = false})
      g:remove_node(victim)
      local ok, e = pcall(g.get_load_order, g)
      if #dependents == 0 then
        assert.is_true(ok, tostring(e))
        assert.are.equal(#g, #e)
      else
        assert.is_false(ok)
        assert.is_true(errors.is(e, "MissingDependencyError"))
        local named = {}
        for _, m in ipairs(e.missing) do
          assert.are.equal(victim, m.dependency)
          named[#named + 1] = m.id
        end
        assert.are.same(dependents, named)
      end
    end
  end)

  it("orders a chain of 100,000 plugins without running out of stack", function()
    local g = DependencyGraph.new()
    local n = 100000
    for i = n, 1, -1 do   -- dependents first: every dependency arrives later
      g:add_node(("n%06d"):format(i), {version = "1.0.0",
        dependencies = i < n and {[("n%06d"):format(i + 1)] = "required"} or nil})
    end
    local order = g:get_load_order()
    assert.are.equal(n, #order)
    assert.are.equal(("n%06d"):format(n), order[1])
    assert.are.equal("n000001", order[n])
    g:add_node(("n%06d"):format(n), {dependencies = {n000001 = "required"}})
    local cycles = g:detect_cycles()
    assert.are.equal(1, #cycles)
    assert.are.equal(n + 1, #cycles[1])
  end)
end)

describe("tsort", function()
  it("orders every token and reports loops as GNU tsort", function()
    local order, loops = graph_mod.tsort("a b b c c a c d\n")
    assert.are.same({"a", "b", "c", "d"}, order)
    assert.are.same({{"a", "b", "c"}}, loops)
    order, loops = graph_mod.tsort("")
    assert.are.same({}, order)
    assert.are.same({}, loops)
  end)

  it("names the unpaired token of odd input", function()
    local e = raised(graph_mod.tsort, "a b\nc", "input.txt")
    assert.is_true(errors.is(e, "InputError"))
    assert.are.same({"input.txt", 2, 1, "c"}, {e.source, e.line, e.position, e.found})
    assert.matches('^input.txt:2:1: input contains an odd number of tokens: the last token "c" has no partner',
                   e.message)
  end)
end)
