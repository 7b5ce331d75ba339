-- examples/manifest.lua: the demo that `make run` runs:
--
--   tplua run examples/manifest.lua
--
-- An application manifest (docs/tplua.md) returns a table: a name, a
-- version, and a main function that tplua calls as a task of the truthound
-- loop, with the global tp = require("truthound"). This first demo shows
-- version constraints and the event loop; the plugin manager takes this
-- file over in a later issue.

-- What a registry might offer, and what plugins might ask for.
local AVAILABLE = {"0.9.0", "1.0.0", "1.2.3", "1.4.0-beta.1", "1.4.0", "2.0.0", "2.1.0"}

local WANTED = {
  "^1.2",             -- compatible with 1.2: >=1.2.0 <2.0.0
  "~1.2.0",           -- patch updates only
  ">=1.0.0,<2.0.0",   -- a comma is AND, as in the seed
  "1.x || >=2.1.0",
  "^0.9",             -- on 0.x, ^ allows patches only
  ">=3",
}

local function show_constraints(versioning)
  print("  available: " .. table.concat(AVAILABLE, " "))
  for _, text in ipairs(WANTED) do
    local c = versioning.parse_constraint(text)
    local best = versioning.max_satisfying(AVAILABLE, c)
    print(("  %-16s means %-30s best: %s"):format(text, tostring(c), best or "none"))
  end
end

local function show_prerelease(versioning)
  local c = versioning.parse_constraint("^1.2")
  print(("  ^1.2 and 1.4.0-beta.1: %s; with include_prerelease: %s"):format(
    tostring(c:is_satisfied_by("1.4.0-beta.1")),
    tostring(c:is_satisfied_by("1.4.0-beta.1", {include_prerelease = true}))))
end

local function show_bad_input(versioning)
  local ok, e = pcall(versioning.parse_constraint, ">=1.0.0,,<2")
  print("  a malformed constraint is an error, never 'any version':")
  print("    " .. (ok and "accepted?!" or tostring(e)))
end

-- Three tasks sleep at once; main, itself a task, waits for them.
local function show_loop()
  local start, finished = tp.now(), {}
  for _, job in ipairs({{"slow", 60}, {"fast", 20}, {"medium", 40}}) do
    tp.spawn(function()
      tp.sleep(job[2])
      finished[#finished + 1] = job[1]
    end)
  end
  tp.sleep(80)
  print(("  tasks sleeping 60, 20 and 40 ms finished %s in %.0f ms, not 120:"
         .. " they ran concurrently"):format(table.concat(finished, ", "),
                                             tp.now() - start))
end

return {
  name = "truthound-demo",
  version = "0.1.0",
  description = "version constraints and the event loop, through tplua run",
  main = function(app)
    print(("%s %s: %s"):format(app.manifest.name, app.manifest.version,
                               app.manifest.description))
    print("\nVersion constraints (tp.versioning):")
    show_constraints(tp.versioning)
    show_prerelease(tp.versioning)
    show_bad_input(tp.versioning)
    print("\nEvent loop (tp.spawn, tp.sleep, tp.now):")
    show_loop()
  end,
}
