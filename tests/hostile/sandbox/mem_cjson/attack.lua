local cjson = require("cjson")
return {run = function(env)
  local s = string.rep("j", 4 << 20)        -- 4 MiB, under the cap
  local t = {}
  for i = 1, env.copies do t[i] = s end     -- the same string many times: cheap
  return #cjson.encode(t)                   -- copies * 4 MiB of malloc'd buffer
end}
