-- Properties of DependencyResolver on small random registries (seeded:
-- RESOLVER_SEED, default 20260101), checked against a brute-force search
-- over every selection, and the pubgrub hard case (pubgrub-rs/pubgrub
-- test-examples, MPL-2.0; tests/vectors/resolve/pubgrub_large_case_u16.lua):
--
--   * the resolver finds a selection exactly when one exists;
--   * a selection it returns meets every requirement and constraint;
--   * the first package it decided gets the highest version any selection
--     gives it;
--   * when it fails, removing every dependency its explanation does not
--     mention leaves the problem unsolvable;
--   * its proof checks: every external fact is true of the registry and
--     every derived incompatibility is a resolvent of its two causes.

local DependencyResolver = require("truthound.dependencies").DependencyResolver
local resolver = require("truthound.dependencies.resolver")
local versioning = require("truthound.versioning")

local SEED = tonumber(os.getenv("RESOLVER_SEED")) or 20260101
local COUNT = tonumber(os.getenv("RESOLVER_COUNT")) or 400

---------------------------------------------------------------------------
-- Random registries

local function rng(seed)
  local s = seed
  return function(n)
    s = (s * 1103515245 + 12345) % 2147483648
    return (s >> 8) % n + 1          -- 1 .. n
  end
end

local POOL = {"1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0", "3.0.0"}
local CONSTRAINTS = {"^1", "^2", "^1.1", ">=1.1.0", "<2.0.0", "1.0.0", ">=1.0.0 <=2.0.0", "~1.2.0",
                     "2.x", "*", "^3", "^9", ">=2.1.0 || 1.0.0"}
local NAMES = {"a", "b", "c", "d", "e", "ghost"}     -- "ghost" never has a version

