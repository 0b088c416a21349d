/* The freezer: v1 freezer.state, v2 cgroup.freeze. Freezing is only done
 * when the kernel says every task is frozen. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/strbuf.h"
#include "runtime/linux/cgroup.h"

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
		if (read_small_at(AT_FDCWD, file, 0, buf, sizeof(buf)) == 0 && strstr(buf, want))
			return 0;
		nanosleep(&pause, NULL);
	}
	return err_set(err, ETIMEDOUT, "%s did not reach \"%s\"", file, want);
}

/* The freezer file of the cgroup at path: v2 NAME, v1 freezer.state. */
static int freezer_file(const char *path, const char *v2name, struct strbuf *out,
			struct husk_error *err)
{
	bool v2 = cgroup_mode() == CGROUP_V2;
	const char *mount = cgroup_mount(v2 ? "unified" : "freezer");
	if (mount == NULL)
		return err_set(err, ENOTSUP, "no freezer cgroup hierarchy is mounted");
	sb_addf(out, "%s%s/%s", mount, path, v2 ? v2name : "freezer.state");
	return sb_check(out, err, "cgroupPath");
}

int cgroup_freeze(const char *path, bool frozen, struct husk_error *err)
{
	_cleanup_strbuf_ struct strbuf file = STRBUF_INIT;
	int r;

	if (path == NULL)
		return err_set(err, ENOTSUP, "the container has no cgroup (rootless?): cannot freeze it");
	if ((r = cgroup_path_check(path, err)) < 0 ||
	    (r = freezer_file(path, "cgroup.freeze", &file, err)) < 0)
		return r;
	if (cgroup_mode() == CGROUP_V2) {
		if ((r = write_small(file.buf, frozen ? "1" : "0")) < 0)
			return err_sys(err, -r, "write %s", file.buf);
		sb_reset(&file);
		if ((r = freezer_file(path, "cgroup.events", &file, err)) < 0)
			return r;
		return wait_state(file.buf, frozen ? "frozen 1" : "frozen 0", err);
	}
	if ((r = write_small(file.buf, frozen ? "FROZEN" : "THAWED")) < 0)
		return err_sys(err, -r, "write %s", file.buf);
	return wait_state(file.buf, frozen ? "FROZEN" : "THAWED", err);
}

bool cgroup_is_frozen(const char *path)
{
	_cleanup_strbuf_ struct strbuf file = STRBUF_INIT;
	struct husk_error ignored;
	char buf[64];
	if (path == NULL || cgroup_path_check(path, &ignored) < 0 ||
	    freezer_file(path, "cgroup.freeze", &file, &ignored) < 0 ||
	    read_small_at(AT_FDCWD, file.buf, 0, buf, sizeof(buf)) < 0)
		return false;
	return cgroup_mode() == CGROUP_V2 ? buf[0] == '1' : strncmp(buf, "FROZEN", 6) == 0;
}
