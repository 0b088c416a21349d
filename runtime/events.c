/* husk events: resource statistics of a container, once (--stats) or every
 * --interval until it stops, with OOM kills as they happen; one JSON object
 * per line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "runtime/lifecycle.h"
#include "runtime/linux/cgroup-stats.h"

/* "5s", "500ms", "1m", or plain seconds. */
static int parse_interval(const char *s, struct timespec *out)
{
	char *end;
	double v = strtod(s, &end);
	double seconds;
	if (end == s || v <= 0)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		seconds = v / 1000;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		seconds = v;
	else if (strcmp(end, "m") == 0)
		seconds = v * 60;
	else
		return -EINVAL;
	out->tv_sec = (time_t)seconds;
	out->tv_nsec = (long)((seconds - (double)out->tv_sec) * 1e9);
	return 0;
}

static int print_event(const struct stats_event *ev, struct husk_error *err)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r = oci_encode(&stats_event_type, ev, false, &json, &len, err);
	if (r == 0) {
		printf("%s\n", json);
		fflush(stdout);
	}
	return r;
}

static int print_stats(struct container *ct, struct husk_error *err)
{
	struct stats_data data = { 0 };
	int r = cgroup_stats(ct->state->cgroup_path, &data, err);
	if (r < 0)
		return r;
	struct stats_event ev = { .type = "stats", .id = ct->id, .data = &data };
	r = print_event(&ev, err);
	stats_release(&data);
	return r;
}

/* One {"type":"oom","id":ID} line per OOM kill. */
static int print_ooms(const char *id, unsigned kills, struct husk_error *err)
{
	struct stats_event ev = { .type = "oom", .id = (char *)id };
	for (unsigned i = 0; i < kills; i++) {
		int r = print_event(&ev, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Stats every interval and OOM kills as they happen, until the container
 * stops (the kills that stopped it are reported first). */
static int stream(struct husk_globals *g, const char *id, const struct timespec *interval,
		  struct husk_error *err)
{
	struct container *ct = NULL;
	struct oom_watch watch;
	int r = load_container(g, id, false, &ct, err);
	if (r < 0)
		return r;
	struct husk_error no_watch;
	bool watching = oom_watch_open(ct->state->cgroup_path, &watch, &no_watch) == 0;
	if (!watching)
		log_debug("events: no OOM events: %s", no_watch.msg);
	for (;;) {
		if (ct->status == STATUS_STOPPED) {
			r = watching ? print_ooms(id, oom_watch_check(&watch, false), err) : 0;
			break;
		}
		if ((r = print_stats(ct, err)) < 0)
			break;
		if (watching) {
			if ((r = print_ooms(id, oom_watch_wait(&watch, interval), err)) < 0)
				break;
		} else {
			nanosleep(interval, NULL);
		}
		container_free(ct);
		ct = NULL;
		if ((r = load_container(g, id, false, &ct, err)) < 0)
			break;
	}
	if (watching)
		oom_watch_close(&watch);
	container_free(ct);
	return r;
}

static int events_run(struct husk_globals *g, int argc, char **argv, struct husk_error *err)
{
	static const struct option opts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ 0 },
	};
	struct timespec interval = { 5, 0 };
	bool once = false;
	int c;

	while ((c = verb_getopt(&verb_events, argc, argv, opts)) != -1) {
		if (c == 's')
			once = true;
		else if (c == 'i') {
			if (parse_interval(optarg, &interval) < 0)
				return verb_usage_error(&verb_events, "--interval: \"%s\" is not a duration",
							optarg);
		} else
			return c;
	}
	if ((c = verb_need_args(&verb_events, argc, 1, "a container id")) != 0)
		return c;
	const char *id = argv[optind];
	if (!once)
		return stream(g, id, &interval, err);
	struct container *ct = NULL;
	int r = load_container(g, id, false, &ct, err);
	if (r < 0)
		return r;
	if (ct->status == STATUS_STOPPED)
		r = err_set(err, ESRCH, "container \"%s\": container not running", id);
	else
		r = print_stats(ct, err);
	container_free(ct);
	return r;
}

const struct verb verb_events = {
	.name = "events",
	.run = events_run,
	.summary = "print resource statistics of a container (JSON lines)",
	.usage = "[--stats] [--interval D] ID\n\n"
		 "  --stats          print the statistics once and exit\n"
		 "  --interval D     time between reports (default 5s; 500ms, 2s, 1m)",
};
