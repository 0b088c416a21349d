/* husk-systemd: the D-Bus side of husk's systemd cgroup driver
 * (--systemd-cgroup), a separate program so that husk itself stays a
 * static binary that never loads libsystemd: husk runs this only when it
 * is asked for systemd. It talks to systemd (PID 1) with libsystemd's
 * sd-bus, over the system bus, or systemd's private socket when there is
 * no bus daemon.
 *
 *   husk-systemd start UNIT SLICE DESCRIPTION [PROPERTY=VALUE...]
 *	Starts the transient scope UNIT in SLICE (Delegate=yes) holding this
 *	process, waits for its job, prints "ok" and keeps the scope alive
 *	(it holds it) until stdin says "keep" (husk has put the container's
 *	init in it): then it exits and the scope lives on with the
 *	container. On end of stdin without "keep" (a failed or killed
 *	create) it leaves the scope and stops it: nothing is left behind.
 *   husk-systemd set UNIT PROPERTY=VALUE...
 *	SetUnitProperties (runtime).
 *   husk-systemd stop UNIT
 *	StopUnit and wait for the job; a unit that is gone is not an error.
 *
 * Properties are the resource ones husk maps from linux.resources: the
 * numbers (MemoryMax...) take a decimal or "infinity", AllowedCPUs and
 * AllowedMemoryNodes a cpu list ("0-3,6"); DevicePolicy=strict|auto and
 * DeviceAllow=SPEC PERMS (each adds one entry; an empty value empties the
 * list). "@NAME=T:VALUE" is any property with its D-Bus type T (b y n q i u
 * x t d s): the org.systemd.property.* annotations husk checked. Errors go
 * to stderr as one line; the exit status is 0 on success. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#define SYSTEM_BUS "/run/dbus/system_bus_socket"
#define PRIVATE_BUS "/run/systemd/private"
#define JOB_TIMEOUT_USEC (90ULL * 1000 * 1000)

static const char *verb = "husk-systemd";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* The numeric properties husk passes, and the two cpu-set ones. */
static const char *const u64_props[] = {
	"MemoryMax", "MemoryLow", "MemoryHigh", "MemoryMin", "MemorySwapMax", "CPUWeight",
	"CPUQuotaPerSecUSec", "CPUQuotaPeriodUSec", "TasksMax", "IOWeight",
};
static const char *const set_props[] = { "AllowedCPUs", "AllowedMemoryNodes" };
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool in(const char *name, size_t len, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncmp(list[i], name, len) == 0)
			return true;
	return false;
}

/* "0-3,6" as systemd's bitmask: byte i bit j is cpu 8i+j. */
static int cpu_mask(const char *list, uint8_t *mask, size_t *len)
{
	*len = 0;
	if (*list == '\0')
		return 0;
	for (const char *p = list;;) {
		char *end;
		errno = 0;
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (end == p || errno || *p == '-' || *p == '+')
			return -1;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || errno || *p == '-' || *p == '+' || b < a)
				return -1;
		}
		if (b >= 8 * 1024)
			return -1;
		for (unsigned long c = a; c <= b; c++) {
			mask[c / 8] |= (uint8_t)(1u << (c % 8));
			if (c / 8 + 1 > *len)
				*len = c / 8 + 1;
		}
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
}

/* "@NAME=T:VALUE": a property from an annotation, its D-Bus type T (one
 * of b y n q i u x t d s) chosen by husk, which checked the value. */
