-- The third example plugin: it needs csv-stats, which needs greeter, so
-- loading it loads all three in that order.
return {
  id = "report",
  version = "1.1.0",
  description = "Renders a summary as a line of text.",
  entry = "report",
  dependencies = {["csv-stats"] = "^0.3"},
  hooks = {"activate"},
}
