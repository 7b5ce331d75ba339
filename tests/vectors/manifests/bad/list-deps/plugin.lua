return {
  id = "list-deps",
  version = "1.0.0",
  entry = "main",
  dependencies = {"json", "log"},
  hooks = {activate = true, load = true},
}
