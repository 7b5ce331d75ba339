return {run = function() return string.rep("r", 64 << 20) end}