static int append_typed(sd_bus_message *m, const char *name, const char *tv)
{
	char t = tv[0], *end;
	const char *v = tv + 2;
	int r;
	if (t == '\0' || tv[1] != ':')
		return fail("%s: \"%s\" is not TYPE:VALUE", name, tv);
	errno = 0;
	if (t == 's')
		r = sd_bus_message_append(m, "(sv)", name, "s", v);
	else if (t == 'd') {
		double d = strtod(v, &end);
		if (*v == '\0' || *end || errno)
			return fail("%s: \"%s\" is not a number", name, v);
		r = sd_bus_message_append(m, "(sv)", name, "d", d);
	} else if (strchr("ynqiuxt", t) && t != '\0') {
		/* the signed ones as int64, the others as uint64, then narrowed:
		 * husk checked the range */
		bool sign = t == 'n' || t == 'i' || t == 'x';
		long long sv = 0;
		unsigned long long uv = 0;
		if (sign)
			sv = strtoll(v, &end, 10);
		else
			uv = strtoull(v, &end, 10);
		if (*v == '\0' || *end || errno || (!sign && *v == '-'))
			return fail("%s: \"%s\" is not a number", name, v);
		char sig[2] = { t, '\0' };
		switch (t) {
		case 'y': r = sd_bus_message_append(m, "(sv)", name, sig, (uint8_t)uv); break;
		case 'n': r = sd_bus_message_append(m, "(sv)", name, sig, (int16_t)sv); break;
		case 'q': r = sd_bus_message_append(m, "(sv)", name, sig, (uint16_t)uv); break;
		case 'i': r = sd_bus_message_append(m, "(sv)", name, sig, (int32_t)sv); break;
		case 'u': r = sd_bus_message_append(m, "(sv)", name, sig, (uint32_t)uv); break;
		case 'x': r = sd_bus_message_append(m, "(sv)", name, sig, (int64_t)sv); break;
		default: r = sd_bus_message_append(m, "(sv)", name, sig, (uint64_t)uv); break;
		}
	} else if (t == 'b') {
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			return fail("%s: \"%s\" is not 0 or 1", name, v);
		r = sd_bus_message_append(m, "(sv)", name, "b", v[0] == '1');
	} else
		return fail("%s: type %c is not one husk-systemd sends", name, t);
	if (r < 0)
		return fail("%s: %s", name, strerror(-r));
	return 0;
}

/* DeviceAllow=SPEC PERMS (one a(ss) of one entry; systemd adds it to the
 * list) or DeviceAllow= (an empty array: the list is emptied). */
static int append_device_allow(sd_bus_message *m, const char *v)
{
	int r;
	if (*v == '\0')
		r = sd_bus_message_append(m, "(sv)", "DeviceAllow", "a(ss)", 0);
	else {
		const char *sp = strrchr(v, ' ');
		char spec[128];
		if (sp == NULL || (size_t)(sp - v) >= sizeof(spec) || sp[1] == '\0' ||
		    strspn(sp + 1, "rwm") != strlen(sp + 1) ||
		    !(strncmp(v, "/dev/", 5) == 0 || strncmp(v, "char-", 5) == 0 ||
		      strncmp(v, "block-", 6) == 0))
			return fail("DeviceAllow: \"%s\" is not DEVICE PERMISSIONS", v);
		memcpy(spec, v, (size_t)(sp - v));
		spec[sp - v] = '\0';
		r = sd_bus_message_append(m, "(sv)", "DeviceAllow", "a(ss)", 1, spec, sp + 1);
	}
	if (r < 0)
		return fail("DeviceAllow: %s", strerror(-r));
	return 0;
}

