/* Waiting for a container process in the foreground (run, exec):
 * forwarding signals, relaying a pty, reaping. */
#ifndef HUSK_RUNTIME_FOREGROUND_H
#define HUSK_RUNTIME_FOREGROUND_H

#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>

struct tty_proxy {
	int master; /* the pty master, -1 when there is none */
	bool raw;   /* our terminal was put in raw mode */
	struct termios saved;
};

/* Put our terminal (when stdin is one) in raw mode and size the pty. */
void tty_proxy_begin(struct tty_proxy *t);
void tty_proxy_end(struct tty_proxy *t);
void tty_resize(struct tty_proxy *t);
/* Wait for pid with every signal blocked and read from sigfd: forward
 * signals, relay the pty, log errors arriving on sync_fd, reap orphans.
 * Returns the exit status as a shell shows it (128+N for signal N). */
int wait_container(pid_t pid, int sigfd, int sync_fd, struct tty_proxy *t);

#endif
