-- truthound.security.signing.treehash: the tree digest of a plugin
-- directory, the value a signature binds (docs/formats.md, "Tree digest").
--
--   local treehash = require("truthound.security.signing.treehash")
--   local digest, listing = treehash.digest("plugins/hello")
--   digest   --> "3f1c..." (64 lowercase hex digits)
--   listing  --> "<sha256 hex> <x|-> <path>\n" per file, sorted bytewise
--
-- The files are hashed on the libuv thread pool (core.treehash). Same call,
-- both worlds: inside a task (tp.spawn) digest yields until the hash is
-- done; anywhere else it runs the loop until then.
--
-- A tree that cannot be hashed raises SignatureError with the fields
-- `path` (the offending path relative to dir, raw bytes; "" for dir
-- itself), `reason` ("symlink", "special", "name", "duplicate", "depth",
-- "files", "bytes", "path", "changed", "system", ...), `errno` (for system
-- failures) and `dir`; its message names the path.

local core = require("truthound.native")
local loop = require("truthound.loop")
local errors = require("truthound.errors")

local C = core.treehash

local treehash = {}

-- The bounds a tree must stay within unless opts says otherwise.
treehash.defaults = {}
for k, v in pairs(C.defaults) do treehash.defaults[k] = v end

local OPTIONS = {max_depth = true, max_files = true, max_bytes = true, max_path = true, jobs = true}

local function check_args(dir, opts)
  if type(dir) ~= "string" then
    error(("bad argument #1 to 'digest' (string expected, got %s)"):format(type(dir)), 3)
  end
  if opts == nil then return end
  if type(opts) ~= "table" then
    error(("bad argument #2 to 'digest' (table expected, got %s)"):format(type(opts)), 3)
  end
  for k in pairs(opts) do
    if not OPTIONS[k] then
      error(("bad argument #2 to 'digest' (unknown option '%s'; expected max_depth, "
        .. "max_files, max_bytes, max_path or jobs)"):format(tostring(k)), 3)
    end
  end
end

-- digest(dir [, opts]) -> digest_hex, listing, files, bytes
-- opts: max_depth, max_files, max_bytes, max_path (treehash.defaults),
-- jobs (threads hashing at once; default one per available CPU).
function treehash.digest(dir, opts)
  check_args(dir, opts)
  local op <close> = C.digest(dir, opts)
  loop.await(op)
  -- digest, listing, files, bytes | nil, message, path, reason, errno
  local digest, a, b, c, d = op:result()
  if digest then return digest, a, b, c end
  errors.raise("SignatureError", ("cannot hash the plugin tree %s: %s"):format(dir, a),
    {path = b, reason = c, errno = d, dir = dir}, 2)
end

return treehash
