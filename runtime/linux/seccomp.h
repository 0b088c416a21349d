/* linux.seccomp: turn the config's profile into a BPF program (through
 * libseccomp, or from a cache of programs compiled before) and install it
 * in the container process.
 *
 * Use:
 *   pre-fork (parent):  seccomp_prepare(config->linux->seccomp, cache_dir, &s, err)
 *   container process:  seccomp_install(s, &notify_fd, err), the last step
 *                       before execve (after capabilities and no_new_privs);
 *                       an init with SCMP_ACT_NOTIFY does it before it parks
 *   parent, if seccomp_uses_notify(s): receive notify_fd from the container
 *                       process over the sync socket and hand it to the agent
 *                       with seccomp_notify_send_on()
 *   both:               seccomp_free(s)
 *
 * The kernel accepts a filter only from a task with no_new_privs set or
 * with CAP_SYS_ADMIN in its user namespace. husk never sets no_new_privs on
 * its own (process.noNewPrivileges decides), so when it is false the
 * install must come before the capabilities are dropped.
 *
 * Built with --disable-seccomp, seccomp_prepare fails for every profile
 * with an error naming linux.seccomp. */
#ifndef HUSK_RUNTIME_LINUX_SECCOMP_H
#define HUSK_RUNTIME_LINUX_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

struct husk_seccomp;

/* Validate and compile sc, or load its program from cache_dir (NULL: no
 * cache). sc NULL: *out = NULL, nothing to do. Errors name the JSON path
 * ("linux.seccomp.syscalls[2].action: unknown action \"SCMP_ACT_FOO\"").
 *
 * The cache: one file per program, named by a SHA-256 of the profile,
 * libseccomp's version, the native arch and the kernel release; written
 * atomically, mode 0600, at most 128 kept. cache_dir is created (0700) if
 * missing, and used only while it and its files belong to the effective
 * uid and nobody else can write them. A name no container id can take
 * suits it, e.g. "<root>/.seccomp-cache". Cache failures only log (debug)
 * and compile. */
int seccomp_prepare(const struct oci_seccomp *sc, const char *cache_dir, struct husk_seccomp **out,
		    struct husk_error *err);
/* Load the filter into the calling thread (all threads with
 * SECCOMP_FILTER_FLAG_TSYNC). When the profile uses SCMP_ACT_NOTIFY,
 * *notify_fd receives the listener fd (O_CLOEXEC), else -1. notify_fd may
 * be NULL for profiles without SCMP_ACT_NOTIFY. Does not allocate. */
int seccomp_install(const struct husk_seccomp *s, int *notify_fd, struct husk_error *err);
void seccomp_free(struct husk_seccomp *s);

/* The profile has SCMP_ACT_NOTIFY rules: install returns a listener fd
 * that must go to linux.seccomp.listenerPath. */
bool seccomp_uses_notify(const struct husk_seccomp *s);
/* The program came from the cache rather than from libseccomp. */
bool seccomp_from_cache(const struct husk_seccomp *s);
/* Number of BPF instructions in the program. */
size_t seccomp_program_len(const struct husk_seccomp *s);

/* Send the container process state (runtime-spec config-linux.md "The
 * Container Process State") with notify_fd over SCM_RIGHTS to the agent
 * listening on listener_path (AF_UNIX, SOCK_STREAM), one connection per
 * state. state_json is the encoded container state (runtime.md "State");
 * metadata is linux.seccomp.listenerMetadata (NULL when unset). */
int seccomp_notify_send(const char *listener_path, int notify_fd, pid_t pid, const char *metadata,
			const char *state_json, struct husk_error *err);

/* The same over sock, connected by seccomp_listener_connect: what husk
 * outside the container does with the notify fd a process in it handed
 * over (the process never holds the agent's connection, issue 11). */
int seccomp_notify_send_on(int sock, int notify_fd, pid_t pid, const char *metadata,
			   const char *state_json, struct husk_error *err);
/* 0 when fd is a seccomp listener (a notify fd), else -EBADF. */
int seccomp_check_notify_fd(int fd);

/* Connect to listener_path, before the process exists: an agent that is
 * not there fails create or exec before anything runs. */
int seccomp_listener_connect(const char *listener_path, int *sock, struct husk_error *err);

/* For husk features (features-linux.md "seccomp"). */
bool seccomp_enabled(void);
/* NULL-terminated names this build understands. */
extern const char *const husk_seccomp_actions[];
extern const char *const husk_seccomp_operators[];
extern const char *const husk_seccomp_archs[];
extern const char *const husk_seccomp_flags[];
/* Fill out (NULL-terminated, at most max - 1 names) with the flags of
 * husk_seccomp_flags the running kernel supports; returns the count. */
size_t seccomp_supported_flags(const char **out, size_t max);

#endif
