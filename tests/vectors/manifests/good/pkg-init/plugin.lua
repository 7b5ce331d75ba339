return {
  id = "pkg-init",
  version = "2.0.0",
  entry = "core",
}
