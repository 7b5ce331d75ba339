-- truthound.manager.stage: run a verified plugin from a private copy.
--
--   local stage = require("truthound.manager.stage")
--   local area = stage.new()                  -- a private directory of this manager
--   local dir = area:copy("plugins/hello", "hello", "sha256:3f1c...")   -- or nil, err
--   area:remove()
--
-- Verification reads the plugin's directory once; the sandbox reads it
-- again later. Between the two, whoever can write the directory could
-- swap a verified file for another (a time-of-check/time-of-use race).
-- So the manager copies each verified plugin into a directory of its own
-- that nobody else can write, hashes the copy, and runs the copy only if
-- its tree digest is the one the signatures bind. A change made before or
-- during the copy makes the digests differ, and the plugin is refused.
--
-- Copies are readable by everyone (0644 files, 0755 directories, the
-- executable bit kept), since workers run as an unprivileged user; only
-- the host's user can write them.

local native = require("truthound.native")
local errors = require("truthound.errors")
local treehash = require("truthound.security.signing.treehash")

local fs = native.fs

local M = {}

local Area = {__name = "truthound.StageArea"}
Area.__index = Area

-- new([parent]) -> area: a fresh directory under parent (TMPDIR or /tmp).
function M.new(parent)
  parent = parent or os.getenv("TMPDIR") or "/tmp"
  local root, why = fs.mkdtemp(parent:gsub("/+$", "") .. "/truthound-stage-", tonumber("755", 8))
  if not root then
    errors.raise("ConfigError", ("cannot make the staging directory under %s: %s"):format(parent, why),
                 {field = "stage_dir", input = parent}, 2)
  end
  return setmetatable({root = root, n = 0}, Area)
end

local function read_all(path)
  local f, why = io.open(path, "rb")
  if not f then return nil, why end
  local data = f:read("a")
  f:close()
  return data
end

-- Make the directories of rel under dir (0755).
local function make_parents(dir, rel, made)
  local path = dir
  for part in rel:gmatch("([^/]+)/") do
    path = path .. "/" .. part
    if not made[path] then
      local ok, why, code = fs.mkdir(path, tonumber("755", 8))
      if not ok and code ~= 17 then return nil, ("%s: %s"):format(path, why) end   -- 17: EEXIST
      made[path] = true
    end
  end
  return true
end

local function fail(src, msg, fields)
  fields = fields or {}
  return nil, errors.new("SignatureTamperError", ("%s: staging the verified plugin: %s"):format(src, msg),
                         fields)
end

-- copy(src, id, digest) -> the copy's directory (named id, as manifests
-- want), or nil and a SignatureTamperError when the copy is not exactly
-- what digest ("sha256:<hex>") names.
function Area:copy(src, id, digest)
  self.n = self.n + 1
  local base = ("%s/%d"):format(self.root, self.n)
  local ok, why = fs.mkdir(base, tonumber("755", 8))
  if not ok then return fail(src, ("%s: %s"):format(base, why)) end
  local dst = base .. "/" .. id
  ok, why = fs.mkdir(dst, tonumber("755", 8))
  if not ok then return fail(src, ("%s: %s"):format(dst, why)) end
  local hok, _, listing = pcall(treehash.digest, src)
  if not hok then return nil, listing end
  local made = {}
  for line in listing:gmatch("[^\n]+") do
    local x, rel = line:match("^%x+ ([x-]) (.+)$")
    if not rel then return fail(src, "unexpected listing line " .. line) end
    local pok, perr = make_parents(dst, rel, made)
    if not pok then return fail(src, perr) end
    local data, rerr = read_all(src .. "/" .. rel)
    if not data then return fail(src, ("%s: %s"):format(rel, rerr)) end
    local wok, werr = fs.write_new(dst .. "/" .. rel, data, tonumber(x == "x" and "755" or "644", 8))
    if not wok then return fail(src, ("%s: %s"):format(rel, werr)) end
  end
  local cok, copied = pcall(treehash.digest, dst)
  if not cok then return nil, copied end
  if "sha256:" .. copied ~= digest then
    return fail(src, ("the files changed while they were verified or copied (copy sha256:%s, " ..
                      "signed %s)"):format(copied, digest),
                {expected_digest = digest, actual_digest = "sha256:" .. copied})
  end
  return dst
end

-- Remove a tree this area made (no link is followed: lstat-based kinds).
local function remove_tree(path)
  if fs.kind(path) == "directory" then
    for _, name in ipairs(fs.list(path) or {}) do remove_tree(path .. "/" .. name) end
  end
  os.remove(path)
end

function Area:remove()
  if self.root then remove_tree(self.root) end
  self.root = nil
end

return M
