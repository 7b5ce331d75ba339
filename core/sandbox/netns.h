/*
** netns.h: the shared empty network namespace of the sandbox workers.
** See docs/confinement.md, "Network namespace".
**
** One namespace per host process, created on first use and held open by
** a file descriptor (no process stays in it): a worker whose policy says
** allow_network = false setns()es into it before dropping root (spawn.h,
** step 4). It has only a loopback interface, left down, so there is no
** route anywhere, not even to 127.0.0.1 (ENETUNREACH): nothing on the
** host's loopback is reachable, and workers cannot reach each other over
** IP either. Unix sockets are not network-namespaced: the file system
** (Landlock) and abstract-socket scoping (Landlock ABI 6) cover those.
**
** Creating it needs CAP_SYS_ADMIN (root). Without it there is no
** namespace the worker could enter (one owned by a new user namespace
** would need capabilities in that namespace to setns); tp_netns_fd fails
** with TP_NETNS_EPERM and the engine must not claim "netns".
*/
#ifndef TP_NETNS_H
#define TP_NETNS_H

#include <stddef.h>

#define TP_NETNS_EPERM (-1)   /* not permitted (not root) */
#define TP_NETNS_ESYS  (-2)   /* clone, open or pipe failed */

/* The namespace's fd (O_CLOEXEC), created on the first call; the same fd
** after. Thread-safe. A negative code with err set on failure (retried
** on the next call). */
int tp_netns_fd(char *err, size_t errlen);

/* Close it (tests; the host at exit). Workers already in it keep it. */
void tp_netns_release(void);

#endif
