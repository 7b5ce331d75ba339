-- A registry whose failure needs a branching explanation (a numbered line
-- referred to again, facts nothing satisfies, ranges of versions): found
-- by a seeded random search over 8 plugins (written for these tests;
-- requirements: ui (any version) and core ^2).
return {
  auth = {
    ["1.0.0"] = {dependencies = {db = "<2.0.0"}},
    ["1.1.0"] = {dependencies = {cache = "^3"}},
    ["3.0.0"] = {dependencies = {cache = "2.x", json = ">=2.1.0 || 1.0.0"}},
  },
  cache = {
    ["1.0.0"] = {dependencies = {auth = "^1.1"}},
    ["1.1.0"] = {dependencies = {db = "^1.1"}},
    ["1.2.0"] = {dependencies = {http = "^3", log = "^1.1"}},
    ["2.0.0"] = {dependencies = {auth = "~1.2.0"}},
    ["3.0.0"] = {dependencies = {}},
  },
  core = {
    ["1.0.0"] = {dependencies = {cache = "^1.1", log = "^2"}},
    ["1.2.0"] = {dependencies = {db = ">=1.1.0"}},
    ["2.0.0"] = {dependencies = {}},
    ["2.1.0"] = {dependencies = {cache = ">=1.1.0"}},
    ["3.0.0"] = {dependencies = {}},
  },
  db = {
    ["1.2.0"] = {dependencies = {ui = "2.x"}},
  },
  http = {
    ["1.0.0"] = {dependencies = {db = ">=2.1.0 || 1.0.0", log = ">=1.1.0"}},
    ["2.0.0"] = {dependencies = {core = "^3", json = "~1.2.0"}},
    ["3.0.0"] = {dependencies = {core = ">=1.1.0", json = "^2"}},
  },
  json = {
    ["1.0.0"] = {dependencies = {http = "^1"}},
    ["1.2.0"] = {dependencies = {}},
    ["2.0.0"] = {dependencies = {http = "^2"}},
    ["2.1.0"] = {dependencies = {http = "<2.0.0", ui = "^2"}},
    ["3.0.0"] = {dependencies = {http = "^1", log = "^1"}},
  },
  log = {
    ["1.0.0"] = {dependencies = {auth = "~1.2.0", http = ">=1.1.0"}},
    ["1.1.0"] = {dependencies = {ui = "^2"}},
    ["1.2.0"] = {dependencies = {core = "^3"}},
    ["2.0.0"] = {dependencies = {}},
  },
  ui = {
    ["1.0.0"] = {dependencies = {db = "^2"}},
    ["1.2.0"] = {dependencies = {http = ">=1.1.0"}},
    ["3.0.0"] = {dependencies = {cache = ">=1.0.0 <=2.0.0"}},
  },
}
