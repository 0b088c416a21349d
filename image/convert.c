/* Image config -> runtime config, as image-spec's conversion.md lays out:
 * Entrypoint + Cmd -> process.args, Env merged over the defaults,
 * WorkingDir -> process.cwd, User resolved against the image's own
 * /etc/passwd and /etc/group (read through the rootfs resolver), Volumes ->
 * tmpfs mounts, Labels and the other fields -> annotations. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/resolve.h"
#include "image/image.h"
#include "oci-spec/default-config.h"

struct resolved_user {
	uint32_t uid, gid;
	bool found; /* a passwd entry matched */
	char name[256];
	char home[1024];
	uint32_t extra[64];
	size_t nextra;
};

/* Read an image file through the resolver; a missing one is empty. The
 * image chose what it is: only a regular file is read (a fifo would block). */
static int read_image_file(int rootfd, const char *path, char **out, struct husk_error *err)
{
	struct husk_error ignored = { 0 };
	int fd = resolve_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, &ignored);
	if (fd < 0) {
		*out = strdup("");
		return *out ? 0 : err_sys(err, ENOMEM, "%s", path);
	}
	struct stat st;
	int r;
	if (fstat(fd, &st) < 0)
		r = err_sys(err, errno, "%s", path);
	else if (!S_ISREG(st.st_mode))
		r = err_set(err, EINVAL, "%s in the image is not a regular file", path);
	else {
		size_t len;
		r = read_fd_all(fd, path, 4u << 20, out, &len, err);
	}
	close(fd);
	return r;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	if (*s == '\0')
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || errno || v > UINT32_MAX || *s == '-' || *s == '+')
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Split a colon-separated line into at most n fields (in place). */
static size_t split_fields(char *line, char **fields, size_t n)
{
	size_t k = 0;
	fields[k++] = line;
	for (char *p = line; *p && k < n; p++) {
		if (*p == ':') {
			*p = '\0';
			fields[k++] = p + 1;
		}
	}
	return k;
}

static int lookup_passwd(const char *passwd, const char *user, struct resolved_user *u)
{
	_cleanup_free_ char *copy = strdup(passwd);
	if (copy == NULL)
		return -ENOMEM;
	uint32_t want_uid;
	bool numeric = parse_u32(user, &want_uid);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[7];
		uint32_t uid, gid;
		if (split_fields(line, f, 7) < 7 || !parse_u32(f[2], &uid) ||
		    !parse_u32(f[3], &gid))
			continue;
		if (numeric ? uid != want_uid : strcmp(f[0], user) != 0)
			continue;
		u->uid = uid;
		u->gid = gid;
		u->found = true;
		snprintf(u->name, sizeof(u->name), "%s", f[0]);
		snprintf(u->home, sizeof(u->home), "%s", f[5]);
		return 0;
	}
	return 0;
}

/* gid of group (a name or a number); -ENOENT when a name is unknown. */
static int lookup_group(const char *group_file, const char *group, uint32_t *gid)
{
	if (parse_u32(group, gid))
		return 0;
	_cleanup_free_ char *copy = strdup(group_file);
	if (copy == NULL)
		return -ENOMEM;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4];
		if (split_fields(line, f, 4) >= 3 && strcmp(f[0], group) == 0 &&
		    parse_u32(f[2], gid))
			return 0;
	}
	return -ENOENT;
}

static void supplementary_groups(const char *group_file, struct resolved_user *u)
{
	_cleanup_free_ char *copy = strdup(group_file);
	if (copy == NULL)
		return;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4];
		uint32_t gid;
		if (split_fields(line, f, 4) < 4 || !parse_u32(f[2], &gid) || gid == u->gid)
			continue;
		char *msave = NULL;
		for (char *m = strtok_r(f[3], ",", &msave); m; m = strtok_r(NULL, ",", &msave)) {
			if (strcmp(m, u->name) == 0 && u->nextra < 64) {
				bool dup = false;
				for (size_t i = 0; i < u->nextra; i++)
					dup |= u->extra[i] == gid;
				if (!dup)
					u->extra[u->nextra++] = gid;
			}
		}
	}
}

