return {
  id = "Everything",
  version = "v1.2",
  description = "bell\7",
  entry = "main.lua",
  dependencies = {
    json = "^^1",
    ["Bad Name"] = "1.0.0",
    log = {constraint = "~1", kind = "optional"},
    util = {constraint = "1.x", type = "maybe"},
  },
  hooks = {"activate", "start", "activate"},
  capabilities = {
    netwrok = true,
    file_write = "yes",
    paths = {"relative/dir", "/srv/../etc"},
    modules = {"socket..http"},
  },
  lua = "5.3",
  licence = "MIT",
}
