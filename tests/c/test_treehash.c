/*
** test_treehash.c: core/treehash.c. The digest of a fixed tree against
** the value the documented shell pipeline gives (docs/formats.md, "Tree
** digest"; recomputed live by tests/lua/treehash_spec.lua), every kind of
** entry a tree must refuse, the race between the walk and the hashing
** (files swapped for links, other files, fifos, resized), the bounds, and
** the loop operation (threads, cancel, release, loop close) under ASan.
*/
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "treehash.h"
#include "tp_test.h"

/* ---- fixtures ------------------------------------------------------- */

static char root[256];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
  (void)st; (void)flag; (void)f;
  return remove(p);
}

static void rm_tree(const char *dir) {
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh empty directory as the tree root. */
static const char *fresh(void) {
  const char *tmp = getenv("TMPDIR");
  if (root[0]) rm_tree(root);
  snprintf(root, sizeof root, "%s/treehash.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(root) == NULL) {
    perror("mkdtemp");
    exit(2);
  }
  return root;
}

static void at(char *buf, size_t cap, const char *rel) {
  if ((size_t)snprintf(buf, cap, "%s/%s", root, rel) >= cap) exit(2);
}

/* mkdir -p of rel's parent directories. */
static void parents(const char *rel) {
  char buf[1024];
  at(buf, sizeof buf, rel);
  for (char *p = buf + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
    *p = '\0';
    mkdir(buf, 0755);
    *p = '/';
  }
}

static void put(const char *rel, const char *data, size_t len, mode_t mode) {
  char buf[1024];
  int fd;
  parents(rel);
  at(buf, sizeof buf, rel);
  fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
    perror(buf);
    exit(2);
  }
  close(fd);
  chmod(buf, mode);       /* whatever the umask */
}

static void puts_(const char *rel, const char *data) {
  put(rel, data, strlen(data), 0644);
}

static void mkdir_(const char *rel) {
  char buf[1024];
  parents(rel);
  at(buf, sizeof buf, rel);
  mkdir(buf, 0755);
}

static void symlink_(const char *target, const char *rel) {
  char buf[1024];
  parents(rel);
  at(buf, sizeof buf, rel);
  if (symlink(target, buf) != 0) perror(buf);
}

/* Digest the tree synchronously; returns the tree (free it). */
static tp_treehash_t *hash_sync(const tp_treehash_limits *lim, int *code) {
  tp_treehash_t *t = NULL;
  *code = tp_treehash_digest(root, lim, &t);
  return t;
}

/* The tree must be refused with code, the path and the message naming it. */
static void refused(const tp_treehash_limits *lim, int code, const char *path, const char *text) {
  int r;
  tp_treehash_t *t = hash_sync(lim, &r);
  const tp_treehash_result *res;
  char quoted[1200];
  TP_CHECK(t != NULL);
  if (t == NULL) return;
  res = tp_treehash_result_of(t);
  TP_CHECKF(r == code && res->code == code, "%s: code %d (wanted %d): %s", path, r, code,
            res->message ? res->message : "(no message)");
  TP_CHECKF(res->path && strcmp(res->path, path) == 0, "path '%s', wanted '%s'",
            res->path ? res->path : "(null)", path);
  tp_treehash_quote(quoted, sizeof quoted, path, strlen(path));
  TP_CHECKF(res->message && strncmp(res->message, quoted, strlen(quoted)) == 0 &&
            strstr(res->message, text) != NULL,
            "message '%s' should start with %s and say '%s'", res->message, quoted, text);
  TP_CHECK(res->listing == NULL && res->digest[0] == '\0');
  tp_treehash_free(t);
}

static void digest_of(const tp_treehash_limits *lim, char out[65]) {
  int r;
  tp_treehash_t *t = hash_sync(lim, &r);
  const tp_treehash_result *res = tp_treehash_result_of(t);
  TP_CHECKF(r == 0, "digest failed: %s", res->message ? res->message : "?");
  memcpy(out, res->digest, 65);
  tp_treehash_free(t);
}

/* ---- the fixed tree ------------------------------------------------- */