/* Append one a(sv) entry from "NAME=VALUE" (or "@NAME=T:VALUE"). */
static int append_prop(sd_bus_message *m, const char *arg)
{
	bool typed = arg[0] == '@';
	if (typed)
		arg++;
	const char *eq = strchr(arg, '=');
	if (eq == NULL)
		return fail("\"%s\" is not PROPERTY=VALUE", arg);
	size_t n = (size_t)(eq - arg);
	const char *v = eq + 1;
	char name[64];
	if (n == 0 || n >= sizeof(name))
		return fail("\"%.64s\": bad property name", arg);
	memcpy(name, arg, n);
	name[n] = '\0';
	int r;
	if (typed)
		return append_typed(m, name, v);
	if (strcmp(name, "DeviceAllow") == 0)
		return append_device_allow(m, v);
	if (strcmp(name, "DevicePolicy") == 0) {
		if (strcmp(v, "strict") != 0 && strcmp(v, "auto") != 0 && strcmp(v, "closed") != 0)
			return fail("DevicePolicy: \"%s\" is not strict, closed or auto", v);
		r = sd_bus_message_append(m, "(sv)", name, "s", v);
	} else if (in(arg, n, u64_props, N_OF(u64_props))) {
		uint64_t x;
		char *end;
		if (strcmp(v, "infinity") == 0)
			x = UINT64_MAX;
		else {
			errno = 0;
			x = strtoull(v, &end, 10);
			if (*v < '0' || *v > '9' || *end || errno)
				return fail("%s: \"%s\" is not a number", name, v);
		}
		r = sd_bus_message_append(m, "(sv)", name, "t", x);
	} else if (in(arg, n, set_props, N_OF(set_props))) {
		uint8_t mask[1024] = { 0 };
		size_t len;
		if (cpu_mask(v, mask, &len) < 0)
			return fail("%s: \"%s\" is not a list of numbers below 8192", name, v);
		if ((r = sd_bus_message_open_container(m, 'r', "sv")) >= 0 &&
		    (r = sd_bus_message_append(m, "s", name)) >= 0 &&
		    (r = sd_bus_message_open_container(m, 'v', "ay")) >= 0 &&
		    (r = sd_bus_message_append_array(m, 'y', mask, len)) >= 0 &&
		    (r = sd_bus_message_close_container(m)) >= 0)
			r = sd_bus_message_close_container(m);
	} else
		return fail("%s: not a property husk-systemd sets", name);
	if (r < 0)
		return fail("%s: %s", name, strerror(-r));
	return 0;
}

static int append_props(sd_bus_message *m, char **args, int n)
{
	for (int i = 0; i < n; i++)
		if (append_prop(m, args[i]) < 0)
			return -1;
	return 0;
}

/* The system bus when its daemon runs, else systemd's private socket
 * (root only): both reach PID 1's manager. */
static int connect_bus(sd_bus **bus)
{
	if (sd_booted() <= 0)
		return fail("systemd is not running as PID 1 (no /run/systemd/system)");
	int r = sd_bus_open_system(bus);
	if (r >= 0)
		return 0;
	int sys_err = -r;
	sd_bus *b = NULL;
	if ((r = sd_bus_new(&b)) < 0 ||
	    (r = sd_bus_set_address(b, "unix:path=" PRIVATE_BUS)) < 0 || (r = sd_bus_start(b)) < 0) {
		sd_bus_unref(b);
		return fail("no system bus at " SYSTEM_BUS " (%s), nor systemd's "
			    "private socket " PRIVATE_BUS " (%s)",
			    strerror(sys_err), strerror(-r));
	}
	*bus = b;
	return 0;
}

/* Waiting for a job: the JobRemoved signal for its object path. */
struct job_wait {
	const char *path;
	char result[64];
	bool done;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret)
{
	struct job_wait *w = userdata;
	uint32_t id;
	const char *path, *unit, *result;
	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0 || w->path == NULL ||
	    strcmp(path, w->path) != 0)
		return 0;
	snprintf(w->result, sizeof(w->result), "%s", result);
	w->done = true;
	return 0;
}

static int wait_job(sd_bus *bus, struct job_wait *w, const char *what)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t deadline = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 + JOB_TIMEOUT_USEC;
	while (!w->done) {
		int r = sd_bus_process(bus, NULL);
		if (r < 0)
			return fail("%s: the bus failed while waiting for the job: %s", what, strerror(-r));
		if (r > 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
		if (now >= deadline)
			return fail("%s: the job %s did not finish in %llu s", what, w->path,
				    (unsigned long long)(JOB_TIMEOUT_USEC / 1000000));
		if ((r = sd_bus_wait(bus, deadline - now)) < 0)
			return fail("%s: waiting for the job: %s", what, strerror(-r));
	}
	if (strcmp(w->result, "done") != 0)
		return fail("%s: the job %s ended \"%s\"", what, w->path, w->result);
	return 0;
}

