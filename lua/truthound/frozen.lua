-- truthound.frozen: read-only records (policies, manifests).
--
--   local frozen = require("truthound.frozen")
--   local r = frozen.freeze({id = "x", deps = {"a"}}, {name = "Manifest", methods = M})
--   r.id            --> "x"
--   r.deps[1]       --> "a" (nested tables are frozen too)
--   r.id = "y"      --> error: Manifest is read-only (field 'id')
--   frozen.thaw(r)  --> a deep, mutable copy
--
-- A frozen record is an empty proxy; reads go to a private copy of the
-- data, then to the methods table; writes raise. pairs, ipairs and # see
-- the data. The copy is taken at freeze time, so later changes to the
-- original table do not show through.

local frozen = {}

local data_of = setmetatable({}, {__mode = "k"})   -- proxy -> its data

-- is_frozen(v): v is a frozen record that nobody forged: a proxy holds
-- nothing itself, so a field put there with rawset (which the proxy
-- cannot stop) makes it count as not frozen.
local function is_frozen(v) return data_of[v] ~= nil and next(v) == nil end
frozen.is_frozen = is_frozen

-- is(v, name): a frozen record made with {name = name}.
function frozen.is(v, name)
  return is_frozen(v) and getmetatable(v) == name
end

local function readonly(name)
  return function(_, k)
    error(("%s is read-only (field '%s'); use :with{...} for a changed copy")
          :format(name, tostring(k)), 2)
  end
end

-- freeze(t [, opts]) -> a frozen deep copy of t. opts.name names it in
-- errors; opts.methods is looked up for keys the data lacks.
function frozen.freeze(t, opts)
  if is_frozen(t) then return t end
  t = data_of[t] or t     -- a forged proxy: freeze its real data again
  opts = opts or {}
  local name = opts.name or "record"
  local methods = opts.methods
  local data = {}
  for k, v in pairs(t) do
    if type(v) == "table" and not is_frozen(v) and getmetatable(v) == nil then
      v = frozen.freeze(v, {name = name})
    end
    data[k] = v
  end
  local proxy = setmetatable({}, {
    __index = function(_, k)
      local v = data[k]
      if v == nil and methods then v = methods[k] end
      return v
    end,
    __newindex = readonly(name),
    __pairs = function() return next, data, nil end,
    __len = function() return #data end,
    __name = "truthound." .. name,
    __metatable = name,
  })
  data_of[proxy] = data
  return proxy
end

-- thaw(r) -> a deep mutable copy of a frozen record (plain tables as is).
function frozen.thaw(r)
  local data = data_of[r] or r
  local out = {}
  for k, v in pairs(data) do
    if type(v) == "table" and (is_frozen(v) or getmetatable(v) == nil) then v = frozen.thaw(v) end
    out[k] = v
  end
  return out
end

return frozen
