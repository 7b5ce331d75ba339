return {
  id = "entry-is-dir",
  version = "1.0.0",
  entry = "main",
}
