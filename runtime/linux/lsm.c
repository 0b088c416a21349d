#include "runtime/linux/lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#ifdef HAVE_SELINUX
#include <selinux/selinux.h>
#endif

#include "common/fileutil.h"

bool lsm_selinux_enabled(void)
{
#ifdef HAVE_SELINUX
	return is_selinux_enabled() > 0;
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

/* field: the JSON path; lsm: its name; host_has: whether the host runs it */
static int refuse(const char *field, const char *value, const char *lsm, bool host_has,
		  struct husk_error *err)
{
	if (!host_has)
		return err_set(err, EOPNOTSUPP,
			       "%s: \"%s\" asks for %s, which this host does not run (remove the field "
			       "or run on a host with %s enabled)",
			       field, value, lsm, lsm);
	return err_set(err, EOPNOTSUPP,
		       "%s: \"%s\": husk does not apply %s labels yet (husk features: %s disabled)",
		       field, value, lsm, lsm);
}

int lsm_check_process(const struct oci_process *p, struct husk_error *err)
{
	if (p->selinuxLabel && p->selinuxLabel[0])
		return refuse("process.selinuxLabel", p->selinuxLabel, "SELinux", lsm_selinux_enabled(),
			      err);
	if (p->apparmorProfile && p->apparmorProfile[0])
		return refuse("process.apparmorProfile", p->apparmorProfile, "AppArmor",
			      lsm_apparmor_enabled(), err);
	return 0;
}

int lsm_check_config(const struct oci_config *cfg, struct husk_error *err)
{
	if (cfg->process) {
		int r = lsm_check_process(cfg->process, err);
		if (r < 0)
			return r;
	}
	if (cfg->linux && cfg->linux->mountLabel && cfg->linux->mountLabel[0])
		return refuse("linux.mountLabel", cfg->linux->mountLabel, "SELinux",
			      lsm_selinux_enabled(), err);
	return 0;
}
