-- truthound.native: the C core (truthound.core), wired to the Lua layer.
-- Every module that needs the core requires this one, so that however the
-- user enters (require "truthound", "truthound.versioning", tplua), the
-- bindings raise typed errors from truthound.errors.
local core = require("truthound.core")
core.set_raise(require("truthound.errors").raise)
return core
