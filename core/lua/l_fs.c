/*
** l_fs.c: the few file-system calls the Lua layer needs (core.fs), where
** plain Lua has none: lstat without following links, and realpath.
** Environment failures return nil, the system's message and errno, as
** Lua's io library does (without the path: the caller names it).
**
**   core.fs.kind(path)     -> "file" | "directory" | "link" | "other" | nil, msg, errno
**   core.fs.realpath(path) -> absolute path, every link resolved | nil, msg, errno
*/
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua/l_core.h"

/* nil, the system's message, errno: the caller names the path. */
static int fs_fail(lua_State *L) {
  int e = errno;
  lua_pushnil(L);
  lua_pushstring(L, strerror(e));
  lua_pushinteger(L, e);
  return 3;
}

static int fs_kind(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (lstat(path, &st) != 0) return fs_fail(L);
  if (S_ISREG(st.st_mode)) lua_pushliteral(L, "file");
  else if (S_ISDIR(st.st_mode)) lua_pushliteral(L, "directory");
  else if (S_ISLNK(st.st_mode)) lua_pushliteral(L, "link");
  else lua_pushliteral(L, "other");
  return 1;
}

static int fs_realpath(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char buf[PATH_MAX];
  if (realpath(path, buf) == NULL) return fs_fail(L);
  lua_pushstring(L, buf);
  return 1;
}

static const luaL_Reg fs_funcs[] = {
  {"kind", fs_kind},
  {"realpath", fs_realpath},
  {NULL, NULL}
};

void tpL_open_fs(lua_State *L) {
  luaL_newlib(L, fs_funcs);
  lua_setfield(L, -2, "fs");
}
