-- An example plugin that depends on another and asks its policy for a path.
return {
  id = "csv-stats",
  version = "0.3.1",
  description = "Summarises CSV files under /srv/data.",
  entry = "csv_stats",
  dependencies = {
    greeter = "^1.0",
    ["log.core"] = {constraint = ">=2.0.0, <3", type = "optional"},
  },
  hooks = {"load", "activate", "deactivate", "save", "restore"},
  capabilities = {
    paths = {"/srv/data"},
    modules = {"cjson"},
  },
}
