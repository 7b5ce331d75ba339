-- ron2registry.lua: convert a pubgrub-rs test example (RON, integer
-- versions) into a truthound registry data file.
--
--   lua5.4 tests/vectors/resolve/ron2registry.lua IN.ron ORIGIN >OUT.lua
--
-- The RON maps package -> version -> dependency -> list of ranges
-- (low, Some(high)) or (low, None), each [low, high) over integer
-- versions. Package N becomes plugin "pN", version N becomes "N.0.0", a
-- range becomes ">=low.0.0 <high.0.0" (">=low.0.0" without a high) and a
-- list of ranges their union, joined with " || ". Deterministic: keys are
-- written in numeric order.

local path, origin = arg[1], arg[2]
if not path or not origin then
  io.stderr:write("usage: lua5.4 ron2registry.lua IN.ron ORIGIN-LINE >OUT.lua\n")
  os.exit(2)
end
local src = assert(io.open(path, "rb")):read("a")

-- Tokens: numbers, Some, None and punctuation.
local toks, i = {}, 1
while i <= #src do
  local c = src:sub(i, i)
  if c:match("%s") then i = i + 1
  elseif c:match("%d") then
    local n = src:match("^%d+", i)
    toks[#toks + 1] = tonumber(n)
    i = i + #n
  elseif src:sub(i, i + 3) == "Some" then toks[#toks + 1] = "Some"; i = i + 4
  elseif src:sub(i, i + 3) == "None" then toks[#toks + 1] = "None"; i = i + 4
  elseif c:match("[{}%[%]():,]") then toks[#toks + 1] = c; i = i + 1
  else error(("unexpected %q at byte %d"):format(c, i)) end
end

local pos = 1
local function peek() return toks[pos] end
local function take(want)
  local t = toks[pos]
  if want and t ~= want then error(("expected %s, got %s at token %d"):format(want, tostring(t), pos)) end
  pos = pos + 1
  return t
end

local value
local function map()
  take("{")
  local m = {}
  while peek() ~= "}" do
    local k = take()
    take(":")
    m[k] = value()
    if peek() == "," then take(",") end
  end
  take("}")
  return m
end

local function list()
  take("[")
  local l = {}
  while peek() ~= "]" do
    take("(")
    local lo = take()
    take(",")
    local hi
    if peek() == "Some" then take("Some"); take("("); hi = take(); take(")") else take("None") end
    if peek() == "," then take(",") end
    take(")")
    l[#l + 1] = {lo, hi}
    if peek() == "," then take(",") end
  end
  take("]")
  return l
end

function value()
  if peek() == "{" then return map() end
  return list()
end

local data = map()

local function keys(t)
  local k = {}
  for x in pairs(t) do k[#k + 1] = x end
  table.sort(k)
  return k
end

local out = {"-- " .. origin,
             "-- Converted by tests/vectors/resolve/ron2registry.lua: package N is plugin \"pN\",",
             "-- version N is \"N.0.0\", a range [low, high) is \">=low.0.0 <high.0.0\".",
             "return {"}
local npkg, nver, ndep = 0, 0, 0
for _, p in ipairs(keys(data)) do
  npkg = npkg + 1
  out[#out + 1] = ("  p%d = {"):format(p)
  for _, v in ipairs(keys(data[p])) do
    nver = nver + 1
    local deps = {}
    for _, d in ipairs(keys(data[p][v])) do
      ndep = ndep + 1
      local parts = {}
      for _, r in ipairs(data[p][v][d]) do
        parts[#parts + 1] = r[2] and (">=%d.0.0 <%d.0.0"):format(r[1], r[2]) or (">=%d.0.0"):format(r[1])
      end
      deps[#deps + 1] = ("p%d = %q"):format(d, table.concat(parts, " || "))
    end
    out[#out + 1] = ("    [\"%d.0.0\"] = {dependencies = {%s}},"):format(v, table.concat(deps, ", "))
  end
  out[#out + 1] = "  },"
end
out[#out + 1] = "}"
io.write(table.concat(out, "\n"), "\n")
io.stderr:write(("%d packages, %d versions, %d dependencies\n"):format(npkg, nver, ndep))
