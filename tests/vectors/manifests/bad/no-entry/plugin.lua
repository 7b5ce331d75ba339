return {
  id = "no-entry",
  version = "1.0.0",
  entry = "missing.mod",
}
