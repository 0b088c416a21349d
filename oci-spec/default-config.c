#include "oci-spec/default-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The default config, decoded by our own decoder so that the output always
 * round-trips through oci-spec. */
static const char default_spec[] =
	"{\"ociVersion\":\"" OCI_RUNTIME_SPEC_VERSION "\","
	"\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"
	"\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"TERM=xterm\"],"
	"\"cwd\":\"/\","
	"\"capabilities\":{"
	"\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
	"\"noNewPrivileges\":true},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	"\"hostname\":\"husk\","
	"\"mounts\":["
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
	"\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
	"\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
	"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
	"\"linux\":{"
	"\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
	"{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
	"\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
	"\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\","
	"\"/sys/firmware\",\"/proc/scsi\"],"
	"\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
	"\"/proc/sysrq-trigger\"]}}";

static int set_string(char **field, const char *value)
{
	char *copy = strdup(value);
	if (copy == NULL)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/* Make the default runnable by an unprivileged user: a user namespace that
 * maps the caller, no network namespace, /sys bound from the host, no
 * uid=/gid= mount options and no cgroup resources. */
static int make_rootless(struct oci_config *cfg)
{
	struct oci_linux *lx = cfg->linux;
	size_t out = 0;

	for (size_t i = 0; i < lx->namespaces.len; i++) {
		struct oci_namespace *ns = &lx->namespaces.items[i];
		if (strcmp(ns->type, "network") == 0) {
			free(ns->type);
			free(ns->path);
			continue;
		}
		lx->namespaces.items[out++] = *ns;
	}
	struct oci_namespace *grown = realloc(lx->namespaces.items, (out + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	lx->namespaces.items = grown;
	lx->namespaces.len = out + 1;
	grown[out] = (struct oci_namespace){ .type = strdup("user") };
	if (grown[out].type == NULL)
		return -ENOMEM;

	lx->uidMappings.items = calloc(1, sizeof(struct oci_id_mapping));
	lx->gidMappings.items = calloc(1, sizeof(struct oci_id_mapping));
	if (lx->uidMappings.items == NULL || lx->gidMappings.items == NULL)
		return -ENOMEM;
	lx->uidMappings.items[0] = (struct oci_id_mapping){ 0, geteuid(), 1 };
	lx->gidMappings.items[0] = (struct oci_id_mapping){ 0, getegid(), 1 };
	lx->uidMappings.len = lx->gidMappings.len = 1;

	for (size_t i = 0; i < cfg->mounts.len; i++) {
		struct oci_mount *m = &cfg->mounts.items[i];
		if (strcmp(m->destination, "/sys") == 0) {
			static const char *const sys_options[] = { "rbind", "nosuid", "noexec", "nodev", "ro" };
			if (set_string(&m->type, "none") < 0 || set_string(&m->source, "/sys") < 0)
				return -ENOMEM;
			for (size_t k = 0; k < m->options.len; k++)
				free(m->options.items[k]);
			m->options.len = 0;
			for (size_t k = 0; k < 5; k++)
				if (oci_strings_append(&m->options, sys_options[k]) < 0)
					return -ENOMEM;
			continue;
		}
		size_t kept = 0;
		for (size_t k = 0; k < m->options.len; k++) {
			char *o = m->options.items[k];
			if (strncmp(o, "uid=", 4) == 0 || strncmp(o, "gid=", 4) == 0)
				free(o);
			else
				m->options.items[kept++] = o;
		}
		m->options.len = kept;
	}
	oci_free(&oci_resources_type, lx->resources);
	lx->resources = NULL;
	return 0;
}

void oci_config_drop_namespace(struct oci_config *cfg, const char *type)
{
	struct oci_linux *lx = cfg->linux;
	size_t out = 0;
	if (lx == NULL)
		return;
	for (size_t i = 0; i < lx->namespaces.len; i++) {
		struct oci_namespace *ns = &lx->namespaces.items[i];
		if (strcmp(ns->type, type) == 0) {
			free(ns->type);
			free(ns->path);
			continue;
		}
		lx->namespaces.items[out++] = *ns;
	}
	lx->namespaces.len = out;
}

int oci_default_config(bool rootless, struct oci_config **out, struct husk_error *err)
{
	struct oci_config *cfg = NULL;
	int r = oci_decode(&oci_config_type, default_spec, strlen(default_spec), "default spec",
			   (void **)&cfg, err);
	if (r < 0)
		return r;
	if (rootless && make_rootless(cfg) < 0) {
		oci_free(&oci_config_type, cfg);
		return err_sys(err, ENOMEM, "default spec");
	}
	*out = cfg;
	return 0;
}