static void fixed_tree(void) {
  fresh();
  puts_("plugin.lua", "return {id = \"hello\", version = \"1.0.0\", entry = \"main\"}\n");
  puts_("main.lua", "return 1\n");
  puts_("lib/util.lua", "abc");
  puts_("lib/empty.txt", "");
  put("bin/run.sh", "#!/bin/sh\necho hi\n", 18, 0755);
  puts_("a b.txt", "x");
  puts_("z/\xc3\xa9.lua", "\xc3\xa9");
  puts_("plugin.sig", "ignored");            /* excluded: the top-level one */
  puts_("lib/plugin.sig", "deeper");         /* an ordinary file down here */
  puts_(".hidden", "dot");
  puts_("d/a.b", "slash");
  puts_("a.b", "s2");
  puts_("a/c", "ac");                       /* '.' (2e) sorts before '/' (2f) */
  mkdir_("empty/deeper");                   /* empty directories do not count */
}

/* From the documented pipeline (docs/formats.md) over fixed_tree(). */
static const char FIXED_LISTING[] =
  "e392dad8b08599f74d4819cd291feef81ab4389e0a6fae2b1286f99411b0c7ca - .hidden\n"
  "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 - a b.txt\n"
  "ad328846aa18b32a335816374511cac1063c704b8c57999e51da9f908290a7a4 - a.b\n"
  "f45de51cdef30991551e41e882dd7b5404799648a0a00753f44fc966e6153fc1 - a/c\n"
  "299001868fb8c02fd431c336c6d058f5558c5dff5b5af5e6fe04b870a6a9cbba x bin/run.sh\n"
  "939d59d1285efa522f3964451c00cbfea1e22d19a6769b9aa00317fecd681e93 - d/a.b\n"
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 - lib/empty.txt\n"
  "59803041f0ffac339cd78aecf27faad6f346b950938d4427edf927537d80be36 - lib/plugin.sig\n"
  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad - lib/util.lua\n"
  "0805bfdc02e872ed322a4a4e440ae985f3a4335f4dd59f3d373dfaf2a68a4a3c - main.lua\n"
  "0214e159ec192f14db1cf51111fdcb51a1f30d4489d8fb262c88400940f5ada3 - plugin.lua\n"
  "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c - z/\xc3\xa9.lua\n";
static const char FIXED_DIGEST[] =
  "db31cd399bdfca97a821a7e627565ae456142436564a9d58ef41fe56c2a3165b";

static void fixed_tree_digest(void) {
  int r;
  tp_treehash_t *t;
  const tp_treehash_result *res;
  fixed_tree();
  t = hash_sync(NULL, &r);
  res = tp_treehash_result_of(t);
  TP_CHECKF(r == 0, "%s", res->message ? res->message : "");
  TP_CHECK(res->listing_len == strlen(FIXED_LISTING));
  TP_CHECKF(res->listing && strcmp(res->listing, FIXED_LISTING) == 0, "listing:\n%s", res->listing);
  TP_CHECKF(strcmp(res->digest, FIXED_DIGEST) == 0, "digest %s", res->digest);
  TP_CHECK(res->files == 12 && res->bytes == 108);
  TP_CHECK(res->path == NULL && res->message == NULL);
  tp_treehash_free(t);
}

