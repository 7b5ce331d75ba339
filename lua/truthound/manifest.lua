-- truthound.manifest: plugin.lua, the manifest of a plugin directory.
--
--   local manifest = require("truthound.manifest")
--   local m = manifest.load("plugins/hello")      -- ManifestError on any problem
--   m.id, m.version, m.entry_path                 --> "hello", "1.2.0", "/abs/plugins/hello/main.lua"
--   m.dependencies.json.constraint                --> "^1.2" (always the table form)
--   m:has_hook("activate")                        --> true
--
-- plugin.lua is data that may come from someone we do not trust: it is
-- evaluated by truthound.datafile (its own Lua state, no globals, a budget
-- and a memory cap), then every field is checked here and every problem is
-- reported in one ManifestError, each with file:line, the key's dotted path
-- and what was expected. The record returned is frozen (truthound.frozen).
-- docs/manifest.md describes the format; docs/formats.md the bytes.

local core_fs = require("truthound.native").fs
local datafile = require("truthound.datafile")
local errors = require("truthound.errors")
local frozen = require("truthound.frozen")
local versioning = require("truthound.versioning")

local manifest = {}

-- Bounds. A manifest is small; the bounds keep names usable as directory
-- names and keep messages and terminals sane whatever a plugin says.
manifest.ID_MAX = 64                -- bytes of an id (a directory name, a log key)
manifest.DESCRIPTION_MAX = 1024     -- bytes of the description
manifest.MODULE_MAX = 128           -- bytes of a module name (entry, capabilities.modules)
manifest.PATH_MAX = 4095            -- bytes of a path (Linux PATH_MAX less the NUL)
manifest.MAX_SIZE = 64 * 1024       -- bytes of plugin.lua (rockspecs are a few KiB)
manifest.MAX_PROBLEMS = 100         -- reported per file; a generated file could have 50,000

-- The lifecycle functions a plugin's entry module may define, in the order
-- the lifecycle calls them (save/restore carry state across a reload).
manifest.HOOKS = {"load", "activate", "deactivate", "unload", "save", "restore"}
manifest.DEPENDENCY_TYPES = {"required", "optional", "dev"}

local FIELDS = {"id", "version", "description", "entry", "dependencies", "hooks",
                "capabilities", "lua"}
local CAPABILITIES = {"network", "subprocess", "file_write", "paths", "modules"}
local DEPENDENCY_KEYS = {"constraint", "type", "reactivate"}

local function set_of(list)
  local s = {}
  for i, v in ipairs(list) do s[v] = i end
  return s
end
local HOOK_RANK, FIELD_SET = set_of(manifest.HOOKS), set_of(FIELDS)
local CAPABILITY_SET, DEPENDENCY_KEY_SET = set_of(CAPABILITIES), set_of(DEPENDENCY_KEYS)
local DEPENDENCY_TYPE_SET = set_of(manifest.DEPENDENCY_TYPES)

---------------------------------------------------------------------------
-- Showing values in messages

-- A value as a message shows it: strings quoted, with control bytes escaped
-- (a hostile description must not drive the terminal) and long ones cut.
local function show(v)
  if type(v) ~= "string" then return tostring(v) end
  local cut = #v > 60
  local s = (cut and v:sub(1, 57) or v):gsub('[%c"\\]', function(c)
    if c == '"' or c == "\\" then return "\\" .. c end
    return ("\\x%02x"):format(c:byte())
  end)
  return '"' .. s .. (cut and '..."' or '"')
end

local function show_char(c)
  if c == nil or c == "" then return "end of input" end
  if c:match("^[%g ]$") then return "'" .. c .. "'" end
  return ("byte 0x%02x"):format(c:byte())
end

-- The dotted path of key under prefix (a.b, a[2], a["x-y"]), written as
-- truthound.datafile writes the paths of its line map.
local key_path = datafile.key_text

