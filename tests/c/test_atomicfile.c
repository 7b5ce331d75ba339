/*
** test_atomicfile.c: core/atomicfile.c. Content, mode, replacement of an
** existing file and of a link, no temporary file left after success or
** failure, the temporary-name grammar, and the clean-up of the temporary
** files of dead writers (never those of live ones). The crash behaviour
** itself is tests/hostile/store_crash.sh.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomicfile.h"
#include "tp_test.h"

static char dir[256];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
  (void)st; (void)flag; (void)f;
  return remove(p);
}

static void fresh(void) {
  const char *tmp = getenv("TMPDIR");
  if (dir[0]) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  snprintf(dir, sizeof dir, "%s/atomicfile.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) exit(2);
}

static char *at(const char *name) {
  static char buf[4][512];
  static int i;
  char *b = buf[i++ & 3];
  if ((size_t)snprintf(b, sizeof buf[0], "%s/%s", dir, name) >= sizeof buf[0]) exit(2);
  return b;
}

static char *slurp(const char *path, size_t *len) {
  static char buf[1 << 16];
  int fd = open(path, O_RDONLY);
  ssize_t n;
  if (fd < 0) return NULL;
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) return NULL;
  buf[n] = '\0';
  if (len) *len = (size_t)n;
  return buf;
}

/* Entries of dir other than "." and "..". */
static int entries(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

static void touch(const char *name) {
  int fd = open(at(name), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) close(fd);
}

/* A pid that certainly belonged to a process that is gone (reaped). */
static pid_t dead_pid(void) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, NULL, 0);
  return pid;
}

static void writes_a_new_file(void) {
  const char *step = "unset";
  struct stat st;
  size_t len;
  char *got;
  fresh();
  TP_CHECK(tp_atomicfile_write(at("store.json"), "{\"a\":1}\n", 8, TP_ATOMICFILE_MODE, &step) == 0);
  got = slurp(at("store.json"), &len);
  TP_CHECK(got && len == 8 && memcmp(got, "{\"a\":1}\n", 8) == 0);
  TP_CHECK(stat(at("store.json"), &st) == 0 && (st.st_mode & 07777) == 0600);
  TP_CHECK(entries() == 1);
  /* empty content, and bytes that are not text */
  TP_CHECK(tp_atomicfile_write(at("empty"), "", 0, 0600, NULL) == 0);
  TP_CHECK(stat(at("empty"), &st) == 0 && st.st_size == 0);
  TP_CHECK(tp_atomicfile_write(at("bin"), "a\0b\xff", 4, 0600, NULL) == 0);
  got = slurp(at("bin"), &len);
  TP_CHECK(len == 4 && memcmp(got, "a\0b\xff", 4) == 0);
  TP_CHECK(entries() == 3);
}

static void replaces_an_existing_file(void) {
  struct stat before, after;
  char *got;
  fresh();
  TP_CHECK(tp_atomicfile_write(at("f"), "old content, longer", 19, 0600, NULL) == 0);
  TP_CHECK(stat(at("f"), &before) == 0);
  TP_CHECK(tp_atomicfile_write(at("f"), "new", 3, 0644, NULL) == 0);
  TP_CHECK(stat(at("f"), &after) == 0);
  got = slurp(at("f"), NULL);
  TP_CHECK(got && strcmp(got, "new") == 0);
  TP_CHECK(before.st_ino != after.st_ino);        /* a new file, renamed over */
  TP_CHECK((after.st_mode & 07777) == 0644);      /* the mode asked for */
  TP_CHECK(entries() == 1);
  /* a relative path, in the current directory */
  {
    char cwd[512];
    TP_CHECK(getcwd(cwd, sizeof cwd) != NULL);
    TP_CHECK(chdir(dir) == 0);
    TP_CHECK(tp_atomicfile_write("rel", "r", 1, 0600, NULL) == 0);
    TP_CHECK(chdir(cwd) == 0);
    got = slurp(at("rel"), NULL);
    TP_CHECK(got && strcmp(got, "r") == 0);
  }
}

static void large_content(void) {
  size_t n = 8u << 20;
  char *big = malloc(n);
  struct stat st;
  fresh();
  for (size_t i = 0; i < n; i++) big[i] = (char)(i * 31 + (i >> 12));
  TP_CHECK(tp_atomicfile_write(at("big"), big, n, 0600, NULL) == 0);
  TP_CHECK(stat(at("big"), &st) == 0 && (size_t)st.st_size == n);
  {
    int fd = open(at("big"), O_RDONLY), same = 1;
    char buf[65536];
    size_t off = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
      if (memcmp(buf, big + off, (size_t)r) != 0) same = 0;
      off += (size_t)r;
    }
    close(fd);
    TP_CHECK(same && off == n);
  }
  free(big);
}

static void replaces_a_link_not_its_target(void) {
  struct stat st;
  char *got;
  fresh();
  TP_CHECK(tp_atomicfile_write(at("target"), "target", 6, 0600, NULL) == 0);
  TP_CHECK(symlink(at("target"), at("link")) == 0);
  TP_CHECK(tp_atomicfile_write(at("link"), "mine", 4, 0600, NULL) == 0);
  TP_CHECK(lstat(at("link"), &st) == 0 && S_ISREG(st.st_mode));
  got = slurp(at("target"), NULL);
  TP_CHECK(got && strcmp(got, "target") == 0);
}

