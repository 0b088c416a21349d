/* linux.netDevices (runtime-spec 1.3): network interfaces of the runtime's
 * network namespace moved into the container's, renamed per `name`, with
 * their permanent global addresses, and set up, over rtnetlink (no library).
 *
 * As the spec asks, delete does not move them back: when the container's
 * network namespace goes away with its last process, the kernel returns
 * physical devices to the initial namespace and destroys virtual ones
 * (veth, dummy, macvlan...). Only a create that fails after the move puts
 * them back where they were, under their own names. */
#ifndef HUSK_LINUX_NETDEV_H
#define HUSK_LINUX_NETDEV_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci-spec/runtime-spec.h"
#include "runtime/linux/namespaces.h"

/* What netdev_move_all moved, to undo it. */
struct netdev_moves {
	size_t n;
	/* into a namespace the config joins: others may act there, so a
	 * failed create leaves the devices in it rather than bring into the
	 * host's namespace whatever now answers to their index */
	bool joined;
	struct netdev_moved {
		char host_name[IF_NAMESIZE];
		int index; /* in the container's namespace */
		bool was_up;
		struct addr_list *addrs; /* the addresses it had here */
	} *dev;
};

/* A name the kernel takes for an interface (dev_valid_name): 1 to 15
 * bytes, not "." or "..", no '/', ':' or white space. template: "%d" may
 * appear once (the kernel picks the number). */
int netdev_name_ok(const char *name, int template);

/* Before anything is created: the container has a network namespace of its
 * own (new, or joined and not the runtime's), every name is valid, every
 * device exists here and is free to move (not the loopback, not a port of
 * another device), and no two end up with the same name. */
int netdev_validate(const struct oci_linux *lx, const struct ns_plan *plan, struct husk_error *err);

/* Move every device of lx->netDevices into pid's network namespace. On an
 * error, the ones moved are moved back first. */
int netdev_move_all(const struct oci_linux *lx, pid_t pid, struct netdev_moves *moves,
		    struct husk_error *err);
/* Move them back to the runtime's namespace under their host names (best
 * effort: the create is failing), and free moves. */
void netdev_move_back(struct netdev_moves *moves, pid_t pid);
void netdev_moves_free(struct netdev_moves *moves);

#endif
