/* Resource usage read from a container's cgroup, in the shape runc's
 * `events` prints ({"type":"stats","id":...,"data":{cpu,memory,pids}}). */
#ifndef HUSK_LINUX_CGROUP_STATS_H
#define HUSK_LINUX_CGROUP_STATS_H

#include <stdbool.h>
#include <time.h>

#include "common/error.h"
#include "oci-spec/schema.h"

/* The parts hold their values inline (the *_ members); the pointers, which
 * the encoder walks, say which parts the host reported. */
struct stats_cpu_usage {
	uint64_t total; /* ns */
	OCI_ARRAY(uint64_t) percpu;
	uint64_t kernel;
	uint64_t user;
};

struct stats_throttling {
	uint64_t periods;
	uint64_t throttledPeriods;
	uint64_t throttledTime;
};

struct stats_cpu {
	struct stats_cpu_usage usage_;
	struct stats_cpu_usage *usage;
	struct stats_throttling throttling_;
	struct stats_throttling *throttling;
};

struct stats_memory_entry {
	uint64_t limit;
	uint64_t usage;
	uint64_t max;
	uint64_t failcnt;
};

struct stats_memory {
	struct stats_memory_entry usage_, swap_;
	struct stats_memory_entry *usage;
	struct stats_memory_entry *swap;
};

struct stats_pids {
	uint64_t current;
	uint64_t limit;
};

/* One line of a blkio/io statistic; op points to a static name. */
struct stats_blkio_entry {
	uint64_t major;
	uint64_t minor;
	char *op;
	uint64_t value;
};

typedef OCI_ARRAY(struct stats_blkio_entry) stats_blkio_entries;

struct stats_blkio {
	stats_blkio_entries ioServiceBytesRecursive;
	stats_blkio_entries ioServicedRecursive;
	stats_blkio_entries ioQueueRecursive;
	stats_blkio_entries ioServiceTimeRecursive;
	stats_blkio_entries ioWaitTimeRecursive;
	stats_blkio_entries ioMergedRecursive;
	stats_blkio_entries ioTimeRecursive;
	stats_blkio_entries sectorsRecursive;
};

/* Per page size ("2MB"): usage now, the highest usage seen (v1 only) and
 * how often the limit refused an allocation. */
struct stats_hugetlb {
	uint64_t usage;
	uint64_t max;
	uint64_t failcnt;
};

struct stats_data {
	struct stats_cpu cpu_;
	struct stats_memory memory_;
	struct stats_pids pids_;
	struct stats_blkio blkio_;
	struct stats_cpu *cpu;
	struct stats_memory *memory;
	struct stats_pids *pids;
	struct stats_blkio *blkio;
	OCI_MAP(struct stats_hugetlb) hugetlb; /* keys malloc'd */
};

struct stats_event {
	char *type;
	char *id;
	struct stats_data *data;
};

extern const struct oci_type stats_event_type;

/* Fill data from the cgroup at path (what the host has; missing files
 * leave their part out). data must be zeroed; free with stats_release. */
int cgroup_stats(const char *path, struct stats_data *data, struct husk_error *err);
void stats_release(struct stats_data *data);

/* Watching a container's cgroup for OOM kills: v2 inotify on memory.events,
 * v1 an eventfd registered through cgroup.event_control; both count with the
 * oom_kill counter where the kernel has it. */
struct oom_watch {
	int fd; /* what poll waits on */
	int control_fd; /* v1: memory.oom_control, kept open for the registration */
	bool v2, counted;
	uint64_t seen; /* oom_kill when last looked */
	char dir[4200];
};

int oom_watch_open(const char *path, struct oom_watch *w, struct husk_error *err);
/* Wait up to timeout; the number of OOM kills since the last look. */
unsigned oom_watch_wait(struct oom_watch *w, const struct timespec *timeout);
/* The kills since the last look, without waiting (signalled: the fd fired). */
unsigned oom_watch_check(struct oom_watch *w, bool signalled);
void oom_watch_close(struct oom_watch *w);

#endif
