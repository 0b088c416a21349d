/* Device nodes in the container (devices.c). */
#ifndef HUSK_LINUX_DEVICES_H
#define HUSK_LINUX_DEVICES_H

#include "common/error.h"
#include "oci-spec/runtime-spec.h"
#include "runtime/linux/mounts.h"

/* The type and path of every linux.devices entry, before anything runs. */
int devices_validate(const struct oci_linux *lx, struct husk_error *err);
/* The default devices (null, zero, full, random, urandom, tty) and the
 * links (fd, stdin..., ptmx) in the /dev tmpfs the mounts left. */
int rootfs_populate_dev(struct rootfs_ctx *ctx, struct husk_error *err);
/* linux.devices, each at its path with its number, mode and owner. */
int rootfs_config_devices(struct rootfs_ctx *ctx, struct husk_error *err);

#endif
