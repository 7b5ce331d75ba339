-- LuaRocks build of truthound for Lua 5.4. From a checkout:
--   luarocks --lua-version 5.4 --tree DIR make rocks/truthound-scm-1.rockspec
-- installs truthound.core (C), the truthound.* Lua modules and the tplua host.
rockspec_format = "3.0"
package = "truthound"
version = "scm-1"

source = {
  url = "git+file://.",
}

description = {
  summary = "Plugin engine for Lua 5.4: signed, version-resolved, kernel-sandboxed plugins",
  detailed = [[
truthound loads third-party Lua plugins that are signed, version-pinned and
run under security policies the kernel enforces (namespaces, seccomp,
Landlock, cgroups). A C core does semver, crypto and sandboxing; a Lua layer
composes policies, verification chains and lifecycles.]],
  license = "MIT",
  labels = {"plugins", "sandbox", "semver", "security"},
}

dependencies = {
  "lua >= 5.4, < 5.5",
}

external_dependencies = {
  LIBUV = {header = "uv.h", library = "uv"},
  LIBEDIT = {header = "editline/readline.h", library = "edit"},
}

build = {
  type = "make",
  build_target = "all",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LUA = "$(LUA)",
    LUA_INCDIR = "$(LUA_INCDIR)",
  },
  install_target = "install",
  install_variables = {
    PREFIX = "$(PREFIX)",
    BINDIR = "$(BINDIR)",
    LIBDIR = "$(LIBDIR)",
    LUADIR = "$(LUADIR)",
  },
}