static int resolve_user(int rootfd, const char *spec, struct resolved_user *u,
			struct husk_error *err)
{
	_cleanup_free_ char *passwd = NULL, *groups = NULL;
	_cleanup_free_ char *user = strdup(spec && *spec ? spec : "0");
	if (user == NULL)
		return err_sys(err, ENOMEM, "user");
	char *group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	if (*user == '\0')
		return err_set(err, EINVAL, "User \"%s\": no user before the colon", spec);
	int r = read_image_file(rootfd, "/etc/passwd", &passwd, err);
	if (r == 0)
		r = read_image_file(rootfd, "/etc/group", &groups, err);
	if (r < 0)
		return err_prefix(err, "User \"%s\"", spec ? spec : "");

	*u = (struct resolved_user){ 0 };
	snprintf(u->home, sizeof(u->home), "/");
	if (lookup_passwd(passwd, user, u) < 0)
		return err_sys(err, ENOMEM, "user");
	if (!u->found) {
		if (!parse_u32(user, &u->uid))
			return err_set(err, ENOENT,
				       "User \"%s\": no user \"%s\" in the image's /etc/passwd",
				       spec, user);
		u->gid = 0;
	}
	if (group) {
		r = lookup_group(groups, group, &u->gid);
		if (r == -ENOENT)
			return err_set(err, ENOENT,
				       "User \"%s\": no group \"%s\" in the image's /etc/group",
				       spec, group);
		if (r < 0)
			return err_sys(err, -r, "group");
	}
	if (u->found)
		supplementary_groups(groups, u);
	return 0;
}

static bool env_has(const oci_strings *env, const char *key, size_t klen, size_t *at)
{
	for (size_t i = 0; i < env->len; i++) {
		if (strncmp(env->items[i], key, klen) == 0 && env->items[i][klen] == '=') {
			*at = i;
			return true;
		}
	}
	return false;
}

static int env_set(oci_strings *env, const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t klen = eq ? (size_t)(eq - entry) : strlen(entry);
	size_t at;
	if (env_has(env, entry, klen, &at)) {
		char *copy = strdup(entry);
		if (copy == NULL)
			return -ENOMEM;
		free(env->items[at]);
		env->items[at] = copy;
		return 0;
	}
	return oci_strings_append(env, entry);
}

static int join(const oci_strings *set, char **out)
{
	size_t len = 1;
	for (size_t i = 0; i < set->len; i++)
		len += strlen(set->items[i]) + 1;
	char *s = calloc(1, len);
	if (s == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < set->len; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, set->items[i]);
	}
	*out = s;
	return 0;
}

static int annotate(struct oci_config *c, const struct oci_image_config *ic)
{
	const struct oci_image_exec *x = ic->config;
	int r = 0;
	if (x)
		for (size_t i = 0; r == 0 && i < x->Labels.len; i++)
			r = oci_map_set(&c->annotations, x->Labels.keys[i], x->Labels.values[i]);
	const struct {
		const char *key, *value;
	} fields[] = {
		{ "org.opencontainers.image.os", ic->os },
		{ "org.opencontainers.image.architecture", ic->architecture },
		{ "org.opencontainers.image.variant", ic->variant },
		{ "org.opencontainers.image.os.version", ic->os_version },
		{ "org.opencontainers.image.author", ic->author },
		{ "org.opencontainers.image.created", ic->created },
		{ "org.opencontainers.image.stopSignal", x ? x->StopSignal : NULL },
	};
	for (size_t i = 0; r == 0 && i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i].value && *fields[i].value)
			r = oci_map_set(&c->annotations, fields[i].key, fields[i].value);
	const struct {
		const char *key;
		const oci_strings *set;
	} sets[] = {
		{ "org.opencontainers.image.os.features", &ic->os_features },
		{ "org.opencontainers.image.exposedPorts", x ? &x->ExposedPorts : NULL },
	};
	for (size_t i = 0; r == 0 && i < sizeof(sets) / sizeof(sets[0]); i++) {
		if (sets[i].set == NULL || sets[i].set->len == 0)
			continue;
		_cleanup_free_ char *joined = NULL;
		r = join(sets[i].set, &joined);
		if (r == 0)
			r = oci_map_set(&c->annotations, sets[i].key, joined);
	}
	return r;
}