local function random_registry(rand)
  local npkg = 2 + rand(4) - 1                        -- 2 .. 5
  local infos = {}
  for p = 1, npkg do
    local avail = {}
    for _, v in ipairs(POOL) do if rand(2) == 1 then avail[#avail + 1] = v end end
    while #avail > 3 do table.remove(avail, rand(#avail)) end
    for _, v in ipairs(avail) do
      local d = {}
      for _ = 1, rand(3) - 1 do
        local target = rand(7) == 7 and "ghost" or NAMES[rand(npkg)]
        if target ~= NAMES[p] then
          local c = CONSTRAINTS[rand(#CONSTRAINTS)]
          d[target] = rand(5) == 5 and {constraint = c, type = "optional"} or c
        end
      end
      infos[#infos + 1] = {id = NAMES[p], version = v, dependencies = d}
    end
  end
  local requirements
  if rand(3) > 1 then
    requirements = {}
    for _ = 1, rand(2) do
      requirements[#requirements + 1] = {name = NAMES[rand(npkg)], constraint = CONSTRAINTS[rand(#CONSTRAINTS)]}
    end
  end
  return infos, requirements
end

---------------------------------------------------------------------------
-- Brute force

local function spec_of(d)
  if type(d) == "string" then return d, "required" end
  return d.constraint, d.type
end

local function satisfies(v, c) return c == nil or versioning.satisfies(v, c) end

-- Whether sel (id -> version, absent = not selected) is a solution.
local function valid(infos, requirements, sel)
  local by = {}
  for _, i in ipairs(infos) do by[i.id .. " " .. i.version] = i end
  if requirements then
    for _, r in ipairs(requirements) do
      if not sel[r.name] or not satisfies(sel[r.name], r.constraint) then return false end
    end
  else
    for _, i in ipairs(infos) do if not sel[i.id] then return false end end
  end
  for id, v in pairs(sel) do
    local info = by[id .. " " .. v]
    if not info then return false end
    for name, d in pairs(info.dependencies or {}) do
      local c, t = spec_of(d)
      if t ~= "dev" then
        local have = sel[name]
        if have == nil then
          if t ~= "optional" then return false end
        elseif not satisfies(have, c) then
          return false
        end
      end
    end
  end
  return true
end

-- Every solution (as id -> version tables), by enumeration.
local function solutions(infos, requirements)
  local ids, versions = {}, {}
  for _, i in ipairs(infos) do
    if not versions[i.id] then versions[i.id] = {}; ids[#ids + 1] = i.id end
    table.insert(versions[i.id], i.version)
  end
  table.sort(ids)
  local out, sel = {}, {}
  local function go(k)
    if k > #ids then
      if valid(infos, requirements, sel) then
        local copy = {}
        for id, v in pairs(sel) do copy[id] = v end
        out[#out + 1] = copy
      end
      return
    end
    local id = ids[k]
    sel[id] = nil
    go(k + 1)
    for _, v in ipairs(versions[id]) do
      sel[id] = v
      go(k + 1)
    end
    sel[id] = nil
  end
  go(1)
  return out
end

---------------------------------------------------------------------------
-- The proof checker

-- A term as a set over its package's universe: candidate indices and
-- "absent" (not selected).
local function term_set(proof, t)
  local n = #(proof.packages[t.name] or {})
  local named, s = {}, {}
  for _, i in ipairs(t.versions) do named[i] = true end
  for i = 1, n do if (named[i] or false) == t.positive then s[i] = true end end
  if not t.positive then s.absent = true end
  return s, n
end

local function full(n)
  local s = {absent = true}
  for i = 1, n do s[i] = true end
  return s
end

local function same_set(a, b, n)
  if (a.absent or false) ~= (b.absent or false) then return false end
  for i = 1, n do if (a[i] or false) ~= (b[i] or false) then return false end end
  return true
end

local function terms_of(proof, inc)
  local map = {}
  for _, t in ipairs(inc.terms) do
    local s, n = term_set(proof, t)
    map[t.name] = {set = s, n = n}
  end
  return map
end

-- Whether derived incompatibility inc is the resolvent of its causes on
-- some package: that package's terms united, every other intersected,
-- terms that say nothing dropped, positive root terms dropped when others
-- remain.
local function resolvent_ok(proof, inc)
  local c1 = terms_of(proof, proof.incompatibilities[inc.cause1])
  local c2 = terms_of(proof, proof.incompatibilities[inc.cause2])
  local want = terms_of(proof, inc)
  for pivot in pairs(c1) do
    if c2[pivot] then
      local got, count = {}, 0
      local names = {}
      for name in pairs(c1) do names[name] = true end
      for name in pairs(c2) do names[name] = true end
      for name in pairs(names) do
        local a, b = c1[name], c2[name]
        local n = (a or b).n
        local s = {}
        local A, B = a and a.set or full(n), b and b.set or full(n)
        local keys = {"absent"}
        for i = 1, n do keys[i + 1] = i end
        for _, key in ipairs(keys) do
          if name == pivot then s[key] = A[key] or B[key] else s[key] = A[key] and B[key] end
        end
        if not same_set(s, full(n), n) then got[name] = {set = s, n = n}; count = count + 1 end
      end
      if count > 1 and got[""] and not got[""].set.absent then got[""] = nil end
      local ok = true
      for name, t in pairs(got) do
        if not want[name] or not same_set(t.set, want[name].set, t.n) then ok = false end
      end
      for name in pairs(want) do if not got[name] then ok = false end end
      if ok then return true end
    end
  end
  return false
end

-- The candidates of name that constraint c admits (all without one).
local function admitted(proof, name, c)
  local s = {}
  for i, v in ipairs(proof.packages[name] or {}) do
    if c == nil or versioning.satisfies(v, c) then s[i] = true end
  end
  return s
end

-- Whether external inc is true of the registry (by: "id version" -> info).
local function external_ok(proof, inc, by, requirements)
  local T = {}
  for _, t in ipairs(inc.terms) do T[t.name] = t end
  -- the dependency is there for every version the depender term names
  -- (for the root: it is one of the requirements)
  local function deps_have(wanted_kind)
    local depender = T[inc.depender]
    if inc.depender == "" then
      if not requirements then return inc.constraint == nil and depender.positive end
      for _, r in ipairs(requirements) do
        if r.name == inc.target and r.constraint == inc.constraint then return depender.positive end
      end
      return false
    end
    for _, i in ipairs(depender.versions) do
      local info = by[inc.depender .. " " .. proof.packages[inc.depender][i]]
      local d = info and info.dependencies[inc.target]
      if not d then return false end
      local c, t = spec_of(d)
      if c ~= inc.constraint or (wanted_kind == "optional") ~= (t == "optional") then return false end
    end
    return depender.positive
  end
  local n = #(proof.packages[inc.target] or {})
  local S = admitted(proof, inc.target, inc.constraint)
  if inc.kind == "requirement" then
    local t = T[inc.target]
    if not t or t.positive or not deps_have("required") then return false end
    local s = term_set(proof, t)
    local want = {absent = true}
    for i = 1, n do want[i] = not S[i] or nil end
    return same_set(s, want, n)
  elseif inc.kind == "dependency" then
    local t = T[inc.target]
    if not t or not deps_have(inc.optional and "optional" or "required") then return false end
    local s = term_set(proof, t)
    local want = {absent = not inc.optional or nil}
    for i = 1, n do want[i] = not S[i] or nil end
    return same_set(s, want, n)
  elseif inc.kind == "no_versions" then
    for i = 1, n do if S[i] then return false end end
    return n > 0 and #inc.terms == 1 and deps_have("required")
  elseif inc.kind == "missing" then
    return n == 0 and #inc.terms == 1 and deps_have("required")
  end
  return false
end

-- check_proof(result, infos, requirements) -> true, or false and why.
local function check_proof(result, infos, requirements)
  local proof = result.proof
  local by = {}
  for _, i in ipairs(infos) do by[i.id .. " " .. i.version] = i end
  local root = proof.incompatibilities[proof.root]
  local t = root.terms
  if not (#t == 0 or (#t == 1 and t[1].name == "" and t[1].positive)) then
    return false, "the root of the proof does not forbid the root"
  end
  for id, inc in pairs(proof.incompatibilities) do
    if inc.kind == "derived" then
      if not resolvent_ok(proof, inc) then return false, "incompatibility " .. id .. " is not a resolvent" end
    else
      if not external_ok(proof, inc, by, requirements) then
        return false, ("external %d (%s %s -> %s %s) is not a fact"):format(id, inc.kind, inc.depender,
          inc.target, tostring(inc.constraint))
      end
    end
  end
  return true
end

---------------------------------------------------------------------------

local function found_selection(r)
  return r.success or (r.conflicts[1] and r.conflicts[1].kind == "cycle")
end

describe("on random registries (seed " .. SEED .. ", " .. COUNT .. " of them)", function()
  local cases = {}
  local rand = rng(SEED)
  local R = DependencyResolver.new()
  for k = 1, COUNT do
    local infos, requirements = random_registry(rand)
    local result = R:resolve(infos, {requirements = requirements})
    cases[k] = {infos = infos, requirements = requirements, result = result,
                solutions = solutions(infos, requirements)}
  end

  it("agrees with a brute-force search on whether a selection exists", function()
    local solved = 0
    for k, c in ipairs(cases) do
      assert.are.equal(#c.solutions > 0, found_selection(c.result), "registry " .. k)
      if #c.solutions > 0 then solved = solved + 1 end
    end
    -- the generator makes both kinds
    assert.is_true(solved > COUNT / 5 and solved < COUNT * 4 / 5, solved .. " solvable")
  end)

  it("never returns a selection that breaks a requirement or a constraint", function()
    for k, c in ipairs(cases) do
      if found_selection(c.result) then
        assert.is_true(valid(c.infos, c.requirements, c.result.selected), "registry " .. k)
      end
    end
  end)

  it("gives the first package it decides the highest version of any selection", function()
    local checked = 0
    for k, c in ipairs(cases) do
      local first = found_selection(c.result) and c.result.stats.decision_order[1]
      if first then
        local best
        for _, s in ipairs(c.solutions) do
          if s[first] and (not best or versioning.compare(s[first], best) > 0) then best = s[first] end
        end
        assert.are.equal(best, c.result.selected[first], "registry " .. k .. ", package " .. first)
        checked = checked + 1
      end
    end
    assert.is_true(checked > 0)
  end)

  it("picks the highest version in a simple case", function()
    local infos = {}
    for _, v in ipairs({"0.9.0", "1.0.0", "1.5.0", "2.0.0", "2.2.0"}) do
      infos[#infos + 1] = {id = "lib", version = v}
    end
    assert.are.equal("2.2.0", R:resolve(infos).selected.lib)
    assert.are.equal("1.5.0", R:resolve(infos, {requirements = {{name = "lib", constraint = "^1"}}}).selected.lib)
    infos[#infos + 1] = {id = "app", version = "1.0.0", dependencies = {lib = "<2.1.0"}}
    assert.are.equal("2.0.0", R:resolve(infos).selected.lib)
  end)

  it("stays unsolvable when every dependency its explanation does not mention is removed", function()
    local checked = 0
    for k, c in ipairs(cases) do
      if not found_selection(c.result) then
        local mentioned = {}
        for _, f in ipairs(c.result.conflicts) do
          for _, v in ipairs(f.covers or {}) do
            mentioned[f.id .. " " .. v .. " " .. f.dependency] = true
          end
        end
        local pruned = {}
        for i, info in ipairs(c.infos) do
          local d = {}
          for name, spec in pairs(info.dependencies) do
            if mentioned[info.id .. " " .. info.version .. " " .. name] then d[name] = spec end
          end
          pruned[i] = {id = info.id, version = info.version, dependencies = d}
        end
        assert.are.equal(0, #solutions(pruned, c.requirements), "registry " .. k)
        checked = checked + 1
      end
    end
    assert.is_true(checked > 0)
  end)

  -- (Narrowing a fact's versions is no forgery: "a 2.0.0 depends on d ^9"
  -- is as true as "a <=2.0.0 depends on d ^9" and may still prove it.)
  it("has a proof checker that refuses forged proofs", function()
    local function copy(v)
      if type(v) ~= "table" then return v end
      local t = {}
      for k, x in pairs(v) do t[k] = copy(x) end
      return t
    end
    local forged_derived, forged_fact = 0, 0
    for _, c in ipairs(cases) do
      local proof = not c.result.success and c.result.proof
      for id, inc in pairs(proof and proof.incompatibilities or {}) do
        local forged = copy(c.result)
        local f = forged.proof.incompatibilities[id]
        if inc.kind == "derived" then
          -- a term for a package resolution could not give it
          local extra
          for name, versions in pairs(proof.packages) do
            local here = false
            for _, t in ipairs(inc.terms) do if t.name == name then here = true end end
            if not here and name ~= "" and #versions > 0 then extra = name end
          end
          if extra then
            f.terms[#f.terms + 1] = {name = extra, positive = true, versions = {1}}
            forged_derived = forged_derived + 1
          else
            forged = nil
          end
        else
          f.constraint = "^99"            -- not what the registry says
          forged_fact = forged_fact + 1
        end
        if forged then
          assert.is_false((check_proof(forged, c.infos, c.requirements)), "forged incompatibility " .. id)
        end
      end
    end
    assert.is_true(forged_derived > 10 and forged_fact > 10, forged_derived .. " " .. forged_fact)
  end)

  it("proves every failure: true facts, valid resolution steps", function()
    for k, c in ipairs(cases) do
      if not c.result.success and c.result.proof then
        local ok, why = check_proof(c.result, c.infos, c.requirements)
        assert.is_true(ok, "registry " .. k .. ": " .. tostring(why))
      end
    end
  end)
end)

describe("the pubgrub hard case (83 packages, 641 versions, 1,403 dependencies)", function()
  local infos = resolver.read_registry("tests/vectors/resolve/pubgrub_large_case_u16.lua")
  local R = DependencyResolver.new()

  it("is converted whole", function()
    assert.are.equal(641, #infos)
    local deps, ids = 0, {}
    for _, i in ipairs(infos) do
      ids[i.id] = true
      for _ in pairs(i.dependencies) do deps = deps + 1 end
    end
    local n = 0
    for _ in pairs(ids) do n = n + 1 end
    assert.are.equal(83, n)
    assert.are.equal(1403, deps)
  end)

  it("solves p0 0.0.0 with a valid selection and load order", function()
    local reqs = {{name = "p0", constraint = "0.0.0"}}
    local r = R:resolve(infos, {requirements = reqs})
    assert.is_true(r.success)
    assert.is_true(valid(infos, reqs, r.selected))
    assert.are.equal("0.0.0", r.selected.p0)
    local pos = {}
    for i, id in ipairs(r.load_order) do pos[id] = i end
    for id, v in pairs(r.selected) do
      assert.is_not_nil(pos[id])
      for name in pairs(r.plugins[id].dependencies) do
        if r.selected[name] then assert.is_true(pos[name] < pos[id], name .. " before " .. id) end
      end
    end
  end)

  it("from every package version as the root: valid selections, checked proofs", function()
    local solved, failed = 0, 0
    for _, root in ipairs(infos) do
      local reqs = {{name = root.id, constraint = root.version}}
      local r = R:resolve(infos, {requirements = reqs})
      if r.success then
        solved = solved + 1
        assert.is_true(valid(infos, reqs, r.selected), root.id .. " " .. root.version)
      else
        failed = failed + 1
        local ok, why = check_proof(r, infos, reqs)
        assert.is_true(ok, root.id .. " " .. root.version .. ": " .. tostring(why))
        assert.matches("version solving failed%.$", r.explanation)
      end
    end
    assert.are.equal(641, solved + failed)
    assert.are.equal(593, solved)
  end)
end)
