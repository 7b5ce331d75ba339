/*
** atomicfile.h: replace a file's content so that a crash at any point
** leaves either the old content or the new, complete, never a mix.
**
** tp_atomicfile_write(path, ...) writes a temporary file
** "<path>.tmp.<pid>.<16 hex digits>" in the same directory (created with
** O_CREAT | O_EXCL, so it is never someone else's), writes everything,
** fsyncs it, renames it over path and fsyncs the directory, so that the
** rename itself survives a power loss. On any failure the temporary file
** is removed.
**
** A process killed between the create and the rename leaves its temporary
** file behind. Readers open path itself and never look at such names. The
** next tp_atomicfile_write of the same path removes the temporary files of
** that path whose process no longer exists (kill(pid, 0) says ESRCH); the
** ones of live processes, this one included, are left alone. (A writer in
** another PID namespace may look dead from here: at worst its rename then
** fails and it reports the error; nothing is corrupted.)
**
** Errors are negative errno values; *step, when given, names the step
** that failed.
*/
#ifndef TP_ATOMICFILE_H
#define TP_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

#define TP_ATOMICFILE_MODE 0600   /* the default mode, before the umask */

/* Write len bytes of data to path atomically and durably. mode is the
** new file's permission bits (the umask applies, as for open(2)); an
** existing file's mode is not kept. A symbolic link at path is replaced,
** not followed. Returns 0 or -errno. */
int tp_atomicfile_write(const char *path, const void *data, size_t len, mode_t mode,
                        const char **step);

/* Remove the stale temporary files of path (see above). Returns how many
** were removed, or -errno if the directory could not be read. */
int tp_atomicfile_clean(const char *path);

/* 1 if name is a temporary file name of the file named base
** ("<base>.tmp.<pid>.<16 hex>"), with its pid in *pid. */
int tp_atomicfile_is_temp(const char *base, const char *name, pid_t *pid);

#endif
