/* Logging in the two formats engines parse: logrus-style text lines
 * (time="..." level=error msg="...") and one JSON object per line
 * ({"level":"error","msg":"...","time":"RFC3339"}). */
#ifndef HUSK_LOG_H
#define HUSK_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARNING, LOG_LEVEL_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* path NULL logs to stderr. Returns 0 or -errno. */
int log_open(const char *path, enum log_format format, bool debug);
void log_close(void);
/* The fd log lines go to (stderr when no --log was given). */
int log_fd(void);
bool log_to_stderr(void);
/* The current time as RFC 3339 with nanoseconds, UTC (log lines, state). */
void log_time_now(char *buf, size_t size);
/* ts in the same format. */
void log_time_format(const struct timespec *ts, char *buf, size_t size);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
