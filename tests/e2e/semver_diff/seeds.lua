-- tests/e2e/semver_diff/seeds.lua: (re)make tests/fuzz/seeds/fuzz_semver.
--
--   lua5.4 tests/e2e/semver_diff/seeds.lua tests/fuzz/seeds/fuzz_semver
--
-- Writes a few hundred small "RANGE<TAB>VERSION" files: hand-picked corner
-- cases and deviations (gen.lua), generated ranges with aimed versions
-- (gen.lua, fixed seed), and a sample of the cargo corpora
-- (tests/vectors/semver, MPL-2.0). Deterministic.

package.path = "tests/e2e/semver_diff/?.lua;" .. package.path
local gen = require("gen")

local outdir = assert(arg[1], "usage: seeds.lua DIR")
local r = gen.rng(7)
local n = 0

local function seed(kind, text)
  n = n + 1
  local f = assert(io.open(string.format("%s/%s-%03d", outdir, kind, n), "wb"))
  f:write(text)
  f:close()
end

local function lines(path)
  local t = {}
  for l in io.lines(path) do t[#t + 1] = l end
  return t
end

for _, s in ipairs(gen.EDGE) do
  if #s <= 300 then seed("edge", s .. "\t" .. gen.gen_version(r)) end
end
for _, s in ipairs(gen.DEVIATIONS) do
  if #s <= 300 then seed("deviation", s .. "\t1.2.3") end
end
for _ = 1, 150 do
  local s = gen.gen_range(r)
  seed("gen", s .. "\t" .. gen.gen_version(r))
end
local reqs = lines("tests/vectors/semver/cargo-requirements.txt")
local vers = lines("tests/vectors/semver/cargo-versions.txt")
for _ = 1, 100 do
  seed("cargo", reqs[1 + r.int(#reqs)] .. "\t" .. vers[1 + r.int(#vers)])
end
for _ = 1, 20 do seed("version", vers[1 + r.int(#vers)]) end
print(n .. " seeds in " .. outdir)
