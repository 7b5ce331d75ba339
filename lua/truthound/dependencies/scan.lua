-- truthound.dependencies.scan: plugin directories to plugin infos, the
-- input of DependencyGraph and DependencyResolver.
--
--   local scan = require("truthound.dependencies.scan")
--   local infos, problems = scan.plugins({"plugins", "/opt/more-plugins"})
--   infos[1]      --> {id = "hello", version = "1.2.0", dir = "/abs/plugins/hello",
--                 --    source = "plugins/hello/plugin.lua",
--                 --    dependencies = {json = {constraint = "^1.2", type = "required"}}}
--   problems[1]   --> {source = "plugins/bad/plugin.lua", line = 3, field = "version",
--                 --    message = "invalid version ..."}
--
-- Each path is a plugin directory (it holds plugin.lua) or a directory of
-- plugin directories; several roots may hold different versions of the
-- same plugin. Every manifest is loaded with truthound.manifest; one that
-- fails is skipped and its problems are returned, so one broken plugin
-- does not hide the others. Results are deterministic: infos sorted by id,
-- then version (ascending precedence), then directory.

local native = require("truthound.native")
local errors = require("truthound.errors")
local manifest = require("truthound.manifest")
local versioning = require("truthound.versioning")

local M = {}

local fs = native.fs

-- The entries of directory path, sorted, or nil and a message.
local function list_dir(path)
  local names, why = fs.list(path)
  if names then table.sort(names) end
  return names, why
end

local function join(dir, name)
  return dir:sub(-1) == "/" and dir .. name or dir .. "/" .. name
end

local function is_dir(path)
  local real = fs.realpath(path)
  return real ~= nil and fs.kind(real) == "directory", real
end

-- The problems an InputError carries ({source, line, field, message}).
local function problems_of(e)
  if e.problems then return e.problems end
  return {{source = e.source, line = e.line, field = e.field, message = tostring(e.message)}}
end

local function info_of(m)
  local deps = {}
  for name, d in pairs(m.dependencies) do
    deps[name] = {constraint = d.constraint, type = d.type}
  end
  return {id = m.id, version = m.version, dependencies = deps, dir = m.dir, source = m.source}
end

local function compare_infos(a, b)
  if a.id ~= b.id then return a.id < b.id end
  local c = versioning.compare(a.version, b.version)
  if c ~= 0 then return c < 0 end
  if a.version ~= b.version then return a.version < b.version end   -- build metadata
  return a.dir < b.dir
end

-- plugins(paths [, opts]) -> infos, problems. paths: a path or a list of
-- them. opts.lua_version is passed to manifest.load.
function M.plugins(paths, opts)
  if type(paths) == "string" then paths = {paths} end
  if type(paths) ~= "table" then
    errors.raise("UsageError", "scan.plugins: expected a directory or a list of directories, got " .. type(paths))
  end
  opts = opts or {}
  local infos, problems = {}, {}
  local seen_dir, seen_version = {}, {}

  local function problem(source, message, line, field)
    problems[#problems + 1] = {source = source, line = line, field = field, message = message}
  end

  local function load(dir, real)
    if seen_dir[real] then return end   -- the same directory named twice
    seen_dir[real] = true
    local ok, m = pcall(manifest.load, dir, {lua_version = opts.lua_version})
    if not ok then
      if not errors.is(m, "InputError") then error(m, 0) end
      for _, p in ipairs(problems_of(m)) do problems[#problems + 1] = p end
      return
    end
    local key = m.id .. "\0" .. m.version
    local first = seen_version[key]
    if first then
      problem(m.source, ("plugin %s %s is also in %s; the first one found is used"):format(
        m.id, m.version, first.dir), m:line_of("version"), "version")
      return
    end
    local info = info_of(m)
    seen_version[key] = info
    infos[#infos + 1] = info
  end

  for i = 1, #paths do
    local path = paths[i]
    if type(path) ~= "string" then
      errors.raise("UsageError", ("scan.plugins: paths[%d]: expected a directory, got %s"):format(i, type(path)))
    end
    local dir_ok, real = is_dir(path)
    if not dir_ok then
      local _, why = fs.realpath(path)
      problem(path, real and "not a directory; expected a plugin directory or a directory of them"
                    or ("cannot open: %s"):format(why or "not found"))
    elseif fs.kind(join(real, "plugin.lua")) then
      load(path, real)
    else
      local names, why = list_dir(path)
      if not names then
        problem(path, "cannot list: " .. tostring(why))
      else
        local found = 0
        for _, name in ipairs(names) do
          local sub = join(path, name)
          local sub_ok, sub_real = is_dir(sub)
          if name:sub(1, 1) ~= "." and sub_ok and fs.kind(join(sub_real, "plugin.lua")) then
            found = found + 1
            load(sub, sub_real)
          end
        end
        if found == 0 then
          problem(path, "no plugins here: neither plugin.lua nor a directory holding one")
        end
      end
    end
  end
  table.sort(infos, compare_infos)
  return infos, problems
end

return M
