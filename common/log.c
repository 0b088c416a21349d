#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_target = STDERR_FILENO;
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static enum log_level log_min = LOG_LEVEL_WARNING;

static const char *const level_names[] = { "debug", "info", "warning", "error" };

int log_open(const char *path, enum log_format format, bool debug)
{
	log_fmt = format;
	log_min = debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARNING;
	if (path == NULL || path[0] == '\0')
		return 0;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return -errno;
	log_target = fd;
	return 0;
}

void log_close(void)
{
	if (log_target != STDERR_FILENO)
		close(log_target);
	log_target = STDERR_FILENO;
}

int log_fd(void)
{
	return log_target;
}

bool log_to_stderr(void)
{
	return log_target == STDERR_FILENO;
}

/* Append s to buf as JSON string contents (without quotes). */
static size_t json_escape(char *buf, size_t size, size_t pos, const char *s)
{
	for (; *s && pos + 7 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[pos++] = '\\';
			buf[pos++] = (char)c;
		} else if (c == '\n') {
			buf[pos++] = '\\';
			buf[pos++] = 'n';
		} else if (c == '\t') {
			buf[pos++] = '\\';
			buf[pos++] = 't';
		} else if (c < 0x20) {
			pos += (size_t)snprintf(buf + pos, size - pos, "\\u%04x", c);
		} else {
			buf[pos++] = (char)c;
		}
	}
	return pos;
}

/* The proleptic Gregorian date of a count of days since 1970-01-01, by
 * whole 400-year eras (146097 days) counted from 0000-03-01, so that the
 * leap day ends each year. */
static void civil_date(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
	days += 719468; /* 0000-03-01 to 1970-01-01 */
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);                         /* [0, 146096] */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	unsigned mp = (5 * doy + 2) / 153;                                    /* March = 0 */
	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int64_t)yoe + era * 400 + (*month <= 2);
}

/* Not with gmtime_r or strftime: glibc's load the time zone file
 * (/etc/localtime) even for UTC, in every husk command. */
void log_time_format(const struct timespec *ts, char *buf, size_t size)
{
	int64_t year;
	unsigned month, day;
	int64_t days = ts->tv_sec / 86400, secs = ts->tv_sec % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_date(days, &year, &month, &day);
	snprintf(buf, size, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%09ldZ", year, month, day,
		 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), ts->tv_nsec);
}

void log_time_now(char *buf, size_t size)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	log_time_format(&ts, buf, size);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[2048], line[4600], now[64];
	size_t pos = 0;
	va_list ap;
	int saved_errno = errno;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_time_now(now, sizeof(now));

	if (log_fmt == LOG_FORMAT_JSON) {
		pos = (size_t)snprintf(line, sizeof(line), "{\"level\":\"%s\",\"msg\":\"", level_names[level]);
		pos = json_escape(line, sizeof(line) - 64, pos, msg);
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "\",\"time\":\"%s\"}\n", now);
	} else {
		pos = (size_t)snprintf(line, sizeof(line), "time=\"%s\" level=%s msg=\"", now, level_names[level]);
		pos = json_escape(line, sizeof(line) - 64, pos, msg);
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "\"\n");
	}
	if (pos >= sizeof(line))
		pos = sizeof(line) - 1;
	/* One write per line so concurrent writers never interleave inside one. */
	ssize_t unused = write(log_target, line, pos);
	(void)unused;
	errno = saved_errno;
}