static void failures_leave_nothing(void) {
  const char *step = NULL;
  fresh();
  TP_CHECK(tp_atomicfile_write(at("missing/f"), "x", 1, 0600, &step) == -ENOENT);
  TP_CHECK(step && strcmp(step, "open the directory") == 0);
  TP_CHECK(mkdir(at("adir"), 0755) == 0);
  TP_CHECK(tp_atomicfile_write(at("adir"), "x", 1, 0600, &step) == -EISDIR);
  TP_CHECK(step && strcmp(step, "rename") == 0);
  TP_CHECK(entries() == 1);                        /* adir only: the temp is gone */
  TP_CHECK(tp_atomicfile_write(at("adir/"), "x", 1, 0600, &step) == -EINVAL);
  TP_CHECK(tp_atomicfile_write("", "x", 1, 0600, &step) == -EINVAL);
  TP_CHECK(tp_atomicfile_write(at(".."), "x", 1, 0600, &step) == -EINVAL);
  /* a file where the directory should be */
  touch("plain");
  TP_CHECK(tp_atomicfile_write(at("plain/f"), "x", 1, 0600, &step) == -ENOTDIR);
  TP_CHECK(entries() == 2);
  /* the write itself fails (a file size limit: EFBIG instead of ENOSPC) */
  {
    struct rlimit old, small;
    TP_CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    small = old;
    small.rlim_cur = 4;
    signal(SIGXFSZ, SIG_IGN);
    TP_CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
    TP_CHECK(tp_atomicfile_write(at("big"), "0123456789", 10, 0600, &step) == -EFBIG);
    TP_CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    TP_CHECK(step && strcmp(step, "write") == 0);
    TP_CHECK(entries() == 2);                      /* the temp was removed */
  }
  /* a directory we may not write to (root ignores modes: not as root) */
  if (geteuid() != 0) {
    TP_CHECK(mkdir(at("ro"), 0555) == 0);
    TP_CHECK(tp_atomicfile_write(at("ro/f"), "x", 1, 0600, &step) == -EACCES);
    TP_CHECK(step && strcmp(step, "create a temporary file") == 0);
  }
}

static void temp_names(void) {
  pid_t pid = 0;
  TP_CHECK(tp_atomicfile_is_temp("store.json", "store.json.tmp.1234.0123456789abcdef", &pid) && pid == 1234);
  TP_CHECK(!tp_atomicfile_is_temp("store.json", "store.json", &pid));
  TP_CHECK(!tp_atomicfile_is_temp("store.json", "store.json.tmp.1234.0123456789abcde", &pid));
  TP_CHECK(!tp_atomicfile_is_temp("store.json", "store.json.tmp.1234.0123456789abcdef0", &pid));
  TP_CHECK(!tp_atomicfile_is_temp("store.json", "store.json.tmp.1234.0123456789ABCDEF", &pid));
  TP_CHECK(!tp_atomicfile_is_temp("store.json", "store.json.tmp.01234.0123456789abcdef", &pid));
  TP_CHECK(!tp_atomicfile_is_temp("store.json", "store.json.tmp..0123456789abcdef", &pid));
  TP_CHECK(!tp_atomicfile_is_temp("store.json", "store.json.tmp.99999999999.0123456789abcdef", &pid));
  TP_CHECK(!tp_atomicfile_is_temp("store.json", "other.json.tmp.1234.0123456789abcdef", &pid));
  TP_CHECK(!tp_atomicfile_is_temp("store", "store.json.tmp.1234.0123456789abcdef", &pid));
}

static void cleans_stale_temps_of_dead_writers_only(void) {
  char name[128];
  pid_t dead = dead_pid();
  fresh();
  snprintf(name, sizeof name, "store.json.tmp.%ld.00000000000000aa", (long)dead);
  touch(name);                                         /* a dead writer's: goes */
  snprintf(name, sizeof name, "store.json.tmp.%ld.00000000000000bb", (long)getppid());
  touch(name);                                         /* a live writer's: stays */
  snprintf(name, sizeof name, "store.json.tmp.%ld.00000000000000cc", (long)getpid());
  touch(name);                                         /* our own: stays */
  snprintf(name, sizeof name, "other.json.tmp.%ld.00000000000000dd", (long)dead);
  touch(name);                                         /* another file's: stays */
  snprintf(name, sizeof name, "store.json.tmp.%ld.not-a-temp-name", (long)dead);
  touch(name);                                         /* not our grammar: stays */
  TP_CHECK(entries() == 5);
  TP_CHECK(tp_atomicfile_write(at("store.json"), "{}", 2, 0600, NULL) == 0);
  TP_CHECK(entries() == 5);                            /* 4 + store.json */
  snprintf(name, sizeof name, "store.json.tmp.%ld.00000000000000aa", (long)dead);
  TP_CHECK(access(at(name), F_OK) != 0);
  /* the explicit clean-up, with nothing left to do */
  TP_CHECK(tp_atomicfile_clean(at("store.json")) == 0);
  snprintf(name, sizeof name, "store.json.tmp.%ld.00000000000000ee", (long)dead);
  touch(name);
  TP_CHECK(tp_atomicfile_clean(at("store.json")) == 1);
  TP_CHECK(tp_atomicfile_clean(at("missing/store.json")) == -ENOENT);
}

int main(void) {
  umask(022);
  TP_RUN(writes_a_new_file);
  TP_RUN(replaces_an_existing_file);
  TP_RUN(large_content);
  TP_RUN(replaces_a_link_not_its_target);
  TP_RUN(failures_leave_nothing);
  TP_RUN(temp_names);
  TP_RUN(cleans_stale_temps_of_dead_writers_only);
  if (dir[0]) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  return tp_done();
}
