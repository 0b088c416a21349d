/* The container's filesystem: propagation, the rootfs bind, every mount of
 * config.json (by fd, with the new mount API), /dev, pivot_root, masked and
 * read-only paths. All paths inside the rootfs go through common/resolve. */
#ifndef HUSK_LINUX_MOUNTS_H
#define HUSK_LINUX_MOUNTS_H

#include <stdbool.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"

struct rootfs_ctx {
	const struct oci_config *cfg;
	const char *bundle;  /* absolute */
	char rootfs[4096];   /* absolute host path of root.path */
	int rootfd;          /* O_PATH of the rootfs; "/" after the pivot */
	int procfd;          /* the runtime's own procfs of the container */
	int pidns_fd;        /* >= 0: proc mounts are of this pid namespace (the
			      * init sets up outside the one it joins) */
	const int *proc_contexts; /* or, by mount index, a procfs fs context of
				   * that namespace (pidns-proc.h) */
	bool userns;         /* in a new user namespace: no mknod */
	bool no_pivot;
	bool host_mntns;     /* no mount namespace of its own (the runtime's is
			      * inherited): nothing is mounted, only a chroot */
	bool dev_is_tmpfs;   /* /dev is a fresh tmpfs: populate it */
	unsigned dev_ro;     /* /dev asked for "ro" (1) or "rro" (2): made read-only last */
	const int *source_trees; /* by mount index: a detached clone of the bind
				 * source made by the parent, or -1 */
	size_t next_mount;    /* the first config mount not done yet */
};

/* In the parent (host privileges), before any namespace is made: a
 * detached clone of the source of each bind mount that has uidMappings or
 * gidMappings (idmapped), and, in a container with a user namespace, of
 * every other bind mount too, so a source only the runtime can reach (a
 * 0700 directory on its path) is bound all the same, as runc does. The
 * clones are slaves: nothing mounted in the container propagates back.
 * *fds gets one entry per mount (-1 when none); free with
 * mount_sources_close. */
int mount_sources_prepare(const struct oci_config *cfg, const char *bundle, int **fds,
			  struct husk_error *err);
void mount_sources_close(const struct oci_config *cfg, int *fds);

/* Propagation, rootfs bind, and the config mounts before the first cgroup
 * mount: none of it depends on the container's cgroup, so the init does it
 * before it has joined. */
int rootfs_prepare(struct rootfs_ctx *ctx, struct husk_error *err);
/* Once in the cgroup (and its namespace): the other config mounts, /dev
 * and linux.devices. Then the hooks. */
int rootfs_prepare_rest(struct rootfs_ctx *ctx, struct husk_error *err);
/* pivot_root (or MS_MOVE + chroot with --no-pivot) into the rootfs; in the
 * runtime's mount namespace, chroot alone. */
int rootfs_pivot(struct rootfs_ctx *ctx, struct husk_error *err);
/* After the pivot: masked and read-only paths, then root.readonly. */
int rootfs_finish(struct rootfs_ctx *ctx, struct husk_error *err);

/* The mount options husk understands, for `features`. */
extern const char *const mount_option_names[];
extern const size_t mount_option_count;

#endif
