/* process.terminal: a pty from the container's own devpts, its master sent
 * to the --console-socket over SCM_RIGHTS. */
#ifndef HUSK_LINUX_TERMINAL_H
#define HUSK_LINUX_TERMINAL_H

#include <stdbool.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

/* Connect to the console socket (before the container is forked). */
int console_socket_connect(const char *path, int *out, struct husk_error *err);
/* In the container, after the pivot: open a pty, send the master over
 * socket_fd, make the peer the controlling terminal and stdio, and bind
 * it on /dev/console. */
int terminal_setup(int socket_fd, int rootfd, const struct oci_box *size, bool bind_console,
		   struct husk_error *err);
/* Send fd over a unix socket with SCM_RIGHTS; name goes as the payload. */
int send_fd(int sock, int fd, const char *name);
/* Receive one fd sent with send_fd. */
int recv_fd(int sock, int *fd, char *name, size_t name_size);

#endif
