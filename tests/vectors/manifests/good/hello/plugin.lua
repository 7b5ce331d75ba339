-- The manifest of the "hello" plugin: every field.
return {
  id = "hello",
  version = "1.2.0-beta.1+build.7",
  description = "Greets whoever activates it.\nSecond line.",
  entry = "hello.main",
  dependencies = {
    json = "^1.2",
    ["log.core"] = {constraint = ">=2.0.0, <3", type = "optional"},
    testkit = {constraint = "*", type = "dev"},
  },
  hooks = {"load", "activate", "deactivate", "save", "restore"},
  capabilities = {
    network = true,
    file_write = false,
    paths = {"/var/lib/hello", "/etc/hello/"},
    modules = {"cjson", "socket.http"},
  },
  lua = ">=5.4",
}
