-- truthound.versioning through the Lua API (the C core has its own tests;
-- tests/e2e/semver_diff.sh compares against node-semver at scale).

local v = require("truthound.versioning")
local errors = require("truthound.errors")

local function raised(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return e
end

describe("parse_constraint", function()
  it("reads the seed's formats", function()
    local cases = {
      {"*", "1.0.0", true}, {"1.2.3", "1.2.3", true}, {"1.2.3", "1.2.4", false},
      {">=1.2.3", "1.2.3", true}, {">1.2.3", "1.2.3", false}, {"<=1.2.3", "1.2.3", true},
      {"<1.2.3", "1.2.3", false}, {"^1.2.3", "1.2.5", true}, {"^1.2.3", "2.0.0", false},
      {"~1.2.3", "1.2.9", true}, {"~1.2.3", "1.3.0", false},
      {">=1.0.0,<2.0.0", "1.9.9", true}, {">=1.0.0,<2.0.0", "2.0.0", false},
    }
    for _, c in ipairs(cases) do
      assert.are.equal(c[3], v.parse_constraint(c[1]):is_satisfied_by(c[2]),
                       c[1] .. " vs " .. c[2])
    end
  end)

  it("prints the canonical desugared form", function()
    assert.are.equal(">=1.2.3 <2.0.0-0", tostring(v.parse_constraint("^1.2.3")))
    assert.are.equal(">=0.2.0 <0.3.0-0", tostring(v.parse_constraint("^0.2")))
    assert.are.equal(">=1.0.0 <2.0.0", tostring(v.parse_constraint(">=1.0.0, <2.0.0")))
    assert.are.equal("*", tostring(v.parse_constraint("x || 1.2.3")))
    assert.are.equal("1.2.3 || >=2.0.0", tostring(v.parse_constraint("=v1.2.3||>=2")))
  end)

  it("keeps the text it was parsed from", function()
    assert.are.equal(" ^1.2 ", v.parse_constraint(" ^1.2 "):source())
  end)

  it("raises ConstraintSyntaxError naming input, column and expectation", function()
    local e = raised(v.parse_constraint, ">=1.0.0,,<2")
    assert.is_true(errors.is(e, "ConstraintSyntaxError"))
    assert.is_true(errors.is(e, "VersionError"))
    assert.is_true(errors.is(e, "InputError"))
    assert.are.equal(">=1.0.0,,<2", e.input)
    assert.are.equal(9, e.position)
    assert.are.equal("','", e.found)
    assert.matches("after ','", e.expected, 1, true)
    assert.are.equal('ConstraintSyntaxError: invalid version constraint ">=1.0.0,,<2" ' ..
                     "at column 9: expected a version or an operator after ',', found ','",
                     tostring(e))
  end)

  it("never reads garbage as any version", function()
    for _, bad in ipairs{"", " ", "garbage,foo", "foo", "1.2.3 ||", "|| 1", ">=1.0.0,",
                         ",", "1.x.2", "1.2+build", "latest", "^", ">=", "1.2.3 - "} do
      local e = raised(v.parse_constraint, bad)
      assert.is_true(errors.is(e, "ConstraintSyntaxError"), bad)
    end
  end)

  it("shortens a long input in the message but keeps it whole in the field", function()
    local long = string.rep("1 ", 60) .. "?"
    local e = raised(v.parse_constraint, long)
    assert.are.equal(long, e.input)
    assert.are.equal(#long, e.position)
    assert.matches('..."', e.message, 1, true)
  end)

  it("refuses non-string input with a type error", function()
    assert.matches("string expected", raised(v.parse_constraint, 12))
  end)
end)

describe("include_prerelease", function()
  it("is off by default: prereleases match only where the range names them", function()
    local c = v.parse_constraint("^1.2.3-beta.2")
    assert.is_true(c:is_satisfied_by("1.2.3-beta.3"))
    assert.is_false(c:is_satisfied_by("1.3.0-alpha"))
    assert.is_true(c:is_satisfied_by("1.3.0"))
  end)

  it("can be given per call, compiling the other form once", function()
    local c = v.parse_constraint("1.x")
    assert.is_false(c:is_satisfied_by("1.5.0-rc.1"))
    assert.is_true(c:is_satisfied_by("1.5.0-rc.1", {include_prerelease = true}))
    assert.is_true(c:is_satisfied_by("1.0.0-0", {include_prerelease = true}))
    assert.is_false(c:is_satisfied_by("1.5.0-rc.1"))
    assert.is_false(c:include_prerelease())
  end)

  it("can be fixed at parse time and overridden per call", function()
    local c = v.parse_constraint("~1.2", {include_prerelease = true})
    assert.is_true(c:include_prerelease())
    assert.are.equal(">=1.2.0-0 <1.3.0-0", tostring(c))
    assert.is_true(c:is_satisfied_by("1.2.5-x"))
    assert.is_false(c:is_satisfied_by("1.2.5-x", {include_prerelease = false}))
  end)

  it("surfaces an overflow that only the prerelease form meets", function()
    -- 1.2.9007199254740991 + 1 does not fit; only the prerelease form of a
    -- hyphen range bumps the patch.
    local c = v.parse_constraint("1.0.0 - 1.2.9007199254740991")
    assert.is_true(c:is_satisfied_by("1.1.0"))
    local e = raised(c.is_satisfied_by, c, "1.1.0", {include_prerelease = true})
    assert.is_true(errors.is(e, "ConstraintSyntaxError"))
  end)
end)

describe("is_satisfied_by", function()
  it("takes strings or parsed versions", function()
    local c = v.parse_constraint(">=2")
    assert.is_true(c:is_satisfied_by(v.parse_version("2.0.0")))
    assert.is_true(c:is_satisfied_by(" v2.0.0 "))
  end)

  it("raises VersionError for a malformed version, not false", function()
    local e = raised(v.parse_constraint("*").is_satisfied_by, v.parse_constraint("*"), "1.2")
    assert.is_true(errors.is(e, "VersionError"))
    assert.is_false(errors.is(e, "ConstraintSyntaxError"))
    assert.are.equal(4, e.position)
  end)

  it("survives garbage collection of the source string", function()
    local cs = {}
    for i = 1, 200 do cs[i] = v.parse_constraint(("^%d.%d.%d-pre.%d"):format(i, i, i, i)) end
    collectgarbage(); collectgarbage()
    for i = 1, 200 do
      assert.is_true(cs[i]:is_satisfied_by(("%d.%d.%d-pre.%d"):format(i, i, i, i + 1)))
      assert.are.equal((">=%d.%d.%d-pre.%d <%d.0.0-0"):format(i, i, i, i, i + 1), tostring(cs[i]))
    end
  end)
end)

describe("satisfies", function()
  it("parses both sides each call, short and long ranges alike", function()
    assert.is_true(v.satisfies("1.2.3", "1.x"))
    assert.is_false(v.satisfies("1.2.3", "^2"))
    local long = string.rep(">=1.0.0 ", 20) .. "<1.2.4"
    assert.is_true(v.satisfies("1.2.3", long))
    assert.is_false(v.satisfies("1.2.4", long))
    assert.is_true(v.satisfies("1.2.3", v.parse_constraint("~1.2")))
  end)

  it("raises on either side being malformed", function()
    assert.is_true(errors.is(raised(v.satisfies, "1.2.3", "^^1"), "ConstraintSyntaxError"))
    assert.is_true(errors.is(raised(v.satisfies, "x", "^1"), "VersionError"))
  end)
end)

describe("VersionConstraint factories", function()
  local VC = v.VersionConstraint
  it("any_version matches releases, not prereleases", function()
    assert.is_true(VC.any_version():is_satisfied_by("999.0.0"))
    assert.is_false(VC.any_version():is_satisfied_by("1.0.0-rc.1"))
  end)
  it("exact, at_least, compatible_with", function()
    assert.are.equal("1.2.3", tostring(VC.exact("1.2.3")))
    assert.are.equal(">=1.0.0", tostring(VC.at_least("1.0.0")))
    assert.are.equal(">=1.2.3 <2.0.0-0", tostring(VC.compatible_with("1.2.3")))
    assert.are.equal(">=0.0.3 <0.0.4-0", tostring(VC.compatible_with(v.parse_version("0.0.3"))))
  end)
  it("want full versions", function()
    assert.is_true(errors.is(raised(VC.exact, "1.2"), "VersionError"))
    assert.is_true(errors.is(raised(VC.compatible_with, "^1.2.3"), "VersionError"))
  end)
end)

describe("versions", function()
  it("expose their parts like node-semver", function()
    local x = v.parse_version("v1.2.3-alpha.10+build.007")
    assert.are.same({1, 2, 3}, {x.major, x.minor, x.patch})
    assert.are.same({"alpha", 10}, x.prerelease)
    assert.are.same({"build", "007"}, x.build)
    assert.are.equal("1.2.3-alpha.10", tostring(x))
    assert.is_nil(x.nonsense)
  end)

  it("compare by precedence", function()
    local a, b = v.parse_version("1.0.0-rc.2"), v.parse_version("1.0.0-rc.10")
    assert.is_true(a < b)
    assert.is_true(a <= b)
    assert.is_false(b < a)
    assert.is_true(v.parse_version("1.0.0+a") == v.parse_version("1.0.0+b"))
    assert.are.equal(-1, v.compare("1.0.0-rc.2", "1.0.0-rc.10"))
    assert.are.equal(0, v.compare("1.0.0", "v1.0.0+x"))
    assert.are.equal(1, a:compare("1.0.0-rc.1"))
  end)

  it("name the column of a mistake", function()
    local e = raised(v.parse_version, "1.02.3")
    assert.are.equal(3, e.position)
    assert.matches("leading zeros", e.expected)
  end)
end)

describe("lists", function()
  local list = {"1.0.0", "1.5.0", "v1.5.0", "2.0.0", "1.6.0-beta"}
  it("max_satisfying and min_satisfying return list elements", function()
    assert.are.equal("1.5.0", v.max_satisfying(list, "^1"))
    assert.are.equal("1.6.0-beta", v.max_satisfying(list, "^1", {include_prerelease = true}))
    assert.are.equal("1.5.0", v.min_satisfying(list, ">1.0"))
    assert.are.equal("2.0.0", v.min_satisfying(list, ">1"))  -- >1 means >=2.0.0
    assert.is_nil(v.max_satisfying(list, "^3"))
    assert.are.equal("2.0.0", v.max_satisfying(list, v.parse_constraint(">=2")))
  end)

  it("report a bad element by index instead of skipping it", function()
    local e = raised(v.max_satisfying, {"1.0.0", "nope"}, "*")
    assert.is_true(errors.is(e, "VersionError"))
    assert.are.equal(2, e.index)
    assert.matches("element 2", e.message)
  end)

  it("sort ascending, equal versions by build, ties stable", function()
    assert.are.same({"0.9.0", "1.0.0-rc.1", "1.0.0-rc.10", "1.0.0", "v1.0.0", "1.0.0+b.2", "1.0.0+b.10"},
      v.sort{"1.0.0+b.10", "1.0.0", "1.0.0-rc.10", "0.9.0", "1.0.0+b.2", "v1.0.0", "1.0.0-rc.1"})
  end)
end)

describe("intersects", function()
  it("follows node-semver, strings or constraints", function()
    assert.is_true(v.intersects("^1.2", ">=1.9 <3"))
    assert.is_false(v.intersects("^1", v.parse_constraint("^2")))
    assert.is_true(v.parse_constraint("~1.2.3 || 3.x"):intersects("^3.1"))
    assert.is_false(v.intersects("1.2.3-beta", "*"))
    assert.is_true(v.intersects("1.2.3-beta", "*", {include_prerelease = true}))
  end)
end)
