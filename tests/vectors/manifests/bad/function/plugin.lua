return {
  id = "function",
  version = "1.0.0",
  entry = "main",
  hooks = {activate = function() return true end},
}
