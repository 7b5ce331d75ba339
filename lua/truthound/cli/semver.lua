-- tplua semver: version tools for batch use and differential testing.
--
--   tplua semver check [--include-prerelease] < pairs   RANGE<TAB>VERSION -> 1|0|E
--   tplua semver sort < versions                        ascending, one per line

local versioning = require("truthound.versioning")
local errors = require("truthound.errors")

local function usage_error(msg)
  errors.raise("UsageError", msg .. " (see 'tplua semver --help')")
end

-- check: one verdict per input line. E marks a line whose range or version
-- does not parse, or that has no tab; it never stops the batch.
local function check(args)
  local opts = {include_prerelease = false}
  for _, a in ipairs(args) do
    if a == "--include-prerelease" then
      opts.include_prerelease = true
    else
      usage_error("semver check: unknown argument '" .. a .. "'")
    end
  end
  local satisfies = versioning.satisfies
  local out, n = {}, 0
  for line in io.lines() do
    local range, version = line:match("^([^\t]*)\t(.*)$")
    local verdict = "E"
    if range then
      local ok, yes = pcall(satisfies, version, range, opts)
      if ok then verdict = yes and "1" or "0" end
    end
    n = n + 1
    out[n] = verdict
    if n == 4096 then
      io.write(table.concat(out, "\n", 1, n), "\n")
      n = 0
    end
  end
  if n > 0 then io.write(table.concat(out, "\n", 1, n), "\n") end
  return 0
end

-- sort: every non-blank line must be a version; a bad one is reported with
-- its line number and nothing is printed.
local function sort(args)
  if #args > 0 then usage_error("semver sort: unexpected argument '" .. args[1] .. "'") end
  local list, lineno = {}, {}
  local i = 0
  for line in io.lines() do
    i = i + 1
    if line:find("%S") then
      list[#list + 1] = line
      lineno[#list] = i
    end
  end
  local ok, sorted = pcall(versioning.sort, list)
  if not ok then
    local e = sorted
    if errors.is(e, "VersionError") and e.index then
      e.message = "<stdin>:" .. lineno[e.index] .. ": " ..
                  e.message:gsub("^sort: element %d+: ", "")
      e.line = lineno[e.index]
    end
    error(e, 0)
  end
  for _, v in ipairs(sorted) do io.write(v, "\n") end
  return 0
end

local subcommands = {check = check, sort = sort}

return {
  name = "semver",
  summary = "check versions against constraints, sort versions",
  usage = "tplua semver check [--include-prerelease] < RANGE<TAB>VERSION lines\n" ..
          "       tplua semver sort < versions",
  help = [[
check  Reads lines "RANGE<TAB>VERSION" on stdin and prints one line each:
       1 (the version satisfies the range), 0 (it does not) or E (the range
       or the version is invalid, or the line has no tab). Ranges use
       node-semver's grammar plus ',' as AND; a bare version means exactly
       that version. --include-prerelease lets prereleases match ranges
       that do not name them.
sort   Reads versions on stdin, one per line (blank lines ignored), and
       prints them in ascending SemVer precedence, equal versions ordered
       by build metadata. An invalid version is an error naming its line.]],
  run = function(args)
    local name = args[1]
    local fn = subcommands[name]
    if not fn then
      usage_error(name and ("semver: unknown subcommand '" .. name .. "'")
                  or "semver: expected a subcommand, check or sort")
    end
    return fn({table.unpack(args, 2)})
  end,
}
