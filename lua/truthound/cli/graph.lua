-- tplua graph: the dependency graph of plugin directories, and GNU tsort.
--
--   tplua graph DIR... [--format text|dot|json] [--include-dev]
--   tplua graph --tsort [FILE]
--
-- DIR is a plugin directory or a directory of them (truthound.dependencies
-- .scan). When several versions of a plugin are found, the highest is in
-- the graph and the others are listed as also found. Exit 0 when the graph
-- has no problem, 1 when it has (missing required dependency, cycle,
-- version outside a constraint, a manifest that does not load).
--
-- --tsort reads GNU tsort's input (FILE, or stdin when FILE is absent or
-- "-") and behaves as tsort: the order on stdout, each loop on stderr as
-- "tplua: FILE: input contains a loop:" and one "tplua: NODE" line per
-- node, exit 1 when there was a loop or the input is bad.

local errors = require("truthound.errors")
local graph_mod = require("truthound.dependencies.graph")
local scan = require("truthound.dependencies.scan")

local DependencyGraph = graph_mod.DependencyGraph
local PROGRAM = "tplua"

local function usage_error(msg)
  errors.raise("UsageError", msg, {command = "graph"})
end

---------------------------------------------------------------------------
-- --tsort

local function read_input(name)
  if name == "-" then return io.stdin:read("a") end
  local f, why = io.open(name, "rb")
  if not f then return nil, why and why:match(": ([^:]*)$") or tostring(why) end
  local text, why2 = f:read("a")
  f:close()
  if not text then return nil, why2 and why2:match(": ([^:]*)$") or tostring(why2) end
  return text
end

