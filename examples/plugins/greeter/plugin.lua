-- An example plugin manifest: see docs/manifest.md.
return {
  id = "greeter",
  version = "1.0.0",
  description = "Says hello; the smallest useful plugin.",
  entry = "greeter.main",
  hooks = {"load", "activate", "deactivate"},
  lua = ">=5.4",
}
