return {
  id = "right-name",
  version = "1.0.0",
  entry = "main",
}