local function tsort(files)
  if #files > 1 then
    usage_error(("graph --tsort: extra operand '%s'; expected at most one FILE"):format(files[2]))
  end
  local name = files[1] or "-"
  local text, why = read_input(name)
  if not text then
    io.stderr:write(("%s: %s: %s\n"):format(PROGRAM, name, why))
    return 1
  end
  local ok, lines, loops = pcall(graph_mod.tsort_text, text, name)
  if not ok then
    if not errors.is(lines, "InputError") then error(lines, 0) end
    io.stderr:write(PROGRAM, ": ", tostring(lines.message), "\n")
    return 1
  end
  local err = {}
  for _, loop in ipairs(loops) do
    err[#err + 1] = ("%s: %s: input contains a loop:\n"):format(PROGRAM, name)
    for _, node in ipairs(loop) do err[#err + 1] = ("%s: %s\n"):format(PROGRAM, node) end
  end
  io.stdout:write(lines)
  io.stdout:flush()
  io.stderr:write(table.concat(err))
  return #loops > 0 and 1 or 0
end

---------------------------------------------------------------------------
-- JSON, with sorted keys (the output is stable) and lists that stay lists
-- when empty.

local LIST = {}
local function list(t) return setmetatable(t or {}, LIST) end
local NULL = setmetatable({}, {__name = "null"})

local ESCAPES = {['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                 ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t"}

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local function encode(v, out)
  local t = type(v)
  if v == nil or v == NULL then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "number" then
    out[#out + 1] = math.type(v) == "integer" and tostring(v) or ("%.17g"):format(v)
  elseif t == "string" then
    out[#out + 1] = quote(v)
  elseif t == "table" and (getmetatable(v) == LIST or v[1] ~= nil) then
    out[#out + 1] = "["
    for i = 1, #v do
      if i > 1 then out[#out + 1] = "," end
      encode(v[i], out)
    end
    out[#out + 1] = "]"
  elseif t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = "," end
      out[#out + 1] = quote(k) .. ":"
      local x = v[k]
      if x == nil then x = v[tonumber(k)] end
      encode(x, out)
    end
    out[#out + 1] = "}"
  else
    out[#out + 1] = quote(tostring(v))
  end
end

local function json(v)
  local out = {}
  encode(v, out)
  return table.concat(out)
end

---------------------------------------------------------------------------
-- The graph of plugin directories

-- The directory of an info as the user named it.
local function shown_dir(info)
  return (info.source or info.dir):gsub("/plugin%.lua$", "")
end

-- Build the graph from the highest version of each plugin found.
local function build(dirs, include_dev)
  local infos, manifest_problems = scan.plugins(dirs)
  local chosen, also = {}, {}
  for _, info in ipairs(infos) do   -- sorted by id, then ascending version
    if chosen[info.id] then also[#also + 1] = chosen[info.id] end
    chosen[info.id] = info
  end
  local g = DependencyGraph.new()
  local plugins = {}
  for _, info in ipairs(infos) do
    if chosen[info.id] == info then
      g:add_node(info.id, {version = info.version, dependencies = info.dependencies,
                           metadata = {dir = info.dir}})
      plugins[#plugins + 1] = info
    end
  end
  local ok, order = pcall(g.get_load_order, g, {include_dev = include_dev})
  if not ok then
    if not errors.is(order, "DependencyError") then error(order, 0) end
    order = nil
  end
  return {graph = g, plugins = plugins, also = also, order = order,
          problems = g:validate({include_dev = include_dev}),
          manifest_problems = manifest_problems}
end

-- Every dependency edge: {from, to, type, constraint, present}, sorted.
local function edges_of(r)
  local edges = {}
  for _, info in ipairs(r.plugins) do
    local names = {}
    for name in pairs(info.dependencies) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      local d = info.dependencies[name]
      edges[#edges + 1] = {from = info.id, to = name, type = d.type, constraint = d.constraint,
                           present = r.graph:has_node(name)}
    end
  end
  return edges
end

local function manifest_problem_line(p)
  local where = p.source or "?"
  if p.line then where = where .. ":" .. p.line end
  if p.field then where = where .. ": " .. p.field end
  return where .. ": " .. tostring(p.message)
end

local function problem_count(r)
  return #r.problems + #r.manifest_problems
end

local function text_output(r)
  local out = {}
  local function say(fmt, ...) out[#out + 1] = fmt:format(...) end
  local version_of = {}
  for _, info in ipairs(r.plugins) do version_of[info.id] = info end
  local ids = r.order
  if ids then
    say("load order (%d plugin%s):", #ids, #ids == 1 and "" or "s")
  else
    ids = r.graph:ids()
    say("plugins (%d; no load order, the problems below prevent one):", #ids)
  end
  local width = 0
  for _, id in ipairs(ids) do width = math.max(width, #id + #version_of[id].version + 1) end
  for i, id in ipairs(ids) do
    local info = version_of[id]
    say("  %3d  %-" .. width .. "s  %s", i, id .. " " .. info.version, shown_dir(info))
  end
  local edges = edges_of(r)
  if #edges > 0 then
    say("dependencies:")
    for _, e in ipairs(edges) do
      local notes = {}
      if e.type ~= "required" then notes[#notes + 1] = e.type end
      if not e.present then notes[#notes + 1] = "absent" end
      say("  %s -> %s %s%s", e.from, e.to, e.constraint,
          #notes > 0 and (" (" .. table.concat(notes, ", ") .. ")") or "")
    end
  end
  if #r.also > 0 then
    say("also found (a higher version is in the graph):")
    for _, info in ipairs(r.also) do say("  %s %s  %s", info.id, info.version, shown_dir(info)) end
  end
  local n = problem_count(r)
  if n > 0 then
    say("problems (%d):", n)
    for _, p in ipairs(r.problems) do say("  %s", p.message) end
    for _, p in ipairs(r.manifest_problems) do say("  %s", manifest_problem_line(p)) end
  end
  return table.concat(out, "\n") .. "\n"
end

local function json_output(r)
  local plugins = list()
  for _, info in ipairs(r.plugins) do
    plugins[#plugins + 1] = {id = info.id, version = info.version, dir = info.dir,
                             dependencies = info.dependencies}
  end
  local also = list()
  for _, info in ipairs(r.also) do
    also[#also + 1] = {id = info.id, version = info.version, dir = info.dir}
  end
  local problems = list()
  for _, p in ipairs(r.problems) do
    problems[#problems + 1] = {kind = p.kind, id = p.id, dependency = p.dependency, type = p.type,
                               constraint = p.constraint, version = p.version,
                               cycle = p.cycle and list(p.cycle), message = p.message}
  end
  local mproblems = list()
  for _, p in ipairs(r.manifest_problems) do
    mproblems[#mproblems + 1] = {source = p.source, line = p.line, field = p.field,
                                 message = tostring(p.message)}
  end
  return json({
    ok = problem_count(r) == 0,
    plugins = plugins,
    load_order = r.order and list(r.order) or NULL,
    edges = list(edges_of(r)),
    also_found = also,
    problems = problems,
    manifest_problems = mproblems,
  }) .. "\n"
end

local FORMATS = {text = true, dot = true, json = true}

local function run(args)
  local dirs, format, include_dev, tsort_mode = {}, "text", false, false
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--tsort" then
      tsort_mode = true
    elseif a == "--include-dev" then
      include_dev = true
    elseif a == "--format" or a:match("^%-%-format=") then
      local value = a:match("^%-%-format=(.*)$")
      if not value then
        i = i + 1
        value = args[i]
      end
      if not value or not FORMATS[value] then
        usage_error(("graph: --format expects text, dot or json, got %s"):format(
          value and ("'" .. value .. "'") or "nothing"))
      end
      format = value
    elseif a == "--" then
      for j = i + 1, #args do dirs[#dirs + 1] = args[j] end
      break
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      usage_error(("graph: unknown option '%s'"):format(a))
    else
      dirs[#dirs + 1] = a
    end
    i = i + 1
  end
  if tsort_mode then
    if format ~= "text" or include_dev then
      usage_error("graph --tsort takes no --format or --include-dev")
    end
    return tsort(dirs)
  end
  if #dirs == 0 then
    usage_error("graph: expected a plugin directory or a directory of plugin directories")
  end
  local r = build(dirs, include_dev)
  if format == "json" then
    io.stdout:write(json_output(r))
  elseif format == "dot" then
    io.stdout:write(r.graph:to_dot({include_dev = true}))
    io.stdout:flush()
    for _, p in ipairs(r.problems) do io.stderr:write(PROGRAM, ": graph: ", p.message, "\n") end
    for _, p in ipairs(r.manifest_problems) do
      io.stderr:write(PROGRAM, ": graph: ", manifest_problem_line(p), "\n")
    end
  else
    io.stdout:write(text_output(r))
  end
  return problem_count(r) > 0 and 1 or 0
end

return {
  name = "graph",
  summary = "plugin dependency graphs: load order, cycles, dot, json; GNU tsort",
  usage = "tplua graph DIR... [--format text|dot|json] [--include-dev]\n" ..
          "       tplua graph --tsort [FILE]",
  help = [[
DIR is a plugin directory or a directory of plugin directories; several
may be given (with different versions of a plugin: the highest is used).
text   the load order (dependencies first, ties by id), every dependency
       edge, the other versions found and the problems: a missing required
       dependency, a cycle, a version outside a constraint, a manifest that
       does not load
dot    a Graphviz digraph: tplua graph plugins --format dot | dot -Tsvg
json   {"ok", "plugins", "load_order", "edges", "also_found", "problems",
       "manifest_problems"}
--include-dev  dev dependencies count as required (they are drawn anyway)
Exit status 0 without problems, 1 with.

--tsort reads GNU tsort's input from FILE (stdin when absent or "-"):
tokens separated by blanks, each pair "A B" meaning A comes before B. It
prints every token in an order that respects the pairs (ties in byte
order); each loop goes to stderr as GNU tsort reports it, one edge of it is
dropped and sorting goes on; the exit status is 1 after a loop or on bad
input (an odd number of tokens), as with tsort.]],
  run = run,
}
