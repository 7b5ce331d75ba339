-- truthound.dependencies.explain: the sentences that say why no selection
-- of versions works, written from the resolver's proof.
--
--   local explain = require("truthound.dependencies.explain")
--   local text, facts = explain.render(proof)
--
-- The proof is what core.resolve's problem:proof() returns: the
-- incompatibility that says the requirements cannot be met, and every
-- incompatibility it derives from, down to the external facts (a
-- requirement, a dependency, a dependency nothing satisfies, a missing
-- plugin). The text follows PubGrub's error reporting (Natalie
-- Weizenbaum's algorithm, described in dart-lang/pub doc/solver.md):
-- one sentence per derived fact, depth first, numbering only the
-- sentences referred to again. docs/dependencies.md specifies the format.

local M = {}

local TYPE_OF_TAG = {[0] = "required", "required", "optional", "dev"}
M.TYPE_OF_TAG = TYPE_OF_TAG

-- How deep the sentences may nest before the proof is summarised instead
-- of written out (the writer recurses once per derivation, and Lua's stack
-- has room for about 50,000 such calls).
M.MAX_DEPTH = 20000

-- The root's name in the core (requirements hang off it).
local ROOT = ""

---------------------------------------------------------------------------
-- Version sets

-- ranges(versions, idx): the candidates idx (ascending 1-based indices into
-- versions) as runs: "1.4.0", ">=2.0.0", "<=1.3.2", ">=1.0.0 <=1.3.2",
-- joined by " || "; "any version" for all of them, "no version" for none.
function M.ranges(versions, idx)
  local n = #versions
  if #idx == 0 then return "no version" end
  if #idx == n then return "any version" end
  local parts, i = {}, 1
  while i <= #idx do
    local lo, j = idx[i], i
    while j < #idx and idx[j + 1] == idx[j] + 1 do j = j + 1 end
    local hi = idx[j]
    if lo == hi then parts[#parts + 1] = versions[lo]
    elseif hi == n then parts[#parts + 1] = ">=" .. versions[lo]
    elseif lo == 1 then parts[#parts + 1] = "<=" .. versions[hi]
    else parts[#parts + 1] = (">=%s <=%s"):format(versions[lo], versions[hi]) end
    i = j + 1
  end
  return table.concat(parts, " || ")
end

local ANY_TEXT = {["*"] = true, x = true, X = true}

-- A package and versions as the subject of a sentence ("plugin-a >=2.0.0",
-- "every version of plugin-a"); label is the constraint text that selects
-- exactly these versions, when there is one.
local function subject(proof, name, idx, label)
  local versions = proof.packages[name] or {}
  if label then return name .. " " .. label end
  if #idx == #versions then
    if #versions == 1 then return name .. " " .. versions[1] end
    return "every version of " .. name
  end
  return name .. " " .. M.ranges(versions, idx)
end

-- The same as an object ("depends on plugin-b ^3.0", "requires plugin-b").
local function object(proof, name, idx, label)
  local versions = proof.packages[name] or {}
  if label and not (ANY_TEXT[label] and #idx == #versions) then return name .. " " .. label end
  if #idx == #versions then return name end
  return name .. " " .. M.ranges(versions, idx)
end

-- "(found: 1.0.0, 2.0.0)" for a target none of whose versions matched.
local function found(proof, name)
  local v = proof.packages[name] or {}
  if #v <= 5 then return ("(found: %s)"):format(table.concat(v, ", ")) end
  return ("(found: %s, %s, ..., %s, %s: %d versions)"):format(v[1], v[2], v[#v - 1], v[#v], #v)
end

---------------------------------------------------------------------------
-- One incompatibility as a clause

local function is_derived(inc) return inc.kind == "derived" end

-- The depended-on side of an external fact, as written.
local function target_text(proof, inc)
  if inc.constraint then
    return object(proof, inc.target, {}, inc.constraint)
  end
  return inc.target
end

local function depender_text(proof, inc)
  local t = inc.terms[1]
  return subject(proof, t.name, t.versions, nil)
end

-- Why a no_versions or missing fact's target cannot be had.
local function unmet_text(proof, inc)
  if inc.kind == "missing" then return inc.target .. " is missing" end
  return ("no version of %s matches it %s"):format(inc.target, found(proof, inc.target))
end

-- An external fact as a clause.
local function external_text(proof, inc)
  local dev = inc.tag == 3 and " (dev)" or ""
  local target = target_text(proof, inc)
  if inc.kind == "requirement" then
    return target .. " is required"
  elseif inc.kind == "dependency" then
    return ("%s %s %s%s"):format(depender_text(proof, inc),
      inc.optional and "optionally depends on" or "depends on", target, dev)
  elseif inc.kind == "no_versions" or inc.kind == "missing" then
    if inc.depender == ROOT then return ("%s is required but %s"):format(target, unmet_text(proof, inc)) end
    return ("%s depends on %s%s but %s"):format(depender_text(proof, inc), target, dev, unmet_text(proof, inc))
  end
  error("explain: unknown incompatibility kind " .. tostring(inc.kind))
end

local function terminal(inc)
  local t = inc.terms
  return #t == 0 or (#t == 1 and t[1].name == ROOT and t[1].positive)
end

local function join(list, last)
  if #list == 1 then return list[1] end
  return table.concat(list, ", ", 1, #list - 1) .. " " .. last .. " " .. list[#list]
end

-- A derived incompatibility as a clause: what it forbids, in the shape
-- pub uses ("A is forbidden", "A requires B", "A is incompatible with B").
local function derived_text(proof, inc)
  if terminal(inc) then return "version solving failed" end
  local pos, neg = {}, {}
  for _, t in ipairs(inc.terms) do
    if t.name ~= ROOT then
      if t.positive then pos[#pos + 1] = subject(proof, t.name, t.versions, t.label)
      else neg[#neg + 1] = object(proof, t.name, t.versions, t.label) end
    end
  end
  if #neg == 0 then
    if #pos == 1 then return pos[1] .. " is forbidden" end
    if #pos == 2 then return pos[1] .. " is incompatible with " .. pos[2] end
    return join(pos, "and") .. " are incompatible"
  end
  if #pos == 0 then return join(neg, "or") .. " is required" end
  return join(pos, "and") .. (#pos == 1 and " requires " or " together require ") .. join(neg, "or")
end

local function describe(proof, id)
  local inc = proof.incompatibilities[id]
  if is_derived(inc) then return derived_text(proof, inc) end
  return external_text(proof, inc)
end

---------------------------------------------------------------------------
-- Two incompatibilities joined ("A depends on B which depends on C")

-- {pos, neg} of an incompatibility of the shape "A requires B": one
-- positive and one negative term (a required dependency, or derived).
local function requires_shape(inc)
  if #inc.terms ~= 2 or inc.kind == "requirement" or inc.kind == "no_versions"
     or inc.kind == "missing" then
    return nil
  end
  local a, b = inc.terms[1], inc.terms[2]
  if a.positive == b.positive then return nil end
  if a.positive then return a, b end
  return b, a
end

local function contains_all(big, small)
  local have = {}
  for _, i in ipairs(big) do have[i] = true end
  for _, i in ipairs(small) do if not have[i] then return false end end
  return true
end

local function verb(inc)
  if inc.kind == "dependency" then return "depends on" end
  return "requires"
end

local function clause_object(proof, inc, t)
  if inc.kind == "dependency" then
    return target_text(proof, inc) .. (inc.tag == 3 and " (dev)" or "")
  end
  return object(proof, t.name, t.versions, t.label)
end

-- "A depends on B S which depends on C T": a's B is within b's depender.
-- b may also be a dependency nothing meets: "... which depends on C T but
-- no version of C matches it".
local function requires_through(proof, a, b)
  local ap, an = requires_shape(a)
  if not ap then return nil end
  local head = ("%s %s %s which "):format(subject(proof, ap.name, ap.versions, ap.label), verb(a),
                                        clause_object(proof, a, an))
  if (b.kind == "no_versions" or b.kind == "missing") and b.depender == an.name
     and contains_all(b.terms[1].versions, an.versions) then
    return ("%sdepends on %s%s but %s"):format(head, target_text(proof, b),
      b.tag == 3 and " (dev)" or "", unmet_text(proof, b))
  end
  local bp, bn = requires_shape(b)
  if not bp or an.name ~= bp.name or not contains_all(bp.versions, an.versions) then
    return nil
  end
  return ("%s%s %s"):format(head, verb(b), clause_object(proof, b, bn))
end

-- "A depends on both B and C": the same depender, the same versions.
local function requires_both(proof, a, b)
  local ap, an = requires_shape(a)
  local bp, bn = requires_shape(b)
  if not (ap and bp) or ap.name ~= bp.name or #ap.versions ~= #bp.versions
     or not contains_all(ap.versions, bp.versions) or verb(a) ~= verb(b) then
    return nil
  end
  return ("%s %s both %s and %s"):format(subject(proof, ap.name, ap.versions, ap.label), verb(a),
    clause_object(proof, a, an), clause_object(proof, b, bn))
end

-- "A requires B which is forbidden": b forbids all of a's B.
local function requires_forbidden(proof, a, b)
  local ap, an = requires_shape(a)
  if not ap or not is_derived(b) or #b.terms ~= 1 or not b.terms[1].positive then return nil end
  local f = b.terms[1]
  if f.name ~= an.name or not contains_all(f.versions, an.versions) then return nil end
  return ("%s %s %s which is forbidden"):format(subject(proof, ap.name, ap.versions, ap.label),
    verb(a), clause_object(proof, a, an))
end

local function both_required(proof, a, b)
  if a.kind ~= "requirement" or b.kind ~= "requirement" then return nil end
  return ("%s and %s are required"):format(target_text(proof, a), target_text(proof, b))
end

-- "X and Y", with "(n)" after a clause whose sentence has number n.
local function and_text(proof, id1, id2, line1, line2)
  local a, b = proof.incompatibilities[id1], proof.incompatibilities[id2]
  if not line1 and not line2 then
    local s = both_required(proof, a, b) or requires_both(proof, a, b)
      or requires_through(proof, a, b) or requires_through(proof, b, a)
      or requires_forbidden(proof, a, b) or requires_forbidden(proof, b, a)
    if s then return s end
  end
  return ("%s%s and %s%s"):format(describe(proof, id1), line1 and (" (" .. line1 .. ")") or "",
    describe(proof, id2), line2 and (" (" .. line2 .. ")") or "")
end

---------------------------------------------------------------------------
-- The report

local function new_report(proof)
  return {proof = proof, lines = {}, number = {}, count = {}, numbers = 0, depth = 0}
end

-- How many derived incompatibilities each one causes (pub counts every
-- reference, and walks each one once).
local function count_derivations(rep, root)
  local incs, count = rep.proof.incompatibilities, rep.count
  local stack = {root}
  while #stack > 0 do
    local id = table.remove(stack)
    if count[id] then
      count[id] = count[id] + 1
    else
      count[id] = 1
      local inc = incs[id]
      if is_derived(inc) then
        stack[#stack + 1] = inc.cause2
        stack[#stack + 1] = inc.cause1
      end
    end
  end
end

local function write(rep, id, text, numbered)
  local line = {text = text}
  if numbered then
    rep.numbers = rep.numbers + 1
    line.number = rep.numbers
    rep.number[id] = rep.numbers
  end
  rep.lines[#rep.lines + 1] = line
end

local function single_line(rep, inc)
  local incs = rep.proof.incompatibilities
  return not is_derived(incs[inc.cause1]) and not is_derived(incs[inc.cause2])
end

local function collapsible(rep, id)
  local incs = rep.proof.incompatibilities
  if rep.count[id] > 1 then return false end
  local inc = incs[id]
  local d1, d2 = is_derived(incs[inc.cause1]), is_derived(incs[inc.cause2])
  if d1 == d2 then return false end
  return rep.number[d1 and inc.cause1 or inc.cause2] == nil
end

local TOO_DEEP = {}      -- raised when the proof nests past MAX_DEPTH

-- pub's error reporting: explain incompatibility id, its causes first.
local visit_
local function visit(rep, id, conclusion)
  rep.depth = rep.depth + 1
  if rep.depth > M.MAX_DEPTH then error(TOO_DEEP, 0) end
  visit_(rep, id, conclusion)
  rep.depth = rep.depth - 1
end

function visit_(rep, id, conclusion)
  local proof, incs = rep.proof, rep.proof.incompatibilities
  local inc = incs[id]
  local numbered = conclusion or rep.count[id] > 1
  local conj = (conclusion or id == rep.root) and "So," or "And"
  local text = describe(proof, id)
  local c1, c2 = inc.cause1, inc.cause2
  local d1, d2 = is_derived(incs[c1]), is_derived(incs[c2])
  if d1 and d2 then
    local l1, l2 = rep.number[c1], rep.number[c2]
    if l1 and l2 then
      write(rep, id, ("Because %s, %s."):format(and_text(proof, c1, c2, l1, l2), text), numbered)
    elseif l1 or l2 then
      local with, without = l1 and c1 or c2, l1 and c2 or c1
      visit(rep, without)
      write(rep, id, ("%s because %s (%d), %s."):format(conj, describe(proof, with),
        rep.number[with], text), numbered)
    else
      local s1, s2 = single_line(rep, incs[c1]), single_line(rep, incs[c2])
      if s1 or s2 then
        local first, second = s2 and c1 or c2, s2 and c2 or c1
        visit(rep, first)
        visit(rep, second)
        write(rep, id, ("Thus, %s."):format(text), numbered)
      else
        visit(rep, c1, true)
        rep.lines[#rep.lines + 1] = {text = ""}
        visit(rep, c2)
        write(rep, id, ("%s because %s (%d), %s."):format(conj, describe(proof, c1),
          rep.number[c1], text), numbered)
      end
    end
  elseif d1 or d2 then
    local derived, ext = d1 and c1 or c2, d1 and c2 or c1
    local dl = rep.number[derived]
    if dl then
      write(rep, id, ("Because %s, %s."):format(and_text(proof, ext, derived, nil, dl), text), numbered)
    elseif collapsible(rep, derived) then
      local dinc = incs[derived]
      local inner_derived = is_derived(incs[dinc.cause1]) and dinc.cause1 or dinc.cause2
      local inner_ext = inner_derived == dinc.cause1 and dinc.cause2 or dinc.cause1
      visit(rep, inner_derived)
      write(rep, id, ("%s because %s, %s."):format(conj, and_text(proof, inner_ext, ext), text), numbered)
    else
      visit(rep, derived)
      write(rep, id, ("%s because %s, %s."):format(conj, describe(proof, ext), text), numbered)
    end
  else
    write(rep, id, ("Because %s, %s."):format(and_text(proof, c1, c2), text), numbered)
  end
end

-- The lines as text: numbered lines start with "(n) ", and when there
-- are numbers every other line is indented as far.
local function layout(rep)
  local width = rep.numbers > 0 and #("(" .. rep.numbers .. ") ") or 0
  local out = {}
  for i, line in ipairs(rep.lines) do
    if line.text == "" then out[i] = ""
    elseif line.number then
      local lead = "(" .. line.number .. ")"
      out[i] = lead .. (" "):rep(width - #lead) .. line.text
    else
      out[i] = (" "):rep(width) .. line.text
    end
  end
  return table.concat(out, "\n")
end

---------------------------------------------------------------------------
-- The external facts, as records

local function fact(proof, inc)
  local f = {kind = inc.kind, message = external_text(proof, inc),
             dependency = inc.target, constraint = inc.constraint or "*",
             type = TYPE_OF_TAG[inc.tag] or "required"}
  if inc.kind == "dependency" and inc.optional then f.type = "optional" end
  if inc.depender ~= ROOT then
    local t = inc.terms[1]
    local versions = proof.packages[t.name] or {}
    f.id = inc.depender
    f.versions = M.ranges(versions, t.versions)
    f.covers = {}
    for i, k in ipairs(t.versions) do f.covers[i] = versions[k] end
  end
  return f
end

-- facts(proof) -> the external incompatibilities of the proof, in the
-- order the explanation first reaches them.
function M.facts(proof)
  local incs, out, seen = proof.incompatibilities, {}, {}
  local stack = {proof.root}
  while #stack > 0 do
    local id = table.remove(stack)
    if not seen[id] then
      seen[id] = true
      local inc = incs[id]
      if is_derived(inc) then
        stack[#stack + 1] = inc.cause2
        stack[#stack + 1] = inc.cause1
      else
        out[#out + 1] = fact(proof, inc)
      end
    end
  end
  return out
end

-- render(proof) -> text, facts. A proof whose root is itself an external
-- fact (a requirement nothing satisfies) is one sentence.
function M.render(proof)
  local root = proof.incompatibilities[proof.root]
  local facts = M.facts(proof)
  if not is_derived(root) then
    return ("Because %s, version solving failed."):format(external_text(proof, root)), facts
  end
  local rep = new_report(proof)
  rep.root = proof.root
  count_derivations(rep, proof.root)
  local ok, e = pcall(visit, rep, proof.root)
  if not ok then
    if e ~= TOO_DEEP then error(e, 0) end
    local n = 0
    for _ in pairs(proof.incompatibilities) do n = n + 1 end
    return ("No selection of versions works, and the proof is too long to write out "
      .. "(%d incompatibilities, nested more than %d deep). It rests on %d facts, "
      .. "listed in conflicts; the first: %s."):format(n, M.MAX_DEPTH, #facts,
      facts[1] and facts[1].message or "none"), facts
  end
  return layout(rep), facts
end

return M
