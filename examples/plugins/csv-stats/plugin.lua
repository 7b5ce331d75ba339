-- An example plugin that depends on another.
return {
  id = "csv-stats",
  version = "0.3.1",
  description = "Summarises the rows of a CSV table.",
  entry = "csv_stats",
  dependencies = {
    greeter = "^1.0",
    ["log.core"] = {constraint = ">=2.0.0, <3", type = "optional"},
  },
  hooks = {"load", "activate", "deactivate", "save", "restore"},
}
