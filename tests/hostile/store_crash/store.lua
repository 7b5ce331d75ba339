-- The store the crash test writes (tests/hostile/store_crash.sh): a JSON
-- document that is a pure function of its seq field, so that a reader can
-- tell a complete version from a truncated one or a mix of two: it renders
-- the document for the seq it parsed and compares byte for byte. The
-- checksum field is the sum of the entry lengths, for a reader that only
-- parses.
local cjson = require("cjson")

local store = {}

local ENTRIES = 64              -- about 256 KiB: a write takes a while

function store.render(seq)
  local entries, sum = {}, 0
  for i = 1, ENTRIES do
    local unit = ("%d.%d;"):format(seq, i)
    local e = unit:rep(4096 // #unit)
    entries[i] = e
    sum = sum + #e
  end
  -- Written by hand, keys in a fixed order: cjson's order is not fixed.
  local quoted = {}
  for i, e in ipairs(entries) do quoted[i] = '"' .. e .. '"' end
  return ('{"format":1,"seq":%d,"checksum":%d,"entries":[%s]}\n')
    :format(seq, sum, table.concat(quoted, ","))
end

-- The seq of a complete document, or nil and why not.
function store.check(text)
  local ok, doc = pcall(cjson.decode, text)
  if not ok then return nil, "does not parse: " .. tostring(doc) end
  -- cjson reads every number as a float
  local seq = type(doc) == "table" and math.tointeger(doc.seq)
  if not seq then return nil, "parses, but has no integer seq" end
  local sum = 0
  for _, e in ipairs(doc.entries or {}) do sum = sum + #e end
  if sum ~= doc.checksum then return nil, ("checksum %s, entries sum to %d"):format(doc.checksum, sum) end
  if text ~= store.render(seq) then return nil, "not the complete document for seq " .. seq end
  return seq
end

function store.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

return store