static int subscribe(sd_bus *bus, struct job_wait *w, sd_bus_slot **slot)
{
	int r = sd_bus_match_signal(bus, slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
				    "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, w);
	if (r < 0)
		return fail("subscribe to JobRemoved: %s", strerror(-r));
	/* systemd sends job signals on the bus to subscribed clients only */
	sd_bus_error e = SD_BUS_ERROR_NULL;
	r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			       "org.freedesktop.systemd1.Manager", "Subscribe", &e, NULL, "");
	sd_bus_error_free(&e);
	return 0;
}

static bool is_no_such_unit(const sd_bus_error *e)
{
	return sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit") ||
	       sd_bus_error_has_name(e, "org.freedesktop.systemd1.LoadFailed");
}

/* StopUnit and wait; then forget a failed state (as runc). */
static int stop_unit(sd_bus *bus, const char *unit)
{
	sd_bus_slot *slot = NULL;
	sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct job_wait w = { 0 };
	int ret = 0;
	if (subscribe(bus, &w, &slot) < 0)
		return -1;
	int r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
				   "org.freedesktop.systemd1.Manager", "StopUnit", &e, &reply, "ss",
				   unit, "replace");
	if (r < 0) {
		if (!is_no_such_unit(&e))
			ret = fail("StopUnit %s: %s", unit, e.message ? e.message : strerror(-r));
	} else if ((r = sd_bus_message_read(reply, "o", &w.path)) < 0)
		ret = fail("StopUnit %s: bad reply: %s", unit, strerror(-r));
	else
		ret = wait_job(bus, &w, unit);
	sd_bus_error_free(&e);
	sd_bus_error e2 = SD_BUS_ERROR_NULL;
	sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			   "org.freedesktop.systemd1.Manager", "ResetFailedUnit", &e2, NULL, "s", unit);
	sd_bus_error_free(&e2);
	sd_bus_message_unref(reply);
	sd_bus_slot_unref(slot);
	return ret;
}

/* Where this process was before it held the scope (v2 tree), to step
 * back out of it before stopping it (else the stop kills us too). */
static int own_cgroup(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	int r = -1;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			r = snprintf(out, size, "%s", line + 3) < (int)size ? 0 : -1;
			break;
		}
	fclose(f);
	return r;
}

static void leave_scope(const char *back)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	char file[PATH_MAX + 64];
	for (size_t i = 0; i < N_OF(roots); i++) {
		snprintf(file, sizeof(file), "%s%s/cgroup.procs", roots[i], back);
		int fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = write(fd, "0", 1);
			close(fd);
			if (n == 1)
				return;
		}
	}
}

