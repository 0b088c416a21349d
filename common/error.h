/* Error objects: functions return 0 or a negative errno and fill one of
 * these with a message that names what was wrong and where. One place
 * (the command's main) prints it. */
#ifndef HUSK_ERROR_H
#define HUSK_ERROR_H

#include <stddef.h>

#define HUSK_ERROR_MAX 1024

struct husk_error {
	int code; /* positive errno, 0 when unset */
	char msg[HUSK_ERROR_MAX];
};

/* Set the error and return -code (or -EINVAL when code is 0). */
int err_set(struct husk_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like err_set, with ": strerror(code)" appended. */
int err_sys(struct husk_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prepend context ("PREFIX: old message") and return -code. */
int err_prefix(struct husk_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_clear(struct husk_error *err);

#endif
