/*
** l_fs.c: the few file-system calls the Lua layer needs (core.fs), where
** plain Lua has none: lstat without following links, and realpath.
** Environment failures return nil, the system's message and errno, as
** Lua's io library does (without the path: the caller names it).
**
**   core.fs.kind(path)     -> "file" | "directory" | "link" | "other" | nil, msg, errno
**   core.fs.realpath(path) -> absolute path, every link resolved | nil, msg, errno
**   core.fs.list(path)     -> array of entry names (no "." or ".."), unsorted | nil, msg, errno
**   core.fs.write_atomic(path, data [, mode]) -> true | nil, msg, errno
**       (core/atomicfile.h: temp file, fsync, rename, fsync the directory;
**       mode default 0600, the umask applies; msg names the failing step)
**   core.fs.write_new(path, data, mode) -> true | nil, msg, errno
**       a file that must not exist yet (O_EXCL, no link followed), with
**       exactly these permission bits (not the umask's); no fsync: for
**       copies that are checked after they are written (the manager's
**       staging of verified plugins)
**   core.fs.mkdir(path, mode) -> true | nil, msg, errno   exactly mode
**   core.fs.mkdtemp(prefix, mode) -> path | nil, msg, errno
**       a new directory prefix .. six random characters, then chmod mode
*/
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "atomicfile.h"
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

/* An open directory, closed by __gc if a memory error leaves fs_list
** early (one idempotent function for __gc and the normal path). */
#define DIR_MT "truthound.fs.dir"

static int dir_close(lua_State *L) {
  DIR **d = luaL_checkudata(L, 1, DIR_MT);
  if (*d) closedir(*d);
  *d = NULL;
  return 0;
}

static int fs_list(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  DIR **d = lua_newuserdatauv(L, sizeof *d, 0);
  struct dirent *e;
  lua_Integer n = 0;
  *d = NULL;
  if (luaL_newmetatable(L, DIR_MT)) {
    lua_pushcfunction(L, dir_close);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  if ((*d = opendir(path)) == NULL) return fs_fail(L);
  lua_newtable(L);
  errno = 0;
  while ((e = readdir(*d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    lua_pushstring(L, e->d_name);
    lua_rawseti(L, -2, ++n);
    errno = 0;
  }
  if (errno != 0) return fs_fail(L);   /* the box closes it when collected */
  closedir(*d);
  *d = NULL;
  return 1;
}

static int fs_write_atomic(lua_State *L) {
  size_t len;
  const char *path = luaL_checkstring(L, 1);
  const char *data = luaL_checklstring(L, 2, &len);
  lua_Integer mode = luaL_optinteger(L, 3, TP_ATOMICFILE_MODE);
  const char *step;
  int r;
  luaL_argcheck(L, mode >= 0 && mode <= 07777, 3, "permission bits from 0 to 4095 (octal 7777) expected");
  r = tp_atomicfile_write(path, data, len, (mode_t)mode, &step);
  if (r < 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", step, strerror(-r));
    lua_pushinteger(L, -r);
    return 3;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int check_mode(lua_State *L, int idx) {
  lua_Integer mode = luaL_checkinteger(L, idx);
  luaL_argcheck(L, mode >= 0 && mode <= 0777, idx, "permission bits from 0 to 511 (octal 777) expected");
  return (int)mode;
}

static int fs_write_new(lua_State *L) {
  size_t len, off = 0;
  const char *path = luaL_checkstring(L, 1);
  const char *data = luaL_checklstring(L, 2, &len);
  int mode = check_mode(L, 3);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return fs_fail(L);
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      unlink(path);
      errno = e;
      return fs_fail(L);
    }
    off += (size_t)n;
  }
  /* fchmod, not the open mode: the umask must not decide what a nobody
  ** worker may read */
  if (fchmod(fd, (mode_t)mode) != 0 || close(fd) != 0) {
    int e = errno;
    unlink(path);
    errno = e;
    return fs_fail(L);
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int fs_mkdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int mode = check_mode(L, 2);
  if (mkdir(path, 0700) != 0) return fs_fail(L);
  if (chmod(path, (mode_t)mode) != 0) return fs_fail(L);
  lua_pushboolean(L, 1);
  return 1;
}

static int fs_mkdtemp(lua_State *L) {
  size_t len;
  const char *prefix = luaL_checklstring(L, 1, &len);
  int mode = check_mode(L, 2);
  char buf[PATH_MAX];
  luaL_argcheck(L, len + 7 <= sizeof buf, 1, "prefix too long");
  memcpy(buf, prefix, len);
  memcpy(buf + len, "XXXXXX", 7);
  if (mkdtemp(buf) == NULL) return fs_fail(L);
  if (chmod(buf, (mode_t)mode) != 0) {
    int e = errno;
    rmdir(buf);
    errno = e;
    return fs_fail(L);
  }
  lua_pushstring(L, buf);
  return 1;
}

static const luaL_Reg fs_funcs[] = {
  {"write_new", fs_write_new},
  {"mkdir", fs_mkdir},
  {"mkdtemp", fs_mkdtemp},
  {"list", fs_list},
  {"kind", fs_kind},
  {"realpath", fs_realpath},
  {"write_atomic", fs_write_atomic},
  {NULL, NULL}
};

void tpL_open_fs(lua_State *L) {
  luaL_newlib(L, fs_funcs);
  lua_setfield(L, -2, "fs");
}