static int cmd_start(sd_bus *bus, char **argv, int argc)
{
	const char *unit = argv[0], *slice = argv[1], *desc = argv[2];
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_slot *slot = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct job_wait w = { 0 };
	char back[PATH_MAX] = "";
	int r, ret = -1;
	bool started = false;

	own_cgroup(back, sizeof(back));
	if (subscribe(bus, &w, &slot) < 0)
		goto out;
	if ((r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
						 "/org/freedesktop/systemd1",
						 "org.freedesktop.systemd1.Manager",
						 "StartTransientUnit")) < 0 ||
	    (r = sd_bus_message_append(m, "ss", unit, "replace")) < 0 ||
	    (r = sd_bus_message_open_container(m, 'a', "(sv)")) < 0 ||
	    (r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)", "Description", "s", desc, "Slice", "s",
				       slice, "Delegate", "b", 1, "DefaultDependencies", "b", 0)) < 0 ||
	    (r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)", "MemoryAccounting", "b", 1,
				       "CPUAccounting", "b", 1, "IOAccounting", "b", 1,
				       "TasksAccounting", "b", 1)) < 0 ||
	    (r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t)getpid())) < 0) {
		fail("StartTransientUnit %s: build the message: %s", unit, strerror(-r));
		goto out;
	}
	if (append_props(m, argv + 3, argc - 3) < 0)
		goto out;
	if ((r = sd_bus_message_close_container(m)) < 0 ||
	    (r = sd_bus_message_append(m, "a(sa(sv))", 0)) < 0) {
		fail("StartTransientUnit %s: build the message: %s", unit, strerror(-r));
		goto out;
	}
	if ((r = sd_bus_call(bus, m, 0, &e, &reply)) < 0) {
		if (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists"))
			fail("the unit %s already exists: another container (or a leftover) has that "
			     "name; stop it or choose another linux.cgroupsPath",
			     unit);
		else
			fail("StartTransientUnit %s in %s: %s", unit, slice,
			     e.message ? e.message : strerror(-r));
		goto out;
	}
	started = true;
	if ((r = sd_bus_message_read(reply, "o", &w.path)) < 0) {
		fail("StartTransientUnit %s: bad reply: %s", unit, strerror(-r));
		goto out;
	}
	if (wait_job(bus, &w, unit) < 0)
		goto out;
	printf("ok\n");
	fflush(stdout);
	/* hold the scope until husk says the init is in it */
	char line[16];
	if (fgets(line, sizeof(line), stdin) && strcmp(line, "keep\n") == 0)
		ret = 0;
out:
	if (ret < 0 && started) {
		if (*back)
			leave_scope(back);
		stop_unit(bus, unit);
	}
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	sd_bus_message_unref(m);
	sd_bus_slot_unref(slot);
	return ret;
}

static int cmd_set(sd_bus *bus, char **argv, int argc)
{
	const char *unit = argv[0];
	sd_bus_message *m = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r, ret = -1;
	if ((r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
						 "/org/freedesktop/systemd1",
						 "org.freedesktop.systemd1.Manager",
						 "SetUnitProperties")) < 0 ||
	    (r = sd_bus_message_append(m, "sb", unit, 1)) < 0 ||
	    (r = sd_bus_message_open_container(m, 'a', "(sv)")) < 0) {
		fail("SetUnitProperties %s: build the message: %s", unit, strerror(-r));
		goto out;
	}
	if (append_props(m, argv + 1, argc - 1) < 0)
		goto out;
	if ((r = sd_bus_message_close_container(m)) < 0) {
		fail("SetUnitProperties %s: build the message: %s", unit, strerror(-r));
		goto out;
	}
	if ((r = sd_bus_call(bus, m, 0, &e, NULL)) < 0) {
		fail("SetUnitProperties %s: %s", unit, e.message ? e.message : strerror(-r));
		goto out;
	}
	ret = 0;
out:
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	return ret;
}

int main(int argc, char **argv)
{
	sd_bus *bus = NULL;
	int r = -1;
	if (argc < 3 || (strcmp(argv[1], "start") == 0 && argc < 5) ||
	    (strcmp(argv[1], "set") == 0 && argc < 3)) {
		fprintf(stderr, "usage: husk-systemd start UNIT SLICE DESCRIPTION [PROP=VALUE...]\n"
				"       husk-systemd set UNIT PROP=VALUE...\n"
				"       husk-systemd stop UNIT\n");
		return 2;
	}
	verb = argv[1];
	if (connect_bus(&bus) < 0)
		return 1;
	if (strcmp(argv[1], "start") == 0)
		r = cmd_start(bus, argv + 2, argc - 2);
	else if (strcmp(argv[1], "set") == 0)
		r = cmd_set(bus, argv + 2, argc - 2);
	else if (strcmp(argv[1], "stop") == 0 && argc == 3)
		r = stop_unit(bus, argv[2]);
	else
		fprintf(stderr, "husk-systemd: unknown command %s\n", argv[1]);
	sd_bus_flush_close_unref(bus);
	return r < 0 ? 1 : 0;
}