static int add_volume(struct oci_config *c, int rootfd, const char *dest, struct husk_error *err)
{
	static const char *const options[] = { "nosuid", "nodev", "mode=755" };
	if (dest[0] != '/')
		return err_set(err, EINVAL, "Volumes: \"%s\" is not an absolute path", dest);
	/* the mount point exists in the rootfs, made by the resolver */
	int fd = mkdir_in_root(rootfd, dest, 0755, err);
	if (fd < 0)
		return err_prefix(err, "Volumes");
	close(fd);
	struct oci_mount *grown = realloc(c->mounts.items, (c->mounts.len + 1) * sizeof(*grown));
	if (grown == NULL)
		return err_sys(err, ENOMEM, "mounts");
	c->mounts.items = grown;
	struct oci_mount *m = &grown[c->mounts.len++];
	*m = (struct oci_mount){ .destination = strdup(dest),
				 .type = strdup("tmpfs"),
				 .source = strdup("tmpfs") };
	if (m->destination == NULL || m->type == NULL || m->source == NULL)
		return err_sys(err, ENOMEM, "mounts");
	for (size_t i = 0; i < 3; i++)
		if (oci_strings_append(&m->options, options[i]) < 0)
			return err_sys(err, ENOMEM, "mounts");
	return 0;
}

static void clear_strings(oci_strings *s)
{
	for (size_t i = 0; i < s->len; i++)
		free(s->items[i]);
	s->len = 0;
}

static int fill(struct oci_config *c, const struct oci_image_config *ic, int rootfd,
		struct husk_error *err)
{
	const struct oci_image_exec *x = ic->config;
	struct oci_process *p = c->process;
	p->terminal = false; /* image processes are not interactive by default */

	if (x && (x->Entrypoint.len || x->Cmd.len)) {
		clear_strings(&p->args);
		for (size_t i = 0; i < x->Entrypoint.len; i++)
			if (oci_strings_append(&p->args, x->Entrypoint.items[i]) < 0)
				return err_sys(err, ENOMEM, "args");
		for (size_t i = 0; i < x->Cmd.len; i++)
			if (oci_strings_append(&p->args, x->Cmd.items[i]) < 0)
				return err_sys(err, ENOMEM, "args");
	} else {
		log_warn("the image has no Entrypoint or Cmd; config.json runs \"%s\"",
			 p->args.items[0]);
	}

	for (size_t i = 0; x && i < x->Env.len; i++)
		if (env_set(&p->env, x->Env.items[i]) < 0)
			return err_sys(err, ENOMEM, "env");

	if (x && x->WorkingDir && *x->WorkingDir) {
		char *cwd = NULL;
		if (asprintf(&cwd, "%s%s", x->WorkingDir[0] == '/' ? "" : "/", x->WorkingDir) < 0)
			return err_sys(err, ENOMEM, "cwd");
		free(p->cwd);
		p->cwd = cwd;
		int fd = mkdir_in_root(rootfd, cwd, 0755, err);
		if (fd < 0)
			return err_prefix(err, "WorkingDir");
		close(fd);
	}

	struct resolved_user u;
	int r = resolve_user(rootfd, x ? x->User : NULL, &u, err);
	if (r < 0)
		return r;
	if (p->user == NULL && (p->user = calloc(1, sizeof(*p->user))) == NULL)
		return err_sys(err, ENOMEM, "user");
	p->user->uid = u.uid;
	p->user->gid = u.gid;
	if (u.nextra) {
		p->user->additionalGids.items = calloc(u.nextra, sizeof(uint32_t));
		if (p->user->additionalGids.items == NULL)
			return err_sys(err, ENOMEM, "user");
		memcpy(p->user->additionalGids.items, u.extra, u.nextra * sizeof(uint32_t));
		p->user->additionalGids.len = u.nextra;
	}
	size_t at;
	if (!env_has(&p->env, "HOME", 4, &at)) {
		_cleanup_free_ char *home = NULL;
		if (asprintf(&home, "HOME=%s", u.home[0] ? u.home : "/") < 0 ||
		    oci_strings_append(&p->env, home) < 0)
			return err_sys(err, ENOMEM, "env");
	}

	for (size_t i = 0; x && i < x->Volumes.len; i++) {
		r = add_volume(c, rootfd, x->Volumes.items[i], err);
		if (r < 0)
			return r;
	}
	if (annotate(c, ic) < 0)
		return err_sys(err, ENOMEM, "annotations");
	return 0;
}

int convert_config(const struct oci_image_config *ic, int rootfd, bool rootless,
		   struct oci_config **out, struct husk_error *err)
{
	struct oci_config *c = NULL;
	int r = oci_default_config(rootless, &c, err);
	if (r < 0)
		return r;
	r = fill(c, ic, rootfd, err);
	if (r < 0) {
		oci_free(&oci_config_type, c);
		return err_prefix(err, "image config");
	}
	*out = c;
	return 0;
}