static void empty_tree_is_the_digest_of_nothing(void) {
  char d[65];
  fresh();
  digest_of(NULL, d);
  TP_CHECK(strcmp(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
  mkdir_("a/b/c");
  puts_("plugin.sig", "only the signatures");
  digest_of(NULL, d);
  TP_CHECK(strcmp(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
}

/* ---- what changes the digest ---------------------------------------- */

static void every_change_changes_the_digest(void) {
  char base[65], d[65], p[1024];
  fixed_tree();
  digest_of(NULL, base);
  /* the exec bit, both ways */
  at(p, sizeof p, "main.lua");
  chmod(p, 0744);
  digest_of(NULL, d);
  TP_CHECK(strcmp(d, base) != 0);
  chmod(p, 0655);                          /* group and other x: not recorded */
  digest_of(NULL, d);
  TP_CHECK(strcmp(d, base) == 0);
  chmod(p, 0644);
  /* a file moved to another directory, same name and bytes */
  {
    char q[1024];
    at(q, sizeof q, "a/util.lua");
    at(p, sizeof p, "lib/util.lua");
    TP_CHECK(rename(p, q) == 0);
    digest_of(NULL, d);
    TP_CHECK(strcmp(d, base) != 0);
    TP_CHECK(rename(q, p) == 0);
    digest_of(NULL, d);
    TP_CHECK(strcmp(d, base) == 0);
  }
  /* one byte; a file added (empty); the top-level plugin.sig rewritten */
  put("lib/util.lua", "abd", 3, 0644);
  digest_of(NULL, d);
  TP_CHECK(strcmp(d, base) != 0);
  put("lib/util.lua", "abc", 3, 0644);
  puts_("lib/new", "");
  digest_of(NULL, d);
  TP_CHECK(strcmp(d, base) != 0);
  at(p, sizeof p, "lib/new");
  unlink(p);
  puts_("plugin.sig", "another signature");
  digest_of(NULL, d);
  TP_CHECK(strcmp(d, base) == 0);
  /* the deeper plugin.sig is content */
  puts_("lib/plugin.sig", "changed");
  digest_of(NULL, d);
  TP_CHECK(strcmp(d, base) != 0);
}

/* ---- refusals ------------------------------------------------------- */

static void refuses_links_and_special_files(void) {
  char p[1024];
  fresh(); puts_("ok.lua", "x"); symlink_("ok.lua", "lib/link.lua");
  refused(NULL, TP_TREEHASH_ESYMLINK, "lib/link.lua", "is a symbolic link");
  fresh(); mkdir_("real"); symlink_("real", "dirlink");
  refused(NULL, TP_TREEHASH_ESYMLINK, "dirlink", "is a symbolic link");
  fresh(); symlink_("/nonexistent/target", "dangling");
  refused(NULL, TP_TREEHASH_ESYMLINK, "dangling", "is a symbolic link");
  fresh(); symlink_("/etc/passwd", "plugin.sig");        /* the top-level one too */
  refused(NULL, TP_TREEHASH_ESYMLINK, "plugin.sig", "is a symbolic link");
  fresh(); mkdir_("plugin.sig");
  refused(NULL, TP_TREEHASH_ESPECIAL, "plugin.sig", "is a directory; the top-level plugin.sig must be a regular file");
  fresh(); mkdir_("a"); at(p, sizeof p, "a/fifo");
  TP_CHECK(mkfifo(p, 0644) == 0);
  refused(NULL, TP_TREEHASH_ESPECIAL, "a/fifo", "is a fifo");
  fresh(); at(p, sizeof p, "sock");
  {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    TP_CHECK(strlen(p) < sizeof sa.sun_path);
    memcpy(sa.sun_path, p, strlen(p) < sizeof sa.sun_path ? strlen(p) : 0);
    TP_CHECK(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof sa) == 0);
    close(s);
  }
  refused(NULL, TP_TREEHASH_ESPECIAL, "sock", "is a socket");
  fresh(); at(p, sizeof p, "null");
  if (mknod(p, S_IFCHR | 0644, makedev(1, 3)) == 0) {
    refused(NULL, TP_TREEHASH_ESPECIAL, "null", "is a character device");
    fresh(); at(p, sizeof p, "blk");
    TP_CHECK(mknod(p, S_IFBLK | 0644, makedev(7, 0)) == 0);
    refused(NULL, TP_TREEHASH_ESPECIAL, "blk", "is a block device");
  } else {
    printf("# devices: mknod refused (%s), not tested here\n", strerror(errno));
  }
}

static void refuses_bad_names(void) {
  static const struct { const char *name, *text; } bad[] = {
    {"line\nbreak.lua", "control character"},     /* would split a listing line */
    {"tab\there", "control character"},
    {"del\x7f", "control character"},
    {"c1\xc2\x85", "control character"},          /* U+0085, NEL */
    {"bell\x07", "control character"},
    {"latin1-\xe9.lua", "not valid UTF-8"},
    {"\xff\xfe", "not valid UTF-8"},
    {"overlong-\xc0\xaf", "not valid UTF-8"},
    {"surrogate-\xed\xa0\x80", "not valid UTF-8"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char rel[64];
    fresh();
    puts_("good.lua", "x");
    snprintf(rel, sizeof rel, "sub/%s", bad[i].name);
    puts_(rel, "x");
    refused(NULL, TP_TREEHASH_ENAME, rel, bad[i].text);
  }
  /* a bad directory name is refused before anything below it */
  fresh();
  puts_("bad\ndir/file", "x");
  refused(NULL, TP_TREEHASH_ENAME, "bad\ndir", "control character");
}

static void name_vectors(void) {
  static const char *const good[] = {
    "a", "plugin.lua", ".hidden", "with space", "back\\slash", "quote\"",
    "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80", "\xc2\xa0", "\xef\xbf\xbf",
    "\xf4\x8f\xbf\xbf",                            /* U+10FFFF */
  };
  static const char *const bad[] = {
    "", "\x80", "\xc3", "\xc0\x80", "\xc1\xbf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf",
    "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xfe", "\xe6\x97",
    "a/b", "\x01", "\x1f", "\x7f", "\xc2\x80", "\xc2\x9f", "\n",
  };
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    TP_CHECKF(tp_treehash_name_problem(good[i], strlen(good[i])) == NULL, "good[%zu]", i);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    TP_CHECKF(tp_treehash_name_problem(bad[i], strlen(bad[i])) != NULL, "bad[%zu]", i);
  TP_CHECK(tp_treehash_name_problem("a\0b", 3) != NULL);
}

static void quoting(void) {
  char buf[64];
  TP_CHECK(tp_treehash_quote(buf, sizeof buf, "lib/a.lua", 9) == 11 && strcmp(buf, "\"lib/a.lua\"") == 0);
  tp_treehash_quote(buf, sizeof buf, "a\nb\t\"\\", 6);
  TP_CHECKF(strcmp(buf, "\"a\\nb\\t\\\"\\\\\"") == 0, "%s", buf);
  tp_treehash_quote(buf, sizeof buf, "\xff\xc3\xa9\x01\xc2\x85", 6);
  TP_CHECKF(strcmp(buf, "\"\\xff\xc3\xa9\\x01\\xc2\\x85\"") == 0, "%s", buf);
  TP_CHECK(tp_treehash_quote(buf, 4, "abcdef", 6) == 8 && strcmp(buf, "\"ab") == 0);
  TP_CHECK(tp_treehash_quote(NULL, 0, "abc", 3) == 5);
}

static void sort_and_duplicates(void) {
  char a[] = "b", b[] = "a/b", c[] = "a.b", d[] = "a", e[] = "a b", f[] = "\xc3\xa9", g[] = "z";
  tp_treehash_file files[] = {
    {.path = a, .pathlen = 1}, {.path = b, .pathlen = 3}, {.path = c, .pathlen = 3},
    {.path = d, .pathlen = 1}, {.path = e, .pathlen = 3}, {.path = f, .pathlen = 2},
    {.path = g, .pathlen = 1},
  };
  const char *want[] = {"a", "a b", "a.b", "a/b", "b", "z", "\xc3\xa9"};
  size_t dup = 99;
  TP_CHECK(tp_treehash_sort(files, 7, &dup) == 0);
  for (int i = 0; i < 7; i++) TP_CHECKF(strcmp(files[i].path, want[i]) == 0, "%d: %s", i, files[i].path);
  {
    char x1[] = "x", y[] = "y", x2[] = "x";
    tp_treehash_file two[] = {{.path = x1, .pathlen = 1}, {.path = y, .pathlen = 1}, {.path = x2, .pathlen = 1}};
    TP_CHECK(tp_treehash_sort(two, 3, &dup) == TP_TREEHASH_EDUP);
    TP_CHECK(dup == 1 && strcmp(two[dup].path, "x") == 0);
  }
}

static void bounds(void) {
  tp_treehash_limits lim;
  char d[65];
  /* depth */
  tp_treehash_limits_default(&lim);
  lim.max_depth = 2;
  fresh(); puts_("a/b/file", "x");
  digest_of(&lim, d);
  mkdir_("a/b/c");                           /* even an empty one */
  refused(&lim, TP_TREEHASH_EDEPTH, "a/b/c", "deeper than 2 directories");
  lim.max_depth = 0;
  fresh(); puts_("top", "x");
  digest_of(&lim, d);
  mkdir_("sub");
  refused(&lim, TP_TREEHASH_EDEPTH, "sub", "deeper than 0 directories");
  /* files: plugin.sig does not count */
  tp_treehash_limits_default(&lim);
  lim.max_files = 3;
  fresh(); puts_("1", "x"); puts_("2", "x"); puts_("d/3", "x"); puts_("plugin.sig", "s");
  digest_of(&lim, d);
  puts_("d/4", "x");
  {
    int r;
    tp_treehash_t *t = hash_sync(&lim, &r);
    TP_CHECK(r == TP_TREEHASH_EFILES);
    TP_CHECK(strstr(tp_treehash_result_of(t)->message, "limit of 3 files") != NULL);
    tp_treehash_free(t);
  }
  /* bytes: exactly the limit is fine */
  tp_treehash_limits_default(&lim);
  lim.max_bytes = 10;
  fresh(); puts_("a", "12345"); puts_("b", "12345");
  digest_of(&lim, d);
  puts_("c", "1");
  {
    int r;
    tp_treehash_t *t = hash_sync(&lim, &r);
    TP_CHECK(r == TP_TREEHASH_EBYTES);
    tp_treehash_free(t);
  }
  /* path length, in bytes of the relative path */
  tp_treehash_limits_default(&lim);
  lim.max_path = 10;
  fresh(); puts_("abcdefghij", "x"); puts_("abcd/efghi", "x");
  digest_of(&lim, d);
  puts_("abcd/efghij", "x");
  refused(&lim, TP_TREEHASH_EPATH, "abcd/efghij", "longer than 10 bytes");
  /* limits out of range */
  {
    tp_treehash_t *t = NULL;
    tp_treehash_limits_default(&lim);
    lim.max_depth = TP_TREEHASH_DEPTH_CAP + 1;
    TP_CHECK(tp_treehash_new(root, &lim, &t) == TP_TREEHASH_EINVAL && t == NULL);
    tp_treehash_limits_default(&lim);
    lim.max_path = 0;
    TP_CHECK(tp_treehash_new(root, &lim, &t) == TP_TREEHASH_EINVAL && t == NULL);
  }
}

static void bad_roots(void) {
  int r;
  tp_treehash_t *t;
  const tp_treehash_result *res;
  char p[1024];
  fresh();
  at(p, sizeof p, "missing");
  r = tp_treehash_digest(p, NULL, &t);
  res = tp_treehash_result_of(t);
  TP_CHECK(r == TP_TREEHASH_ESYS && res->sys_errno == ENOENT);
  TP_CHECK(res->path && res->path[0] == '\0');
  TP_CHECKF(res->message && strstr(res->message, "missing\" cannot open the directory: ") != NULL, "%s", res->message);
  tp_treehash_free(t);
  puts_("file", "x");
  at(p, sizeof p, "file");
  r = tp_treehash_digest(p, NULL, &t);
  TP_CHECK(r == TP_TREEHASH_ESYS && tp_treehash_result_of(t)->sys_errno == ENOTDIR);
  tp_treehash_free(t);
  /* a link as the root itself is followed (the caller chose the path) */
  mkdir_("real");
  puts_("real/f", "x");
  symlink_("real", "alias");
  at(p, sizeof p, "alias");
  r = tp_treehash_digest(p, NULL, &t);
  TP_CHECK(r == 0 && tp_treehash_result_of(t)->files == 1);
  tp_treehash_free(t);
}

/* ---- the race between walk and hash --------------------------------- */

/* Walk, let attack() change the tree, then hash and finish. */
static void walk_attack_hash(void (*attack)(void), int code, const char *path, const char *text) {
  tp_treehash_t *t = NULL;
  const tp_treehash_result *res;
  int r;
  TP_CHECK(tp_treehash_new(root, NULL, &t) == 0);
  TP_CHECK(tp_treehash_walk(t) == 0);
  attack();
  r = tp_treehash_hash(t);
  if (r == 0) r = tp_treehash_finish(t);
  res = tp_treehash_result_of(t);
  TP_CHECKF(r == code && res->code == code, "%s: %d, wanted %d (%s)", path, r, code,
            res->message ? res->message : "no message");
  TP_CHECKF(res->path && strcmp(res->path, path) == 0, "path %s", res->path ? res->path : "(null)");
  TP_CHECKF(res->message && strstr(res->message, text), "message %s", res->message);
  TP_CHECK(res->listing == NULL);
  tp_treehash_free(t);
}

static void race_tree(void) {
  fresh();
  puts_("plugin.lua", "return {}\n");
  puts_("lib/a.lua", "return 'a'\n");
  puts_("elsewhere/a.lua", "return 'evil'\n");
}

static void swap_file_for_link(void) {
  char p[1024], q[1024];
  at(p, sizeof p, "lib/a.lua");
  at(q, sizeof q, "elsewhere/a.lua");
  unlink(p);
  TP_CHECK(symlink(q, p) == 0);
}

static void swap_dir_for_link(void) {
  char p[1024], q[1024];
  at(p, sizeof p, "lib");
  at(q, sizeof q, "lib.old");
  TP_CHECK(rename(p, q) == 0);
  at(q, sizeof q, "elsewhere");
  TP_CHECK(symlink(q, p) == 0);
}

static void swap_file_for_file(void) {
  char p[1024], q[1024];
  put("lib/a.lua.new", "return 'b'\n", 11, 0644);   /* same size, other inode */
  at(p, sizeof p, "lib/a.lua");
  at(q, sizeof q, "lib/a.lua.new");
  TP_CHECK(rename(q, p) == 0);
}

static void swap_file_for_fifo(void) {
  char p[1024];
  at(p, sizeof p, "lib/a.lua");
  unlink(p);
  TP_CHECK(mkfifo(p, 0644) == 0);          /* must not hang the open */
}

static void grow_file(void) {
  put("lib/a.lua", "return 'a' .. 'more'\n", 21, 0644);
}

static void remove_file(void) {
  char p[1024];
  at(p, sizeof p, "lib/a.lua");
  unlink(p);
}

static void races_between_walk_and_hash(void) {
  race_tree();
  walk_attack_hash(swap_file_for_link, TP_TREEHASH_ESYMLINK, "lib/a.lua", "symbolic link appeared");
  race_tree();
  walk_attack_hash(swap_dir_for_link, TP_TREEHASH_ESYMLINK, "lib/a.lua", "symbolic link appeared");
  race_tree();
  walk_attack_hash(swap_file_for_file, TP_TREEHASH_ECHANGED, "lib/a.lua", "replaced by another file");
  race_tree();
  walk_attack_hash(swap_file_for_fifo, TP_TREEHASH_ECHANGED, "lib/a.lua", "replaced by another file");
  race_tree();
  walk_attack_hash(grow_file, TP_TREEHASH_ECHANGED, "lib/a.lua", "size changed");
  race_tree();
  walk_attack_hash(remove_file, TP_TREEHASH_ECHANGED, "lib/a.lua", "disappeared");
}

static void open_beneath_refuses_links(void) {
  {
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_BENEATH};
    long fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
    printf("# openat2 on this kernel: %s\n", fd >= 0 ? "yes" : strerror(errno));
    if (fd >= 0) close((int)fd);
  }
  for (int use2 = 0; use2 <= 1; use2++) {
    int rootfd, fd;
    race_tree();
    symlink_("lib", "dirlink");
    symlink_("a.lua", "lib/filelink");
    rootfd = open(root, O_RDONLY | O_DIRECTORY);
    fd = tp_treehash_open_beneath(rootfd, "lib/a.lua", use2);
    TP_CHECKF(fd >= 0, "openat2=%d: %s", use2, strerror(-fd));
    if (fd >= 0) close(fd);
    TP_CHECKF(tp_treehash_open_beneath(rootfd, "dirlink/a.lua", use2) == -ELOOP, "openat2=%d", use2);
    TP_CHECKF(tp_treehash_open_beneath(rootfd, "lib/filelink", use2) == -ELOOP, "openat2=%d", use2);
    TP_CHECKF(tp_treehash_open_beneath(rootfd, "lib/missing", use2) == -ENOENT, "openat2=%d", use2);
    TP_CHECKF(tp_treehash_open_beneath(rootfd, "plugin.lua/x", use2) == -ENOTDIR, "openat2=%d", use2);
    close(rootfd);
  }
}

/* ---- the loop operation --------------------------------------------- */

static void many_files(int n) {
  char rel[64], data[64];
  fresh();
  for (int i = 0; i < n; i++) {
    snprintf(rel, sizeof rel, "d%02d/f%04d.lua", i % 17, i);
    snprintf(data, sizeof data, "return %d\n", i * 7919);
    put(rel, data, strlen(data), i % 5 == 0 ? 0755 : 0644);
  }
}

static void run_until_settled(tp_loop_t *lp, tp_loop_op_t *op) {
  for (int i = 0; i < 1000000 && op->state == TP_LOOP_OP_PENDING; i++) tp_loop_run(lp, TP_LOOP_ONCE);
}

static void drain(tp_loop_t *lp) {
  for (int i = 0; i < 100000 && tp_loop_run(lp, TP_LOOP_ONCE) > 0; i++) {
    tp_loop_op_t *op;
    while ((op = tp_loop_next_done(lp)) != NULL) tp_loop_op_collect(op);
  }
}

static void operation_matches_sync(void) {
  char want[65];
  tp_loop_t lp;
  many_files(600);
  digest_of(NULL, want);
  tp_loop_init(&lp);
  for (unsigned jobs = 0; jobs <= 5; jobs++) {
    tp_treehash_op_t *h;
    const tp_treehash_result *res;
    TP_CHECK(tp_treehash_start(&lp, root, NULL, jobs, &h) == 0);
    TP_CHECK(h->op.state == TP_LOOP_OP_PENDING);
    run_until_settled(&lp, &h->op);
    TP_CHECK(h->op.state == TP_LOOP_OP_DONE);
    res = tp_treehash_result_of(h->tree);
    TP_CHECKF(res->code == 0 && strcmp(res->digest, want) == 0, "jobs %u: %s", jobs,
              res->message ? res->message : res->digest);
    TP_CHECK(res->files == 600);
    tp_loop_op_release(&h->op);
  }
  drain(&lp);
  tp_loop_close(&lp);
}

static void operation_reports_failures(void) {
  tp_loop_t lp;
  tp_treehash_op_t *h;
  const tp_treehash_result *res;
  many_files(50);
  symlink_("f0001.lua", "d03/zz-link");
  tp_loop_init(&lp);
  TP_CHECK(tp_treehash_start(&lp, root, NULL, 2, &h) == 0);
  run_until_settled(&lp, &h->op);
  res = tp_treehash_result_of(h->tree);
  TP_CHECK(h->op.state == TP_LOOP_OP_DONE && res->code == TP_TREEHASH_ESYMLINK);
  TP_CHECK(res->path && strcmp(res->path, "d03/zz-link") == 0);
  tp_loop_op_release(&h->op);
  /* an empty tree completes without hashing jobs */
  fresh();
  TP_CHECK(tp_treehash_start(&lp, root, NULL, 2, &h) == 0);
  run_until_settled(&lp, &h->op);
  res = tp_treehash_result_of(h->tree);
  TP_CHECK(h->op.state == TP_LOOP_OP_DONE && res->code == 0 && res->listing_len == 0);
  tp_loop_op_release(&h->op);
  drain(&lp);
  tp_loop_close(&lp);
}

static void cancel_release_and_close(void) {
  tp_loop_t lp;
  tp_treehash_op_t *h;
  many_files(400);
  tp_loop_init(&lp);
  /* cancel at once, then let the threads wind down */
  TP_CHECK(tp_treehash_start(&lp, root, NULL, 4, &h) == 0);
  TP_CHECK(tp_loop_op_cancel(&h->op) == 1);
  TP_CHECK(h->op.state == TP_LOOP_OP_CANCELLED);
  tp_loop_op_release(&h->op);
  drain(&lp);
  TP_CHECK(!tp_loop_alive(&lp));
  /* cancel while hashing: a few turns first */
  TP_CHECK(tp_treehash_start(&lp, root, NULL, 4, &h) == 0);
  tp_loop_run(&lp, TP_LOOP_NOWAIT);
  tp_loop_op_cancel(&h->op);
  tp_loop_op_release(&h->op);
  drain(&lp);
  /* the owner lets go while pending */
  TP_CHECK(tp_treehash_start(&lp, root, NULL, 4, &h) == 0);
  tp_loop_op_release(&h->op);
  drain(&lp);
  /* the loop closes under a pending hash; the owner releases after */
  TP_CHECK(tp_treehash_start(&lp, root, NULL, 4, &h) == 0);
  tp_loop_close(&lp);
  TP_CHECK(h->op.state == TP_LOOP_OP_CANCELLED);
  tp_loop_op_release(&h->op);
  TP_CHECK(tp_treehash_start(&lp, root, NULL, 4, &h) == TP_TREEHASH_EINVAL && h == NULL);
}

int main(void) {
  umask(022);
  TP_RUN(fixed_tree_digest);
  TP_RUN(empty_tree_is_the_digest_of_nothing);
  TP_RUN(every_change_changes_the_digest);
  TP_RUN(refuses_links_and_special_files);
  TP_RUN(refuses_bad_names);
  TP_RUN(name_vectors);
  TP_RUN(quoting);
  TP_RUN(sort_and_duplicates);
  TP_RUN(bounds);
  TP_RUN(bad_roots);
  TP_RUN(races_between_walk_and_hash);
  TP_RUN(open_beneath_refuses_links);
  TP_RUN(operation_matches_sync);
  TP_RUN(operation_reports_failures);
  TP_RUN(cancel_release_and_close);
  if (root[0]) rm_tree(root);
  return tp_done();
}