local function type_name(v)
  local t = math.type(v)
  if t then return t == "integer" and "an integer" or "a number" end
  if type(v) == "boolean" then return "a boolean" end
  if type(v) == "table" then return "a table" end
  if type(v) == "string" then return "a string" end
  return type(v)
end

-- Edit distance with transpositions, for "did you mean".
local function distance(a, b)
  local d = {}
  for i = 0, #a do d[i] = {[0] = i} end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[#a][#b]
end

local function suggest(word, candidates)
  if type(word) ~= "string" or #word > 64 then return "" end
  local best, best_d
  for _, c in ipairs(candidates) do
    local dd = distance(word:lower(), c)
    if dd <= 2 and dd < #c / 2 + 1 and (not best_d or dd < best_d) then best, best_d = c, dd end
  end
  return best and (" (did you mean '%s'?)"):format(best) or ""
end

local function one_of(list)
  if #list == 1 then return list[1] end
  return table.concat(list, ", ", 1, #list - 1) .. " or " .. list[#list]
end

---------------------------------------------------------------------------
-- Grammars of names. Each returns nil when s is fine, or column, expected.

-- A plugin id: [a-z0-9][a-z0-9._-]*, 1 to ID_MAX bytes.
local function id_problem(s)
  if s == "" then return "expected a plugin id (lowercase letters, digits, '.', '_', '-'), got an empty string" end
  if #s > manifest.ID_MAX then
    return ("expected at most %d bytes, got %d"):format(manifest.ID_MAX, #s)
  end
  if not s:sub(1, 1):match("^[a-z0-9]$") then
    return ("expected a lowercase letter or digit at column 1, found %s"):format(show_char(s:sub(1, 1)))
  end
  local at = s:find("[^a-z0-9._-]")
  if at then
    return ("expected lowercase letters, digits, '.', '_' or '-', found %s at column %d")
           :format(show_char(s:sub(at, at)), at)
  end
  return nil
end
manifest.id_problem = id_problem

-- A Lua module name: names separated by single dots ("foo", "foo.bar_2").
local function module_problem(s)
  if s == "" then return "expected a module name such as \"main\" or \"myplugin.core\", got an empty string" end
  if #s > manifest.MODULE_MAX then
    return ("expected at most %d bytes, got %d"):format(manifest.MODULE_MAX, #s)
  end
  if s:match("%.lua$") then
    return ("expected a module name, not a file name: write %s for %s")
           :format(show(s:sub(1, -5)), s:sub(1, -5):gsub("%.", "/") .. ".lua")
  end
  local i, n = 1, #s
  while true do
    local c = s:sub(i, i)
    if not c:match("^[%a_]$") then
      return ("expected a letter or '_'%s at column %d, found %s")
             :format(i > 1 and " after '.'" or "", i, show_char(c))
    end
    i = i + 1
    while i <= n and s:sub(i, i):match("^[%w_]$") do i = i + 1 end
    if i > n then return nil end
    if s:sub(i, i) ~= "." then
      return ("expected a letter, digit, '_' or '.' at column %d, found %s (module names are Lua names separated by '.')")
             :format(i, show_char(s:sub(i, i)))
    end
    i = i + 1
  end
end

-- An absolute path in normal form: "/", or "/a/b" without empty, "." or
-- ".." components. A trailing "/" is allowed (and dropped).
local function path_normal(s)
  return #s > 1 and (s:gsub("/$", "")) or s
end

local function path_problem(s)
  if s == "" then return "expected an absolute path such as \"/var/lib/app\", got an empty string" end
  if #s > manifest.PATH_MAX then
    return ("expected at most %d bytes, got %d"):format(manifest.PATH_MAX, #s)
  end
  if s:sub(1, 1) ~= "/" then
    return ("expected an absolute path (starting with '/'), got %s"):format(show(s))
  end
  local nul = s:find("%z")
  if nul then return ("expected a path without NUL bytes, found one at column %d"):format(nul) end
  local body = path_normal(s)
  local pos = 2
  while pos <= #body do
    local stop = body:find("/", pos, true) or #body + 1
    local comp = body:sub(pos, stop - 1)
    if comp == "" then
      return ("expected a path without empty components, found '//' at column %d"):format(pos - 1)
    elseif comp == "." or comp == ".." then
      return ("expected a path without '.' or '..' components, found '%s' at column %d"):format(comp, pos)
    end
    pos = stop + 1
  end
  return nil
end

-- Text: valid UTF-8, no control characters other than tab and newline.
local function text_problem(s, max)
  if #s > max then return ("expected at most %d bytes, got %d"):format(max, #s) end
  local ok, bad = utf8.len(s)
  if not ok then return ("expected UTF-8 text, found an invalid byte at byte %d"):format(bad) end
  local at = s:find("[%z\1-\8\11-\31\127]")
  if at then
    return ("expected text without control characters, found byte 0x%02x at byte %d")
           :format(s:byte(at), at)
  end
  return nil
end

---------------------------------------------------------------------------
-- The file system: lstat and realpath (core/lua/l_fs.c).

local fs = {}

-- "file", "directory", "link", "other", or nil when absent.
function fs.kind(path)
  return (core_fs.kind(path))
end

-- realpath(path) -> absolute path with every symlink resolved, or nil, err.
fs.realpath = core_fs.realpath

---------------------------------------------------------------------------
-- Field checks. Each takes the problems collector P, the value, and fills
-- the record r.

local check = {}

local function expect_string(P, path, v, what)
  if type(v) ~= "string" then
    P:add(path, ("expected %s, got %s"):format(what, type_name(v)))
    return false
  end
  return true
end

local function expect_boolean(P, path, v)
  if type(v) ~= "boolean" then
    P:add(path, ("expected true or false, got %s"):format(type_name(v)))
    return false
  end
  return true
end

-- Keys of t in a stable order: integers first, then strings bytewise, so
-- that problems come out in the same order every run.
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = math.type(a) and 0 or 1, math.type(b) and 0 or 1
    if ta ~= tb then return ta < tb end
    return a < b
  end)
  return keys
end

-- A list: a table whose keys are exactly 1..n. Reports other keys.
local function expect_list(P, path, v, what, example)
  if type(v) ~= "table" then
    P:add(path, ("expected a list of %s such as %s, got %s"):format(what, example, type_name(v)))
    return nil
  end
  local n, ok = #v, true
  for _, k in ipairs(sorted_keys(v)) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      P:add(key_path(path, k), ("expected a list of %s such as %s, found the key %s")
                               :format(what, example, show(k)))
      ok = false
    end
  end
  return ok and v or nil
end

function check.id(P, v, r)
  if not expect_string(P, "id", v, "a plugin id such as \"my-plugin\" (a string)") then return end
  local why = id_problem(v)
  if why then P:add("id", why) return end
  r.id = v
end

function check.version(P, v, r)
  if not expect_string(P, "version", v, "a version such as \"1.2.3\" (a string)") then return end
  local ok, parsed = pcall(versioning.parse_version, v)
  if not ok then
    if not errors.is(parsed, "VersionError") then error(parsed, 0) end
    P:add("version", parsed.message)
    return
  end
  -- The version goes into signatures and rollback records: one spelling
  -- per version, so no 'v' prefix and no blanks.
  local canonical = tostring(parsed)
  if #parsed.build > 0 then canonical = canonical .. "+" .. table.concat(parsed.build, ".") end
  if v ~= canonical then
    local at = 1
    while at <= #v and v:sub(at, at) == canonical:sub(at, at) do at = at + 1 end
    P:add("version", ("expected the version as SemVer 2.0.0 writes it, %s (no 'v', no blanks), found %s at column %d")
                     :format(show(canonical), show_char(v:sub(at, at)), at))
    return
  end
  r.version, r.parsed_version = v, parsed
end

function check.description(P, v, r)
  if not expect_string(P, "description", v, "a string") then return end
  local why = text_problem(v, manifest.DESCRIPTION_MAX)
  if why then P:add("description", why) return end
  r.description = v
end

function check.entry(P, v, r)
  if not expect_string(P, "entry", v, "a module name such as \"main\" (a string)") then return end
  local why = module_problem(v)
  if why then P:add("entry", why) return end
  if v == "plugin" then
    P:add("entry", "\"plugin\" would be plugin.lua, the manifest itself; expected the module that holds the plugin's code")
    return
  end
  r.entry = v
end

-- A dependency constraint: the text as written and the parsed constraint.
local function parse_dependency_constraint(P, path, c)
  local ok, parsed = pcall(versioning.parse_constraint, c)
  if ok then return parsed end
  if not errors.is(parsed, "VersionError") then error(parsed, 0) end
  P:add(path, parsed.message)
  return nil
end

function check.dependencies(P, v, r, t)
  local deps = {}
  r.dependencies = deps
  if type(v) ~= "table" then
    P:add("dependencies", ("expected a table of plugin id = version constraint, such as {json = \"^1.2\"}, got %s")
                          :format(type_name(v)))
    return
  end
  for _, name in ipairs(sorted_keys(v)) do
    local spec = v[name]
    local path = key_path("dependencies", name)
    if type(name) ~= "string" then
      P:add(path, "expected plugin id = version constraint, such as json = \"^1.2\", found a list item")
      goto next
    end
    do
      local why = id_problem(name)
      if why then P:add(path, "the key is not a plugin id: " .. why) goto next end
      if type(t.id) == "string" and name == t.id then
        P:add(path, "a plugin cannot depend on itself")
        goto next
      end
      local dep = {name = name, type = "required"}
      if type(spec) == "string" then
        dep.constraint = spec
        dep.parsed_constraint = parse_dependency_constraint(P, path, spec)
      elseif type(spec) == "table" then
        local good = true
        for _, k in ipairs(sorted_keys(spec)) do
          if not DEPENDENCY_KEY_SET[k] then
            P:add(key_path(path, k), ("unknown key; expected constraint, type or reactivate%s")
                                     :format(suggest(k, DEPENDENCY_KEYS)))
            good = false
          end
        end
        local c = spec.constraint
        if c == nil then
          P:add(path, "missing constraint; expected {constraint = \"^1.2\", type = \"optional\"}")
          good = false
        elseif expect_string(P, path .. ".constraint", c, "a version constraint such as \"^1.2\" (a string)") then
          dep.constraint = c
          dep.parsed_constraint = parse_dependency_constraint(P, path .. ".constraint", c)
        end
        local ty = spec.type
        if ty ~= nil then
          if type(ty) == "string" and DEPENDENCY_TYPE_SET[ty:lower()] then
            dep.type = ty:lower()
          else
            P:add(path .. ".type", ("expected %s, got %s")
                                   :format(one_of{"\"required\"", "\"optional\"", "\"dev\""},
                                           type(ty) == "string" and show(ty) or type_name(ty)))
            good = false
          end
        end
        local re = spec.reactivate
        if re ~= nil then
          if type(re) == "boolean" then
            dep.reactivate = re
          else
            P:add(path .. ".reactivate", ("expected true or false, got %s"):format(type_name(re)))
            good = false
          end
        end
        if not good then goto next end
      else
        P:add(path, ("expected a version constraint such as \"^1.2\" or a table {constraint = \"^1.2\", type = \"optional\"}, got %s")
                    :format(type_name(spec)))
        goto next
      end
      deps[name] = dep
    end
    ::next::
  end
end

function check.hooks(P, v, r)
  r.hooks = {}
  -- {activate = true} is a common way to write a set; say how to write it.
  if type(v) == "table" and next(v) ~= nil then
    local names = {}
    for _, k in ipairs(sorted_keys(v)) do
      if type(k) ~= "string" then names = nil break end
      names[#names + 1] = show(k)
    end
    if names then
      P:add("hooks", ("expected a list of hook names, not a map: write hooks = {%s}")
                     :format(table.concat(names, ", ")))
      return
    end
  end
  local list = expect_list(P, "hooks", v, "hook names", "{\"activate\", \"deactivate\"}")
  if not list then return end
  local seen = {}
  for i, name in ipairs(list) do
    local path = key_path("hooks", i)
    if type(name) ~= "string" then
      P:add(path, ("expected a hook name (%s), got %s"):format(one_of(manifest.HOOKS), type_name(name)))
    elseif not HOOK_RANK[name] then
      P:add(path, ("unknown hook %s; expected %s%s")
                  :format(show(name), one_of(manifest.HOOKS), suggest(name, manifest.HOOKS)))
    elseif seen[name] then
      P:add(path, ("%s is listed twice (first at hooks[%d])"):format(show(name), seen[name]))
    else
      seen[name] = i
    end
  end
  -- save's result is what restore receives across a reload: one without
  -- the other would drop the plugin's state silently.
  if seen.save and not seen.restore then
    P:add(key_path("hooks", seen.save), "\"save\" needs \"restore\": a reload hands what save returns to restore")
  elseif seen.restore and not seen.save then
    P:add(key_path("hooks", seen.restore), "\"restore\" needs \"save\": a reload hands what save returns to restore")
  end
  local hooks = {}
  for name in pairs(seen) do hooks[#hooks + 1] = name end
  table.sort(hooks, function(a, b) return HOOK_RANK[a] < HOOK_RANK[b] end)
  r.hooks = hooks
end

-- A list of unique strings, each checked by problem(s) -> nil | why and
-- then put in normal form by normal(s).
local function string_list(P, path, v, what, example, problem, normal)
  local list = expect_list(P, path, v, what, example)
  local out, seen = {}, {}
  if not list then return out end
  for i, s in ipairs(list) do
    local p = key_path(path, i)
    if type(s) ~= "string" then
      P:add(p, ("expected a string, got %s"):format(type_name(s)))
    else
      local why = problem(s)
      local norm = not why and normal and normal(s) or s
      if why then
        P:add(p, why)
      elseif seen[norm] then
        P:add(p, ("%s is listed twice (first at %s[%d])"):format(show(s), path, seen[norm]))
      else
        seen[norm] = i
        out[#out + 1] = norm
      end
    end
  end
  return out
end

function check.capabilities(P, v, r)
  local caps = {network = false, subprocess = false, file_write = false, paths = {}, modules = {}}
  r.capabilities = caps
  if type(v) ~= "table" then
    P:add("capabilities", ("expected a table such as {network = true, paths = {\"/var/lib/app\"}}, got %s")
                          :format(type_name(v)))
    return
  end
  for _, k in ipairs(sorted_keys(v)) do
    local path = key_path("capabilities", k)
    local val = v[k]
    if not CAPABILITY_SET[k] then
      P:add(path, ("unknown capability; expected %s%s"):format(one_of(CAPABILITIES), suggest(k, CAPABILITIES)))
    elseif k == "paths" then
      caps.paths = string_list(P, path, val, "absolute paths", "{\"/var/lib/app\"}", path_problem, path_normal)
    elseif k == "modules" then
      caps.modules = string_list(P, path, val, "module names", "{\"cjson\", \"socket.http\"}", module_problem)
    elseif expect_boolean(P, path, val) then
      caps[k] = val
    end
  end
end

-- lua: a constraint on Lua versions. Lua shows code only "Lua 5.4", not the
-- release, so the constraint is met when some 5.4.x release satisfies it.
function check.lua(P, v, r, _, opts)
  if not expect_string(P, "lua", v, "a version constraint such as \"5.4\" or \">=5.4\" (a string)") then return end
  local ok, parsed = pcall(versioning.parse_constraint, v)
  if not ok then
    if not errors.is(parsed, "VersionError") then error(parsed, 0) end
    P:add("lua", parsed.message)
    return
  end
  local running = opts.lua_version or _VERSION:match("(%d+%.%d+)")
  local major, minor = tostring(running):match("^(%d+)%.(%d+)$")
  if not major then error("manifest: lua_version must look like \"5.4\", got " .. tostring(running), 0) end
  local range = ("%d.%d.x"):format(major, minor)
  if not parsed:intersects(range) then
    P:add("lua", ("this plugin supports Lua %s, which excludes Lua %s, the Lua running here")
                 :format(show(v), running))
    return
  end
  r.lua, r.lua_constraint = v, parsed
end

---------------------------------------------------------------------------
-- The entry module on disk

-- Find entry's file below dir as require would ("?.lua", then "?/init.lua"),
-- refusing symlinks on the way (a plugin is a tree of regular files, and a
-- link could lead out of it) and anything but a regular file at the end.
local function check_entry_file(P, r, dir)
  local base = r.entry:gsub("%.", "/")
  local candidates = {base .. ".lua", base .. "/init.lua"}
  for _, rel in ipairs(candidates) do
    local sofar = dir
    local comps = {}
    for c in rel:gmatch("[^/]+") do comps[#comps + 1] = c end
    for i, comp in ipairs(comps) do
      sofar = sofar .. "/" .. comp
      local kind = fs.kind(sofar)
      if kind == nil then break end
      local shown = table.concat(comps, "/", 1, i)
      if kind == "link" then
        P:add("entry", ("module %s: %s is a symbolic link; a plugin may not contain links (one could lead outside its directory)")
                       :format(show(r.entry), shown))
        return
      end
      if i < #comps and kind ~= "directory" then break end
      if i == #comps then
        if kind ~= "file" then
          P:add("entry", ("module %s: %s is %s, expected a regular file")
                         :format(show(r.entry), shown, kind == "directory" and "a directory" or "not a regular file"))
          return
        end
        r.entry_file, r.entry_path = rel, dir .. "/" .. rel
        return
      end
    end
  end
  P:add("entry", ("module %s not found: expected %s or %s in the plugin directory")
                 :format(show(r.entry), candidates[1], candidates[2]))
end

---------------------------------------------------------------------------
-- The record

local Manifest = {}

-- m:has_hook(name) -> whether the manifest lists that lifecycle hook.
function Manifest:has_hook(name)
  for _, h in ipairs(self.hooks) do
    if h == name then return true end
  end
  return false
end

-- m:line_of(path) -> the line of a dotted key path in plugin.lua (or of its
-- nearest enclosing key), for errors raised after loading (a dependency
-- that cannot be resolved points at its line).
function Manifest:line_of(path)
  local P = datafile.problems({source = self.source, lines = self.lines}, "ManifestError")
  P:add(path, "")
  return P:list()[1].line
end

manifest.Manifest = Manifest

local REQUIRED = {
  id = "a plugin id such as \"my-plugin\"",
  version = "a version such as \"1.0.0\"",
  entry = "the plugin's main module name, such as \"main\"",
}

-- validate(t, source [, opts]) -> frozen record, or raises ManifestError
-- listing every problem. source names t in messages (a path). opts:
--   info         the info of datafile.load/eval (lines of keys)
--   dir          the plugin's absolute directory: check the entry file and
--                the directory name, and set record.dir
--   dir_names    names the directory may have (default: dir's last component)
--   lua_version  "5.4": check `lua` against this instead of _VERSION
function manifest.validate(t, source, opts)
  opts = opts or {}
  source = source or "plugin.lua"
  local info = opts.info or {source = source, lines = {}}
  if info.source == nil then info.source = source end
  local P = datafile.problems(info, "ManifestError")
  -- Past MAX_PROBLEMS only count: a file can make thousands of keys in a
  -- loop, and neither the checks nor the message should grow with them.
  local add, dropped = P.add, 0
  P.add = function(self, path, message)
    if self:count() < manifest.MAX_PROBLEMS then return add(self, path, message) end
    dropped = dropped + 1
  end
  if type(t) ~= "table" then
    P:add("", ("expected the file to return a table such as {id = \"my-plugin\", version = \"1.0.0\", entry = \"main\"}, got %s")
              :format(t == nil and "nothing" or type_name(t)))
    P:raise_if_any()
  end
  local r = {
    source = source,
    description = "",
    dependencies = {},
    hooks = {},
    capabilities = {network = false, subprocess = false, file_write = false, paths = {}, modules = {}},
  }
  for _, k in ipairs(sorted_keys(t)) do
    if P:count() >= manifest.MAX_PROBLEMS and not FIELD_SET[k] then
      dropped = dropped + 1       -- not worth a "did you mean"
    elseif type(k) ~= "string" then
      P:add(key_path("", k), "unexpected list item; plugin.lua holds named fields (id = ..., version = ...)")
    elseif not FIELD_SET[k] then
      P:add(key_path("", k), ("unknown key; expected %s%s"):format(one_of(FIELDS), suggest(k, FIELDS)))
    end
  end
  for _, k in ipairs(FIELDS) do
    local v = t[k]
    if v == nil then
      if REQUIRED[k] then P:add(k, "missing; expected " .. REQUIRED[k]) end
    else
      check[k](P, v, r, t, opts)
    end
  end
  if opts.dir then
    r.dir = opts.dir
    if r.entry then check_entry_file(P, r, opts.dir) end
    if r.id then
      local names = opts.dir_names or {opts.dir:match("([^/]+)/*$") or opts.dir}
      local match = false
      for _, n in ipairs(names) do match = match or n == r.id end
      if not match then
        P:add("id", ("the plugin directory is named %s but the id is %s; a plugin lives in a directory named after its id")
                    :format(show(names[1]), show(r.id)))
      end
    end
  end
  if dropped > 0 then
    local _, e = pcall(P.raise_if_any, P)
    e.message = ("%s\n%s: and %d more problem%s not shown"):format(e.message, source, dropped,
                                                                   dropped == 1 and "" or "s")
    e.more_problems = dropped
    error(e, 2)
  end
  P:raise_if_any()
  local lines = {}
  for k, v in pairs(info.lines or {}) do lines[k] = v end
  r.lines = lines
  return frozen.freeze(r, {name = "Manifest", methods = Manifest})
end

-- load(dir [, opts]) -> frozen record of <dir>/plugin.lua, or raises
-- ManifestError. opts: lua_version (as validate), and instructions, memory,
-- max_size for datafile.load.
function manifest.load(dir, opts)
  opts = opts or {}
  if type(dir) ~= "string" then
    errors.raise("UsageError", "manifest.load: expected a plugin directory (a string), got " .. type(dir), nil, 2)
  end
  local given = dir:gsub("(.)/+$", "%1")
  local real, err = fs.realpath(given)
  if not real or fs.kind(real) ~= "directory" then
    errors.raise("ManifestError", ("%s: not a plugin directory: %s")
                 :format(given, real and "not a directory" or err:gsub("^%u", string.lower)),
                 {source = given, input = dir}, 2)
  end
  local path = given .. (given:sub(-1) == "/" and "" or "/") .. "plugin.lua"
  local kind = fs.kind(real .. "/plugin.lua")
  if kind ~= "file" then
    errors.raise("ManifestError", ("%s: %s"):format(path,
      kind == nil and "missing; a plugin directory holds its manifest in plugin.lua"
      or kind == "link" and "is a symbolic link; a plugin may not contain links"
      or "is not a regular file"), {source = path}, 2)
  end
  -- Messages name the file as the caller named the directory.
  local value, info = datafile.load(path, {
    kind = "ManifestError", instructions = opts.instructions, memory = opts.memory,
    max_size = opts.max_size or manifest.MAX_SIZE,
  })
  local base = given:match("([^/]+)$")
  local names = {real:match("([^/]+)$") or "/"}
  if base and base ~= "." and base ~= ".." then table.insert(names, 1, base) end
  return manifest.validate(value, path, {
    info = info, dir = real, dir_names = names, lua_version = opts.lua_version,
  })
end

return manifest
