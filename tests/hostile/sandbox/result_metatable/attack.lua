return {run = function()
  local loop = function() while true do end end
  return setmetatable({a = 1}, {__index = loop, __pairs = loop, __len = loop, __eq = loop,
                                __tostring = loop})
end}
