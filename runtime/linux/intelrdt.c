#include "runtime/linux/intelrdt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"

#define FIELD "linux.intelRdt"

int intelrdt_find_root(char *root, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	int r = -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint options [tags] - fstype source opts */
		char *sep = strstr(line, " - ");
		char mnt[PATH_MAX];
		if (sep == NULL || strncmp(sep + 3, "resctrl ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		/* mountinfo octal-escapes spaces and such; resctrl lives at
		 * /sys/fs/resctrl, and an escaped path is not taken */
		if (strchr(mnt, '\\'))
			continue;
		if (strlen(mnt) < size) {
			strcpy(root, mnt);
			r = 0;
		} else {
			r = -ENAMETOOLONG;
		}
		break;
	}
	free(line);
	fclose(f);
	return r;
}

static const char *group_name(const struct oci_intel_rdt *rdt, const char *id)
{
	return rdt->closID && rdt->closID[0] ? rdt->closID : id;
}

static bool monitoring(const struct oci_intel_rdt *rdt)
{
	return rdt->enableMonitoring || rdt->enableCMT || rdt->enableMBM;
}

static bool has_schema(const struct oci_intel_rdt *rdt)
{
	return (rdt->l3CacheSchema && rdt->l3CacheSchema[0]) ||
	       (rdt->memBwSchema && rdt->memBwSchema[0]) || rdt->schemata.len;
}

static int append(char *out, size_t size, size_t *len, const char *s, size_t n,
		  struct husk_error *err)
{
	if (*len + n + 1 >= size || *len + n + 1 > INTELRDT_SCHEMATA_MAX)
		return err_set(err, E2BIG, FIELD ": the schemata come to more than the %d bytes the "
					   "kernel reads in one write",
			       INTELRDT_SCHEMATA_MAX);
	memcpy(out + *len, s, n);
	*len += n;
	out[(*len)++] = '\n';
	out[*len] = '\0';
	return 0;
}

int intelrdt_schemata(const struct oci_intel_rdt *rdt, char *out, size_t size,
		      struct husk_error *err)
{
	size_t len = 0;
	int r;
	out[0] = '\0';
	bool mb = rdt->memBwSchema && rdt->memBwSchema[0];
	if (mb && (strncmp(rdt->memBwSchema, "MB:", 3) != 0 || strchr(rdt->memBwSchema, '\n')))
		return err_set(err, EINVAL,
			       FIELD ".memBwSchema: \"%.64s\" must be one line starting with \"MB:\"",
			       rdt->memBwSchema);
	if (rdt->l3CacheSchema && rdt->l3CacheSchema[0]) {
		/* its lines, less the MB: ones when memBwSchema says otherwise */
		const char *s = rdt->l3CacheSchema;
		while (*s) {
			size_t n = strcspn(s, "\n");
			if (n && !(mb && strncmp(s, "MB:", 3) == 0) &&
			    (r = append(out, size, &len, s, n, err)) < 0)
				return r;
			s += n;
			if (*s == '\n')
				s++;
		}
	}
	if (mb && (r = append(out, size, &len, rdt->memBwSchema, strlen(rdt->memBwSchema), err)) < 0)
		return r;
	for (size_t i = 0; i < rdt->schemata.len; i++) {
		const char *line = rdt->schemata.items[i];
		if (line[0] == '\0' || strchr(line, '\n') || !strchr(line, ':'))
			return err_set(err, EINVAL,
				       FIELD ".schemata[%zu]: \"%.64s\" is not one schemata line "
					     "(RESOURCE:id=value;...)",
				       i, line);
		if ((r = append(out, size, &len, line, strlen(line), err)) < 0)
			return r;
	}
	return 0;
}

static int group_name_ok(const char *name)
{
	size_t n = strlen(name);
	/* a directory of the resctrl root; never one of its own entries */
	return n > 0 && n <= NAME_MAX && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 && strcmp(name, "info") != 0 &&
	       strcmp(name, "mon_groups") != 0 && strcmp(name, "mon_data") != 0;
}

int intelrdt_validate(const char *root, const struct oci_intel_rdt *rdt, const char *id,
		      struct husk_error *err)
{
	char found[PATH_MAX], buf[INTELRDT_SCHEMATA_MAX + 2], path[PATH_MAX + 64];
	struct stat st;
	int r;
	if (rdt->closID && !group_name_ok(rdt->closID))
		return err_set(err, EINVAL,
			       FIELD ".closID: \"%.64s\" cannot name a resctrl group (a directory name, "
				     "not info, mon_groups or mon_data)",
			       rdt->closID);
	if ((r = intelrdt_schemata(rdt, buf, sizeof(buf), err)) < 0)
		return r;
	if (root == NULL) {
		r = intelrdt_find_root(found, sizeof(found));
		if (r == -ENOENT)
			return err_set(err, ENOTSUP,
				       FIELD ": no resctrl filesystem is mounted on this host (Intel RDT "
					     "is not supported or not enabled)");
		if (r < 0)
			return err_sys(err, -r, FIELD ": find the resctrl mount");
		root = found;
	}
	snprintf(path, sizeof(path), "%s/info", root);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(err, ENOTSUP, FIELD ": %s is not a resctrl filesystem (no info directory)",
			       root);
	snprintf(path, sizeof(path), "%s/info/L3_MON", root);
	if (monitoring(rdt) && stat(path, &st) < 0)
		return err_set(err, ENOTSUP,
			       FIELD ".enableMonitoring: this host's resctrl has no monitoring "
				     "(no info/L3_MON)");
	snprintf(path, sizeof(path), "%s/%s", root, group_name(rdt, id));
	if (!has_schema(rdt) && rdt->closID && stat(path, &st) < 0)
		return err_set(err, ENOENT,
			       FIELD ".closID: no resctrl group \"%s\" exists, and without a schema "
				     "none is made",
			       rdt->closID);
	return 0;
}

/* "  7F0 " -> "7f0"; leading zeros go too ("07f0" is "7f0") */
static void norm(const char *s, size_t n, char *out, size_t size)
{
	size_t k = 0;
	bool lead = true;
	for (size_t i = 0; i < n && k + 1 < size; i++) {
		if (isspace((unsigned char)s[i]))
			continue;
		if (lead && s[i] == '0' && i + 1 < n && !isspace((unsigned char)s[i + 1]))
			continue;
		lead = false;
		out[k++] = (char)tolower((unsigned char)s[i]);
	}
	out[k] = '\0';
}

/* The value of domain dom of resource res in the schemata file text, or
 * NULL. */
static bool lookup(const char *file, const char *res, size_t res_len, const char *dom,
		   size_t dom_len, char *val, size_t size)
{
	for (const char *l = file; *l;) {
		size_t n = strcspn(l, "\n");
		const char *colon = memchr(l, ':', n);
		char a[64], b[64];
		if (colon) {
			norm(l, (size_t)(colon - l), a, sizeof(a));
			norm(res, res_len, b, sizeof(b));
		}
		if (colon && strcmp(a, b) == 0) {
			const char *p = colon + 1, *end = l + n;
			while (p < end) {
				size_t item = strcspn(p, ";");
				if ((size_t)(end - p) < item)
					item = (size_t)(end - p);
				const char *eq = memchr(p, '=', item);
				if (eq) {
					norm(p, (size_t)(eq - p), a, sizeof(a));
					norm(dom, dom_len, b, sizeof(b));
					if (strcmp(a, b) == 0) {
						norm(eq + 1, (size_t)(p + item - eq - 1), val, size);
						return true;
					}
				}
				p += item + 1;
			}
		}
		l += n;
		if (*l == '\n')
			l++;
	}
	return false;
}

/* Every domain value the wanted text sets is the file's. */
static int compare(const char *group, const char *want, const char *file, struct husk_error *err)
{
	for (const char *l = want; *l;) {
		size_t n = strcspn(l, "\n");
		const char *colon = memchr(l, ':', n), *end = l + n;
		for (const char *p = colon ? colon + 1 : end; p < end;) {
			size_t item = strcspn(p, ";\n");
			const char *eq = memchr(p, '=', item);
			char have[64] = "", wanted[64];
			if (eq) {
				norm(eq + 1, (size_t)(p + item - eq - 1), wanted, sizeof(wanted));
				if (!lookup(file, l, (size_t)(colon - l), p, (size_t)(eq - p), have,
					    sizeof(have)) ||
				    strcmp(have, wanted) != 0)
					return err_set(err, EEXIST,
						       FIELD ": resctrl group \"%s\" exists with another "
							     "schema: \"%.*s\" asked, its schemata file has %s",
						       group, (int)n, l, have[0] ? have : "no such domain");
			}
			p += item + 1;
		}
		l = *end ? end + 1 : end;
	}
	return 0;
}

static int write_file(int dirfd, const char *name, const char *text, const char *what,
		      struct husk_error *err)
{
	/* O_CREAT: resctrl has the file already; a test tree gets it */
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return err_sys(err, errno, FIELD ": open %s", what);
	int r = write_all(fd, text, strlen(text));
	close(fd);
	if (r < 0)
		return err_sys(err, -r, FIELD ": write \"%.*s\" to %s", (int)strcspn(text, "\n"), text,
			       what);
	return 0;
}

int intelrdt_apply(const char *root, const struct oci_intel_rdt *rdt, const char *id, pid_t pid,
		   struct husk_error *err)
{
	char found[PATH_MAX], want[INTELRDT_SCHEMATA_MAX + 2], have[8192], what[PATH_MAX + 64],
		pidtext[32];
	const char *group = group_name(rdt, id);
	int rootfd = -1, gfd = -1, mfd = -1, r;
	bool made = false, made_mon = false;

	if (root == NULL) {
		if ((r = intelrdt_find_root(found, sizeof(found))) < 0)
			return err_sys(err, -r, FIELD ": find the resctrl mount");
		root = found;
	}
	if ((r = intelrdt_schemata(rdt, want, sizeof(want), err)) < 0)
		return r;
	snprintf(pidtext, sizeof(pidtext), "%d\n", (int)pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_sys(err, errno, FIELD ": open %s", root);
	/* a closID names a group that may exist; the container's own is made
	 * here, never taken over: one already there is someone else's (delete
	 * would remove it, and move their tasks out) */
	bool own = !(rdt->closID && rdt->closID[0]), make = want[0] || own;
	if (make && mkdirat(rootfd, group, 0755) == 0)
		made = true;
	else if (make && errno == EEXIST && own) {
		r = err_set(err, EEXIST,
			    FIELD ": a resctrl group named \"%s\" exists already (%s/%s): it is not "
				  "this container's (set closID to join a group of one's own)",
			    group, root, group);
		goto out;
	} else if (make && errno != EEXIST) {
		r = err_sys(err, errno, FIELD ": make the resctrl group %s/%s", root, group);
		goto out;
	}
	gfd = openat(rootfd, group, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (gfd < 0) {
		r = err_sys(err, errno, FIELD ": open the resctrl group %s/%s", root, group);
		goto out;
	}
	snprintf(what, sizeof(what), "%s/%s/schemata", root, group);
	if (want[0] && made && (r = write_file(gfd, "schemata", want, what, err)) < 0)
		goto out;
	if (want[0] && !made) {
		if ((r = read_small_at(gfd, "schemata", O_NOFOLLOW, have, sizeof(have))) < 0) {
			r = err_sys(err, -r, FIELD ": read %s", what);
			goto out;
		}
		if ((r = compare(group, want, have, err)) < 0)
			goto out;
	}
	snprintf(what, sizeof(what), "%s/%s/tasks", root, group);
	if ((r = write_file(gfd, "tasks", pidtext, what, err)) < 0)
		goto out;
	if (monitoring(rdt)) {
		int mon = openat(gfd, "mon_groups", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (mon < 0) {
			r = err_sys(err, errno, FIELD ".enableMonitoring: open %s/%s/mon_groups", root,
				    group);
			goto out;
		}
		/* made here, never taken over, as the group above */
		if (mkdirat(mon, id, 0755) == 0) {
			made_mon = true;
		} else {
			r = errno == EEXIST
				    ? err_set(err, EEXIST,
					      FIELD ".enableMonitoring: a monitoring group named \"%s\" "
						    "exists already (%s/%s/mon_groups/%s): it is not this "
						    "container's",
					      id, root, group, id)
				    : err_sys(err, errno,
					      FIELD ".enableMonitoring: make %s/%s/mon_groups/%s", root,
					      group, id);
			close(mon);
			goto out;
		}
		mfd = openat(mon, id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(mon);
		snprintf(what, sizeof(what), "%s/%s/mon_groups/%s/tasks", root, group, id);
		if (mfd < 0 || (r = write_file(mfd, "tasks", pidtext, what, err)) < 0) {
			if (mfd < 0)
				r = err_sys(err, errno, FIELD ".enableMonitoring: open %s", what);
			goto out;
		}
	}
	r = 0;
out:
	if (mfd >= 0)
		close(mfd);
	if (gfd >= 0)
		close(gfd);
	if (r < 0 && made_mon) {
		snprintf(what, sizeof(what), "%s/mon_groups/%s", group, id);
		unlinkat(rootfd, what, AT_REMOVEDIR);
	}
	if (r < 0 && made)
		unlinkat(rootfd, group, AT_REMOVEDIR);
	close(rootfd);
	return r;
}

int intelrdt_join(const char *root, const struct oci_intel_rdt *rdt, const char *id, pid_t pid,
		  struct husk_error *err)
{
	char found[PATH_MAX], what[PATH_MAX + 64], pidtext[32], mon[NAME_MAX + 16];
	const char *group = group_name(rdt, id);
	int r;
	if (root == NULL) {
		if ((r = intelrdt_find_root(found, sizeof(found))) < 0)
			return err_sys(err, -r, FIELD ": find the resctrl mount");
		root = found;
	}
	snprintf(pidtext, sizeof(pidtext), "%d\n", (int)pid);
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_sys(err, errno, FIELD ": open %s", root);
	int gfd = openat(rootfd, group, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(rootfd);
	if (gfd < 0)
		return err_sys(err, errno, FIELD ": open the resctrl group %s/%s", root, group);
	snprintf(what, sizeof(what), "%s/%s/tasks", root, group);
	/* O_CREAT aside, write_file only writes: the files are there */
	r = write_file(gfd, "tasks", pidtext, what, err);
	if (r == 0 && monitoring(rdt)) {
		int mfd;
		snprintf(mon, sizeof(mon), "mon_groups/%s", id);
		snprintf(what, sizeof(what), "%s/%s/mon_groups/%s/tasks", root, group, id);
		mfd = openat(gfd, mon, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (mfd < 0)
			r = err_sys(err, errno, FIELD ".enableMonitoring: open %s/%s/%s", root, group, mon);
		else {
			r = write_file(mfd, "tasks", pidtext, what, err);
			close(mfd);
		}
	}
	close(gfd);
	return r;
}

void intelrdt_remove(const char *root, const struct oci_intel_rdt *rdt, const char *id)
{
	char found[PATH_MAX], path[PATH_MAX * 2];
	if (root == NULL) {
		if (intelrdt_find_root(found, sizeof(found)) < 0)
			return;
		root = found;
	}
	const char *group = group_name(rdt, id);
	if (monitoring(rdt)) {
		snprintf(path, sizeof(path), "%s/%s/mon_groups/%s", root, group, id);
		rmdir(path);
	}
	if (!(rdt->closID && rdt->closID[0])) {
		snprintf(path, sizeof(path), "%s/%s", root, id);
		rmdir(path);
	}
}
