-- Plugin directories for the specs of the manager and the hot reload
-- (tests/lua/manager_spec.lua, hot_reload_spec.lua):
--
--   local dirs = dofile("tests/lua/support/plugin_dirs.lua")
--   local root = dirs.tmpdir()                       -- 0755: workers run as nobody under root
--   dirs.plugin(root, "p", "1.0.0", 'hooks = {"activate"}', "function M.activate() end")
--
-- Not a spec (busted runs *_spec.lua only).
local M = {}

function M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p '" .. p .. "' && chmod 755 '" .. p .. "'"))
  return p
end

function M.write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- plugin(root, id, version, fields, body): plugin.lua with the given extra
-- fields (Lua source) and main.lua with body inside "local M = {} ... return M".
function M.plugin(root, id, version, fields, body)
  os.execute(("mkdir -p '%s/%s'"):format(root, id))
  M.write(("%s/%s/plugin.lua"):format(root, id),
          ("return {id = %q, version = %q, entry = \"main\", %s}\n"):format(id, version, fields or ""))
  M.write(("%s/%s/main.lua"):format(root, id), "local M = {}\n" .. (body or "") .. "\nreturn M\n")
end

return M
