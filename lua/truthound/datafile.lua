-- truthound.datafile: load policy.lua and plugin.lua files, which are data
-- that may come from someone you do not trust, and report problems in them
-- with file:line, the key's dotted path and what was expected.
--
--   local datafile = require("truthound.datafile")
--   local value, info = datafile.load("policy.lua", {kind = "PolicyError"})
--   local p = datafile.problems(info, "PolicyError")
--   if type(value.max_memory_mb) ~= "number" then
--     p:add("max_memory_mb", "expected a number of MiB or a size such as \"512MB\"")
--   end
--   p:raise_if_any()   --> PolicyError: policy.lua:3: max_memory_mb: expected ...
--
-- The chunk runs in a Lua state of its own (core/lua/l_datafile.c): no
-- globals, no libraries, text only, an instruction budget and a memory cap;
-- only plain data comes back. Source lines of keys come from a lexical scan
-- of the returned table constructor (key_lines), so they are known for the
-- usual `return { ... }` layout and unknown for computed tables.

local lpeg = require("lpeg")
local core = require("truthound.native")
local errors = require("truthound.errors")

local datafile = {}

datafile.DEFAULTS = {
  instructions = 1000000,     -- VM instructions (a policy file needs a few hundred)
  memory = 8 * 1024 * 1024,   -- bytes for the data state, data included
  max_size = 1024 * 1024,     -- bytes of source
}

local CHUNK = "datafile"      -- chunk name; messages say "datafile:LINE:"

local function opt(opts, k)
  local v = opts and opts[k]
  if v == nil then v = datafile.DEFAULTS[k] end
  return v
end

---------------------------------------------------------------------------
-- Key lines: a lexer for Lua source and a walk of the returned constructor

local P, R, S, C, Cp, Cc, Ct, Cb, Cg, Cmt =
  lpeg.P, lpeg.R, lpeg.S, lpeg.C, lpeg.Cp, lpeg.Cc, lpeg.Ct, lpeg.Cb, lpeg.Cg, lpeg.Cmt

local lexer do
  local eq = P"="^0
  local open = "[" * Cg(eq, "level") * "["
  local close = "]" * C(eq) * "]"
  local close_same = Cmt(close * Cb("level"), function(_, _, a, b) return a == b end)
  local long = open * (1 - close_same)^0 * close_same
  local space = S" \t\r\n\f\v"^1
  local comment = "--" * (long + (1 - P"\n")^0)
  local skip = (space + comment)^0
  local function quoted(q) return q * ((P"\\" * 1) + (1 - S(q .. "\\\n")))^0 * q end
  local str = Cc"string" * C(quoted'"' + quoted"'" + long)
  local name = Cc"name" * C((R("az", "AZ") + "_") * (R("az", "AZ", "09") + "_")^0)
  local digits = R"09"
  local num = Cc"number" * C((digits + "." * digits) * (S"eEpP" * S"+-" + R("09", "az", "AZ") + ".")^0)
  local punct = Cc"punct" * C(P"..." + ".." + "==" + "~=" + "<=" + ">=" + "//" + "::"
                               + "<<" + ">>" + S"+-*/%^#&~|<>=(){}[];:,.")
  local token = Ct(Cp() * (str + name + num + punct))
  lexer = skip * Ct((token * skip)^0) * Cp()
end

