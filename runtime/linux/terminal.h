/* process.terminal: a pty from the container's own devpts, its master sent
 * to the --console-socket over SCM_RIGHTS. The process in the container
 * opens the pty and hands the master to husk outside over its sync socket;
 * husk, never the process, holds the console socket's connection (issue
 * 11: a container process with CAP_SYS_PTRACE could take it from the
 * process and send the receiver anything). */
#ifndef HUSK_LINUX_TERMINAL_H
#define HUSK_LINUX_TERMINAL_H

#include <stdbool.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

/* Connect to the console socket (before the container is forked). */
int console_socket_connect(const char *path, int *out, struct husk_error *err);
/* In the container, after the pivot: open a pty of the devpts under
 * rootfd, sized, its peer bound on /dev/console when bind_console. */
int terminal_open(int rootfd, const struct oci_box *size, bool bind_console, int *master,
		  int *peer, struct husk_error *err);
/* Make the peer the controlling terminal (a new session) and stdio. */
int terminal_attach(int peer, struct husk_error *err);
/* 0 when fd is a pty master (what a container process hands over as
 * one), else -EBADF. */
int terminal_check_master(int fd);
/* Send fd over a unix socket with SCM_RIGHTS; name goes as the payload. */
int send_fd(int sock, int fd, const char *name);
/* Receive one fd sent with send_fd. */
int recv_fd(int sock, int *fd, char *name, size_t name_size);

#endif
