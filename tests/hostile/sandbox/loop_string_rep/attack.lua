-- string.rep with an empty separator and an empty string returns at once,
-- but with a one-byte separator and a huge count it loops in C. The count
-- is large and the memory small: the allocator refuses before the loop,
-- so the plugin catches that and loops in C through find instead.
return {run = function()
  local s = string.rep("a", 200000)
  -- backtracking in C: every a- may take 0..n bytes, tried in every mix
  return s:find(string.rep("a-", 30) .. "b")
end}