-- 1-based line of byte position pos.
local function line_index(src)
  local starts = {1}
  for p in src:gmatch("()\n") do starts[#starts + 1] = p + 1 end
  return function(pos)
    local lo, hi = 1, #starts
    while lo < hi do
      local mid = (lo + hi + 1) // 2
      if starts[mid] <= pos then lo = mid else hi = mid - 1 end
    end
    return lo
  end
end

-- The value of a string token (no code runs: a literal in an empty env).
local function string_value(tok)
  local f = load("return " .. tok, "=key", "t", {})
  local ok, v = pcall(f)
  return ok and v or nil
end

-- The path prefix.key, prefix[3] or prefix["odd key"], written exactly as
-- the data state's copier writes the path of a bad value.
local key_text = core.datafile.key_text
datafile.key_text = key_text

local OPEN = {["("] = true, ["["] = true, ["{"] = true}
local CLOSE = {[")"] = true, ["]"] = true, ["}"] = true}

-- Skip an expression: up to ',' ';' or '}' at this depth.
local function skip_expr(toks, i)
  local depth = 0
  while toks[i] do
    local t = toks[i]
    if t[2] == "punct" then
      local v = t[3]
      if depth == 0 and (v == "," or v == ";" or v == "}") then return i end
      if OPEN[v] then depth = depth + 1 elseif CLOSE[v] then depth = depth - 1 end
    end
    i = i + 1
  end
  return i
end

local function is_punct(t, v) return t and t[2] == "punct" and t[3] == v end

-- Walk the constructor that starts at toks[i] ('{'), recording the line of
-- each key under prefix. Returns the index after its '}'.
local function walk(toks, i, prefix, lines, line_of)
  local index = 0
  i = i + 1
  while toks[i] and not is_punct(toks[i], "}") do
    local t, key, at = toks[i], nil, toks[i][1]
    if t[2] == "name" and is_punct(toks[i + 1], "=") and not is_punct(toks[i + 2], "=") then
      key, i = t[3], i + 2
    elseif is_punct(t, "[") and toks[i + 2] and is_punct(toks[i + 2], "]") and is_punct(toks[i + 3], "=") then
      local k = toks[i + 1]
      if k[2] == "string" then key = string_value(k[3])
      elseif k[2] == "number" then key = math.tointeger(tonumber(k[3])) end
      key = key or false         -- computed or odd key: its children stay unknown
      i = i + 4
    else
      index = index + 1
      key = index
    end
    local path = key and key_text(prefix, key)
    if path and lines[path] == nil then lines[path] = line_of(at) end
    if is_punct(toks[i], "{") and path then
      i = walk(toks, i, path, lines, line_of)
    else
      i = skip_expr(toks, i)
      if is_punct(toks[i], "{") then i = i + 1 end   -- defensive; not reached
    end
    if is_punct(toks[i], ",") or is_punct(toks[i], ";") then i = i + 1 end
  end
  return i + 1
end

-- key_lines(src) -> {[dotted path] = line}: the lines of the keys of the
-- table constructor the chunk returns last at top level, with "" for the
-- line of that `return`. Empty when the source does not lex.
function datafile.key_lines(src)
  local lines = {}
  local toks, stop = lexer:match(src)
  if not toks or stop ~= #src + 1 then return lines end
  local line_of = line_index(src)
  local depth, ret = 0, nil
  for i, t in ipairs(toks) do
    if t[2] == "punct" then
      if OPEN[t[3]] then depth = depth + 1 elseif CLOSE[t[3]] then depth = depth - 1 end
    elseif t[2] == "name" and t[3] == "return" and depth == 0 then
      ret = i
    end
  end
  if ret then
    lines[""] = line_of(toks[ret][1])
    if is_punct(toks[ret + 1], "{") then walk(toks, ret + 1, "", lines, line_of) end
  end
  return lines
end

---------------------------------------------------------------------------
-- Evaluating

local WHY = {
  budget = "ran past its budget of %d instructions (an endless loop?)",
  memory = "needed more than its memory limit of %d bytes",
}

-- Raise kind for one problem; like raise_if_any, the error carries the
-- list of its problems (this one).
local function raise(kind, source, line, field, message)
  local p = {source = source, line = line, field = field, message = message}
  errors.raise(kind, datafile.format_problem(p),
               {source = source, line = line, field = field, problems = {p}}, 2)
end

-- eval(src, name [, opts]) -> value, info. name is the source's name in
-- messages (a path). See the header for opts.
function datafile.eval(src, name, opts)
  local kind = opt(opts, "kind") or "InputError"
  local instructions, memory = opt(opts, "instructions"), opt(opts, "memory")
  local info = {source = name, src = src}
  if #src > opt(opts, "max_size") then
    raise(kind, name, nil, nil, ("is %d bytes; a data file may have at most %d")
          :format(#src, opt(opts, "max_size")))
  end
  local value, what, message, path = core.datafile.eval(src, "=" .. CHUNK, instructions, memory)
  info.lines = datafile.key_lines(src)
  if what then
    local line, text = message:match("^" .. CHUNK .. ":(%d+): (.*)$")
    line = tonumber(line)
    if what == "budget" then text = WHY.budget:format(instructions)
    elseif what == "memory" then text = WHY.memory:format(memory)
    elseif what == "value" then
      text = ("is %s; a data file holds only tables, strings, numbers and booleans"):format(message)
      line = info.lines[path]
    elseif message == "attempt to load a binary chunk (mode is 't')" then
      text = "is precompiled bytecode; a data file must be Lua source text"
    elseif message == "C stack overflow" then   -- the parser's nesting limit
      text = "nests too deeply for the Lua parser (C stack overflow)"
    end
    raise(kind, name, line, what == "value" and path ~= "" and path or nil, text or message)
  end
  return value, info
end

-- load(path [, opts]) -> value, info
function datafile.load(path, opts)
  local kind = opt(opts, "kind") or "InputError"
  local f, err = io.open(path, "rb")
  if not f then raise(kind, path, nil, nil, "cannot open: " .. (err:match(": ([^:]*)$") or err)) end
  local _, rerr0 = f:read(0)          -- a directory opens, but does not read
  if rerr0 then
    f:close()
    raise(kind, path, nil, nil, "cannot read: " .. rerr0)
  end
  local size = f:seek("end")
  if size and size > opt(opts, "max_size") then
    f:close()
    raise(kind, path, nil, nil, ("is %d bytes; a data file may have at most %d")
          :format(size, opt(opts, "max_size")))
  end
  f:seek("set")
  -- At most one byte past the cap: a device or a /proc file reports no
  -- size, and /dev/zero must not fill the caller's memory.
  local src, rerr = f:read(opt(opts, "max_size") + 1)
  f:close()
  if src == nil and rerr == nil then src = "" end      -- an empty file
  if not src then raise(kind, path, nil, nil, "cannot read: " .. tostring(rerr)) end
  if #src > opt(opts, "max_size") then
    raise(kind, path, nil, nil, ("is more than %d bytes; a data file may have at most %d")
          :format(opt(opts, "max_size"), opt(opts, "max_size")))
  end
  return datafile.eval(src, path, opts)
end

---------------------------------------------------------------------------
-- Collecting problems

-- The line of path, or of its longest known prefix.
local function line_for(lines, path)
  while path do
    if lines[path] then return lines[path] end
    if path == "" then return nil end
    path = path:match("^(.*)%.[%a_][%w_]*$") or path:match("^(.*)%[[^%[%]]*%]$") or
           (path:find("[%.%[]") == nil and "" or nil)
  end
end

-- format_problem(p) -> "source:line: field: message"
function datafile.format_problem(p)
  local out = p.source or "?"
  if p.line then out = out .. ":" .. p.line end
  if p.field and p.field ~= "" then out = out .. ": " .. p.field end
  return out .. ": " .. p.message
end

local Problems = {}
Problems.__index = Problems

-- problems(info, kind) -> collector. info from load/eval, or {source = name}.
function datafile.problems(info, kind)
  return setmetatable({info = info, kind = kind or "InputError", list_ = {}}, Problems)
end

function Problems:add(path, message)
  path = path or ""
  self.list_[#self.list_ + 1] = {
    source = self.info.source,
    line = line_for(self.info.lines or {}, path),
    field = path ~= "" and path or nil,
    message = message,
  }
end

function Problems:count() return #self.list_ end

function Problems:list() return self.list_ end

-- raise_if_any(): one error for all problems, in file order (those with
-- no known line last, in the order they were added).
function Problems:raise_if_any()
  local list = self.list_
  if #list == 0 then return end
  local order = {}
  for i = 1, #list do order[i] = i end
  table.sort(order, function(a, b)
    local la, lb = list[a].line or math.huge, list[b].line or math.huge
    if la ~= lb then return la < lb end
    return a < b
  end)
  local sorted = {}
  for i, k in ipairs(order) do sorted[i] = list[k] end
  list = sorted
  local text = {}
  for i, p in ipairs(list) do text[i] = datafile.format_problem(p) end
  local message = table.concat(text, "\n")
  if #list > 1 then
    message = ("%d problems in %s:\n%s"):format(#list, list[1].source, message)
  end
  errors.raise(self.kind, message, {source = list[1].source, line = list[1].line,
                                    field = list[1].field, problems = list}, 2)
end

return datafile
