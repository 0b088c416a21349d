/* The freezer: v1 freezer.state, v2 cgroup.freeze. Freezing is only done
 * when the kernel says every task is frozen. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "runtime/linux/cgroup.h"

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	return 0;
}

static int write_small(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = write_all(fd, value, strlen(value));
	close(fd);
	return r;
}

/* Wait (bounded) until the freezer reports the wanted state. */
static int wait_state(const char *file, const char *want, struct husk_error *err)
{
	struct timespec pause = { 0, 1000 * 1000 };
	char buf[4096];
	for (int i = 0; i < 5000; i++) {
		if (read_small(file, buf, sizeof(buf)) == 0 && strstr(buf, want))
			return 0;
		nanosleep(&pause, NULL);
	}
	return err_set(err, ETIMEDOUT, "%s did not reach \"%s\"", file, want);
}

int cgroup_freeze(const char *path, bool frozen, struct husk_error *err)
{
	char file[4200];
	int r;

	if (path == NULL)
		return err_set(err, ENOTSUP, "the container has no cgroup (rootless?): cannot freeze it");
	if (cgroup_mode() == CGROUP_V2) {
		snprintf(file, sizeof(file), "/sys/fs/cgroup%s/cgroup.freeze", path);
		if ((r = write_small(file, frozen ? "1" : "0")) < 0)
			return err_sys(err, -r, "write %s", file);
		snprintf(file, sizeof(file), "/sys/fs/cgroup%s/cgroup.events", path);
		return wait_state(file, frozen ? "frozen 1" : "frozen 0", err);
	}
	snprintf(file, sizeof(file), "/sys/fs/cgroup/freezer%s/freezer.state", path);
	if ((r = write_small(file, frozen ? "FROZEN" : "THAWED")) < 0)
		return err_sys(err, -r, "write %s", file);
	return wait_state(file, frozen ? "FROZEN" : "THAWED", err);
}

bool cgroup_is_frozen(const char *path)
{
	char file[4200], buf[4096];
	if (path == NULL)
		return false;
	if (cgroup_mode() == CGROUP_V2) {
		snprintf(file, sizeof(file), "/sys/fs/cgroup%s/cgroup.freeze", path);
		return read_small(file, buf, sizeof(buf)) == 0 && buf[0] == '1';
	}
	snprintf(file, sizeof(file), "/sys/fs/cgroup/freezer%s/freezer.state", path);
	return read_small(file, buf, sizeof(buf)) == 0 && strncmp(buf, "FROZEN", 6) == 0;
}
