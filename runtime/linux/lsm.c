#include "runtime/linux/lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strbuf.h"

/* SELinux is asked through selinuxfs itself, the kernel's own interface
 * (libselinux does the same underneath): no library to load, which the
 * static husk could only do by mixing the host's shared glibc into its own
 * static one. */
int selinuxfs_enabled(const char *mnt, struct husk_error *err)
{
	_cleanup_close_ int dir = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 && errno == ENOENT)
		return 0; /* a kernel without SELinux */
	if (dir < 0)
		return err_sys(err, errno, "cannot reach SELinux: open %s", mnt);
	_cleanup_close_ int fd = openat(dir, "enforce", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0; /* SELinux built in but disabled: its mount point, empty */
	if (fd < 0)
		return err_sys(err, errno, "cannot reach SELinux: open %s/enforce", mnt);
	char mode[8];
	ssize_t n = read(fd, mode, sizeof(mode));
	if (n < 0)
		return err_sys(err, errno, "cannot reach SELinux: read %s/enforce", mnt);
	if (n == 0 || (mode[0] != '0' && mode[0] != '1'))
		return err_set(err, EIO,
			       "cannot reach SELinux: %s/enforce holds no mode (0 or 1): is %s selinuxfs?",
			       mnt, mnt);
	return 1;
}

int selinuxfs_check_context(const char *mnt, const char *context, struct husk_error *err)
{
	/* the kernel validates a context written to "context", NUL included,
	 * and refuses an invalid one with EINVAL */
	char path[PATH_MAX];
	if (fmt_into(path, sizeof(path), err, "selinuxfs", "%s/context", mnt) < 0)
		return -err->code;
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "cannot ask SELinux whether \"%s\" is valid: open %s",
			       context, path);
	size_t len = strlen(context) + 1;
	ssize_t n = write(fd, context, len);
	if (n < 0 && errno == EINVAL)
		return err_set(err, EINVAL, "\"%s\" is not a valid SELinux context here", context);
	if (n < 0)
		return err_sys(err, errno, "cannot ask SELinux whether \"%s\" is valid: write %s",
			       context, path);
	if ((size_t)n != len)
		return err_set(err, EIO,
			       "cannot ask SELinux whether \"%s\" is valid: %s took %zd of %zu bytes",
			       context, path, n, len);
	return 0;
}

bool lsm_selinux_enabled(void)
{
	struct husk_error err = { 0 };
	int r = selinuxfs_enabled(SELINUXFS_MOUNT, &err);
	if (r < 0)
		log_warn("%s", err.msg);
	return r > 0;
}

bool lsm_apparmor_enabled(void)
{
	char c = 0;
	_cleanup_close_ int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
	return fd >= 0 && read(fd, &c, 1) == 1 && c == 'Y';
}

static int not_running(const char *field, const char *value, const char *lsm,
		       struct husk_error *err)
{
	return err_set(err, EOPNOTSUPP,
		       "%s: \"%s\" asks for %s, which this host does not run (remove the field "
		       "or run on a host with %s enabled)",
		       field, value, lsm, lsm);
}

/* field: the JSON path */
static int check_selinux_label(const char *field, const char *value, struct husk_error *err)
{
	int r = selinuxfs_enabled(SELINUXFS_MOUNT, err);
	if (r < 0)
		return err_prefix(err, "%s: \"%s\"", field, value);
	if (r == 0)
		return not_running(field, value, "SELinux", err);
	r = selinuxfs_check_context(SELINUXFS_MOUNT, value, err);
	return r < 0 ? err_prefix(err, "%s", field) : 0;
}

static int check_apparmor_profile(const char *field, const char *value, struct husk_error *err)
{
	return lsm_apparmor_enabled() ? 0 : not_running(field, value, "AppArmor", err);
}

int lsm_check_process(const struct oci_process *p, struct husk_error *err)
{
	int r = 0;
	if (p->selinuxLabel && p->selinuxLabel[0])
		r = check_selinux_label("process.selinuxLabel", p->selinuxLabel, err);
	if (r == 0 && p->apparmorProfile && p->apparmorProfile[0])
		r = check_apparmor_profile("process.apparmorProfile", p->apparmorProfile, err);
	return r;
}

int lsm_check_config(const struct oci_config *cfg, struct husk_error *err)
{
	if (cfg->process) {
		int r = lsm_check_process(cfg->process, err);
		if (r < 0)
			return r;
	}
	if (cfg->linux && cfg->linux->mountLabel && cfg->linux->mountLabel[0])
		return check_selinux_label("linux.mountLabel", cfg->linux->mountLabel, err);
	return 0;
}

/* Write value to the calling thread's attr file (under procfd, never
 * leaving that procfs and following no magic link). ATTR_MISSING without a
 * message when the file is missing, so a caller can try another. */
#define ATTR_MISSING 1
static int write_attr(int procfd, const char *file, const char *value, const char *field,
		      struct husk_error *err)
{
	char path[128];
	snprintf(path, sizeof(path), "thread-self/attr/%s", file);
	struct open_how how = { .flags = O_WRONLY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS };
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, procfd, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOENT)
		return ATTR_MISSING;
	if (fd < 0)
		return err_sys(err, errno, "%s: open /proc/%s", field, path);
	int r = write_all(fd, value, strlen(value));
	if (r < 0)
		return err_sys(err, -r, "%s: write \"%s\" to /proc/%s", field, value, path);
	return 0;
}

int lsm_set_exec_labels(int procfd, const struct oci_process *p, struct husk_error *err)
{
	int r = 0;
	if (p->selinuxLabel && p->selinuxLabel[0]) {
		r = write_attr(procfd, "exec", p->selinuxLabel, "process.selinuxLabel", err);
		if (r == ATTR_MISSING)
			return err_sys(err, ENOENT, "process.selinuxLabel: no attr/exec in procfs");
	}
	if (r == 0 && p->apparmorProfile && p->apparmorProfile[0]) {
		char cmd[4096];
		if (fmt_into(cmd, sizeof(cmd), err, "process.apparmorProfile", "exec %s",
			     p->apparmorProfile) < 0)
			return -err->code;
		/* the AppArmor directory (5.8+) first, then the shared file */
		r = write_attr(procfd, "apparmor/exec", cmd, "process.apparmorProfile", err);
		if (r == ATTR_MISSING)
			r = write_attr(procfd, "exec", cmd, "process.apparmorProfile", err);
		if (r == ATTR_MISSING)
			return err_sys(err, ENOENT, "process.apparmorProfile: no attr/exec in procfs");
		if (r == -ENOENT)
			/* AppArmor's answer for a profile name it does not know */
			return err_set(err, ENOENT,
				       "process.apparmorProfile: AppArmor has no profile \"%s\" "
				       "loaded (load it with apparmor_parser first)",
				       p->apparmorProfile);
	}
	return r;
}
