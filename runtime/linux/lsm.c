#include "runtime/linux/lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef HAVE_SELINUX
#include <dlfcn.h>
#include <selinux/selinux.h>
#endif

#include "common/fileutil.h"
#include "common/log.h"
#include "common/strbuf.h"

#ifdef HAVE_SELINUX
/* libselinux, for queries only, loaded the first time one is made: linked
 * in, it and the pcre2 it needs would load (and run their constructors)
 * in every husk command, most of which never ask. */
static char selinux_load_error[512];

static void *selinux_sym(const char *name)
{
	static void *lib;
	static bool tried;
	if (!tried) {
		tried = true;
		lib = dlopen("libselinux.so.1", RTLD_NOW | RTLD_LOCAL);
		if (lib == NULL) {
			/* kept: a host with selinuxfs whose library fails to load
			 * is not a host without SELinux, and the user needs why */
			const char *why = dlerror();
			snprintf(selinux_load_error, sizeof(selinux_load_error), "%s",
				 why ? why : "unknown error");
			log_debug("libselinux: %s", selinux_load_error);
		}
	}
	return lib ? dlsym(lib, name) : NULL;
}
#endif

bool lsm_selinux_enabled(void)
{
#ifdef HAVE_SELINUX
	/* no selinuxfs: no SELinux, and no need to load the library */
	if (access("/sys/fs/selinux", F_OK) < 0)
		return false;
	int (*enabled)(void) = (int (*)(void))selinux_sym("is_selinux_enabled");
	return enabled && enabled() > 0;
#else
	return false;
#endif
}

bool lsm_apparmor_enabled(void)
{
	char c = 0;
	_cleanup_close_ int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
	return fd >= 0 && read(fd, &c, 1) == 1 && c == 'Y';
}

/* field: the JSON path; lsm: its name */
static int check_label(const char *field, const char *value, const char *lsm, bool host_has,
		       struct husk_error *err)
{
#ifdef HAVE_SELINUX
	if (!host_has && strcmp(lsm, "SELinux") == 0 && selinux_load_error[0])
		return err_set(err, ELIBACC,
			       "%s: \"%s\": this host has selinuxfs but libselinux cannot be loaded: %s",
			       field, value, selinux_load_error);
#endif
	if (!host_has)
		return err_set(err, EOPNOTSUPP,
			       "%s: \"%s\" asks for %s, which this host does not run (remove the field "
			       "or run on a host with %s enabled)",
			       field, value, lsm, lsm);
#ifdef HAVE_SELINUX
	int (*check)(const char *) = (int (*)(const char *))selinux_sym("security_check_context");
	if (strcmp(lsm, "SELinux") == 0 && check && check(value) < 0)
		return err_set(err, EINVAL, "%s: \"%s\" is not a valid SELinux context here", field,
			       value);
#endif
	return 0;
}

int lsm_check_process(const struct oci_process *p, struct husk_error *err)
{
	int r = 0;
	if (p->selinuxLabel && p->selinuxLabel[0])
		r = check_label("process.selinuxLabel", p->selinuxLabel, "SELinux",
				lsm_selinux_enabled(), err);
	if (r == 0 && p->apparmorProfile && p->apparmorProfile[0])
		r = check_label("process.apparmorProfile", p->apparmorProfile, "AppArmor",
				lsm_apparmor_enabled(), err);
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
		return check_label("linux.mountLabel", cfg->linux->mountLabel, "SELinux",
				   lsm_selinux_enabled(), err);
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
