/*
** atomicfile.c: atomic, durable file replacement. See atomicfile.h.
**
** Everything happens relative to one descriptor of the target's
** directory, so that a directory renamed or swapped for a link half way
** cannot make the temporary file and the rename land in different places.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"

#define TMP_TAG ".tmp."
#define RAND_HEX 16
#define CREATE_TRIES 16

/* Split path into a directory (".", "/" or the part before the last '/')
** and a base name. The base must be a plain name. Returns 0 or -errno;
** *dir is malloc'd. */
static int split(const char *path, char **dir, const char **base) {
  const char *slash = strrchr(path, '/');
  size_t n;
  *base = slash ? slash + 1 : path;
  if (**base == '\0' || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0) return -EINVAL;
  if (slash == NULL) *dir = strdup(".");
  else {
    n = slash == path ? 1 : (size_t)(slash - path);   /* "/name": the root */
    *dir = strndup(path, n);
  }
  return *dir ? 0 : -ENOMEM;
}

int tp_atomicfile_is_temp(const char *base, const char *name, pid_t *pid) {
  size_t blen = strlen(base), tlen = strlen(TMP_TAG), digits = 0;
  const char *p;
  long long v = 0;
  if (strncmp(name, base, blen) != 0 || strncmp(name + blen, TMP_TAG, tlen) != 0) return 0;
  p = name + blen + tlen;
  if (*p == '0') return 0;                          /* canonical numbers only */
  for (; *p >= '0' && *p <= '9'; p++, digits++) {
    if (digits >= 10) return 0;
    v = v * 10 + (*p - '0');
  }
  if (digits == 0 || *p++ != '.' || v > 0x7fffffff) return 0;
  for (digits = 0; p[digits]; digits++)
    if (!((p[digits] >= '0' && p[digits] <= '9') || (p[digits] >= 'a' && p[digits] <= 'f'))) return 0;
  if (digits != RAND_HEX) return 0;
  *pid = (pid_t)v;
  return 1;
}

/* A temporary file whose writer is gone will never be renamed. */
static int is_stale(pid_t pid) {
  return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH;
}

static int clean_dir(int dfd, const char *base) {
  int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
  DIR *d;
  struct dirent *e;
  if (fd < 0) return -errno;
  if ((d = fdopendir(fd)) == NULL) {
    int err = errno;
    close(fd);
    return -err;
  }
  while ((e = readdir(d)) != NULL) {
    pid_t pid;
    if (tp_atomicfile_is_temp(base, e->d_name, &pid) && is_stale(pid) &&
        unlinkat(dfd, e->d_name, 0) == 0)
      n++;
  }
  closedir(d);
  return n;
}

int tp_atomicfile_clean(const char *path) {
  char *dir;
  const char *base;
  int dfd, r = split(path, &dir, &base);
  if (r < 0) return r;
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(dir);
  if (dfd < 0) return -errno;
  r = clean_dir(dfd, base);
  close(dfd);
  return r;
}

/* Fill name with "<base>.tmp.<pid>.<16 hex>". The random part only has to
** differ between attempts; O_EXCL is what makes the file ours. */
static int temp_name(char *name, size_t cap, const char *base) {
  unsigned char rnd[RAND_HEX / 2];
  char hex[RAND_HEX + 1];
  if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    for (size_t i = 0; i < sizeof rnd; i++)
      rnd[i] = (unsigned char)((ts.tv_nsec >> (i * 3)) ^ (ts.tv_sec >> i) ^ (unsigned)rand());
  }
  for (size_t i = 0; i < sizeof rnd; i++) snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
  return snprintf(name, cap, "%s%s%ld.%s", base, TMP_TAG, (long)getpid(), hex) < (int)cap ? 0 : -ENAMETOOLONG;
}

static int write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len > (1u << 30) ? (1u << 30) : len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Create, fill, fsync and close the temporary file tmp in dfd. */
static int write_temp(int dfd, char *tmp, size_t cap, const char *base, const void *data,
                      size_t len, mode_t mode, const char **step) {
  int fd = -1, r;
  for (int i = 0; i < CREATE_TRIES && fd < 0; i++) {
    if ((r = temp_name(tmp, cap, base)) < 0) {
      *step = "name a temporary file";
      return r;
    }
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    *step = "create a temporary file";
    return -errno;
  }
  if ((r = write_all(fd, data, len)) < 0) *step = "write";
  else if (fsync(fd) != 0) { r = -errno; *step = "fsync"; }
  if (close(fd) != 0 && r == 0) { r = -errno; *step = "close"; }
  if (r < 0) unlinkat(dfd, tmp, 0);
  return r;
}

int tp_atomicfile_write(const char *path, const void *data, size_t len, mode_t mode,
                        const char **step) {
  const char *base, *dummy;
  char *dir, *tmp;
  size_t cap;
  int dfd, r;
  if (step == NULL) step = &dummy;
  *step = "path";
  if ((r = split(path, &dir, &base)) < 0) return r;
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(dir);
  if (dfd < 0) {
    *step = "open the directory";
    return -errno;
  }
  clean_dir(dfd, base);             /* best effort: a failure here is no reason to stop */
  cap = strlen(base) + sizeof TMP_TAG + 24 + RAND_HEX;
  if ((tmp = malloc(cap)) == NULL) {
    close(dfd);
    return -ENOMEM;
  }
  r = write_temp(dfd, tmp, cap, base, data, len, mode & 07777, step);
  if (r == 0 && renameat(dfd, tmp, dfd, base) != 0) {
    r = -errno;
    *step = "rename";
    unlinkat(dfd, tmp, 0);
  }
  /* Without this the rename may not survive a power loss, though the
  ** new content is in place: reported, since durability was asked for. */
  if (r == 0 && fsync(dfd) != 0) {
    r = -errno;
    *step = "fsync the directory";
  }
  free(tmp);
  close(dfd);
  return r;
}
