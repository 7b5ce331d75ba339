-- The examples of PubGrub's documentation (dart-lang/pub doc/solver.md),
-- as registries in tests/vectors/resolve/solver-md/: the selections it
-- arrives at, and its two failures explained in our format
-- (docs/dependencies.md). solver.md's "root" is our list of
-- requirements.

local DependencyResolver = require("truthound.dependencies").DependencyResolver
local resolver = require("truthound.dependencies.resolver")

local DIR = "tests/vectors/resolve/solver-md/"

local function resolve(name, requirements)
  local infos = resolver.read_registry(DIR .. name .. ".lua")
  return DependencyResolver.new():resolve(infos, {requirements = requirements})
end

local function req(name, constraint) return {name = name, constraint = constraint} end

describe("solver.md", function()
  it("no conflicts: foo 1.0.0 and bar 1.0.0 (bar ^1.0.0 rules out 2.0.0)", function()
    local r = resolve("no-conflicts", {req("foo", "^1.0.0")})
    assert.is_true(r.success)
    assert.are.same({foo = "1.0.0", bar = "1.0.0"}, r.selected)
    assert.are.same({"bar", "foo"}, r.load_order)
    assert.are.equal(0, r.stats.conflicts)
    assert.are.equal("", r.explanation)
  end)

  it("avoiding a conflict during decision making: foo 1.0.0, bar 1.1.0", function()
    local r = resolve("avoiding-conflict", {req("foo", "^1.0.0"), req("bar", "^1.0.0")})
    assert.is_true(r.success)
    assert.are.same({foo = "1.0.0", bar = "1.1.0"}, r.selected)
    -- foo 1.1.0 was considered and avoided, never chosen and undone
    assert.are.equal(0, r.stats.conflicts)
  end)

  it("performing conflict resolution: foo 1.0.0 alone, after learning {foo >=2.0.0}", function()
    local r = resolve("conflict-resolution", {req("foo", ">=1.0.0")})
    assert.is_true(r.success)
    assert.are.same({foo = "1.0.0"}, r.selected)
    assert.are.same({"foo"}, r.load_order)
    assert.are.equal(1, r.stats.conflicts)
    assert.are.equal(1, r.stats.learned)
  end)

  it("conflict resolution with a partial satisfier: foo 1.0.0, target 2.0.0", function()
    local r = resolve("partial-satisfier", {req("foo", "^1.0.0"), req("target", "^2.0.0")})
    assert.is_true(r.success)
    assert.are.same({foo = "1.0.0", target = "2.0.0"}, r.selected)
    assert.are.same({"foo", "target"}, r.load_order)
  end)

  -- solver.md's own text for this one: "Because every version of foo
  -- depends on bar ^2.0.0 which depends on baz ^3.0.0, every version of foo
  -- requires baz ^3.0.0. So, because root depends on both baz ^1.0.0 and
  -- foo ^1.0.0, version solving failed."
  it("linear error reporting: two sentences, no numbers", function()
    local r = resolve("linear-error", {req("foo", "^1.0.0"), req("baz", "^1.0.0")})
    assert.is_false(r.success)
    assert.are.same({}, r.selected)
    assert.are.same({}, r.load_order)
    assert.are.equal(table.concat({
      "Because foo 1.0.0 depends on bar ^2.0.0 which depends on baz ^3.0.0, foo 1.0.0 requires baz ^3.0.0.",
      "So, because baz ^1.0.0 and foo ^1.0.0 are required, version solving failed.",
    }, "\n"), r.explanation)
    -- the facts the sentences rest on, in the order they are first used
    local kinds = {}
    for i, c in ipairs(r.conflicts) do
      kinds[i] = ("%s %s %s %s"):format(c.kind, c.id or "-", c.dependency, c.constraint)
    end
    assert.are.same({"dependency foo bar ^2.0.0", "dependency bar baz ^3.0.0",
                     "requirement - baz ^1.0.0", "requirement - foo ^1.0.0"}, kinds)
  end)

  -- solver.md's: "Because foo <1.1.0 depends on a ^1.0.0 which depends on b
  -- ^2.0.0, foo <1.1.0 requires b ^2.0.0. (1) So, because foo <1.1.0 depends
  -- on b ^1.0.0, foo <1.1.0 is forbidden. / Because foo >=1.1.0 depends on x
  -- ^1.0.0 which depends on y ^2.0.0, foo >=1.1.0 requires y ^2.0.0. And
  -- because foo >=1.1.0 depends on y ^1.0.0, foo >=1.1.0 is forbidden. And
  -- because foo <1.1.0 is forbidden (1), foo is forbidden. So, because root
  -- depends on foo ^1.0.0, version solving failed." We name the versions
  -- themselves (foo 1.0.0, not foo <1.1.0).
  it("branching error reporting: a numbered line referred to again", function()
    local r = resolve("branching-error", {req("foo", "^1.0.0")})
    assert.is_false(r.success)
    assert.are.equal(table.concat({
      "    Because foo 1.0.0 depends on a ^1.0.0 which depends on b ^2.0.0, foo 1.0.0 requires b ^2.0.0.",
      "(1) So, because foo 1.0.0 depends on b ^1.0.0, foo 1.0.0 is forbidden.",
      "",
      "    Because foo 1.1.0 depends on x ^1.0.0 which depends on y ^2.0.0, foo 1.1.0 requires y ^2.0.0.",
      "    And because foo 1.1.0 depends on y ^1.0.0, foo 1.1.0 is forbidden.",
      "    And because foo 1.0.0 is forbidden (1), every version of foo is forbidden.",
      "    So, because foo ^1.0.0 is required, version solving failed.",
    }, "\n"), r.explanation)
    assert.are.equal(7, #r.conflicts)
  end)
end)
