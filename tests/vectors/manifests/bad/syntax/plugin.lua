return {
  id = "syntax"
  version = "1.0.0",
}
