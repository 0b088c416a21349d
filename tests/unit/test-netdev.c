/* runtime/linux/netdev.c's rtnetlink answers: in a network namespace the
 * container joins, any process with CAP_NET_ADMIN there can send to
 * husk's socket. Only the kernel's answers may count (a forged "moved",
 * "failed" or device list would steer which device husk moves back into
 * the runtime's namespace). Runs in a network namespace of its own. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>

#include "runtime/linux/netdev.c"
#include "tests/unit/unit.h"

/* send a message to portid from another socket, as a process in the
 * namespace could; 0, or -errno */
static int forge(uint32_t portid, const void *msg, size_t len)
{
	int fd = nl_open();
	if (fd < 0)
		return fd;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = portid };
	int r = sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static void forged_answers(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t salen = sizeof(sa);
	struct link_info li;
	int fd = nl_open();
	CHECK(fd >= 0, "netlink socket: %s", strerror(-fd));
	if (fd < 0)
		return;
	/* bound as nl_send would bind it, so the forger knows where to send */
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		      getsockname(fd, (struct sockaddr *)&sa, &salen) == 0,
	      "bind: %s", strerror(errno));

	/* an error for the next request, queued before the kernel answers */
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} err = { .h = { .nlmsg_len = sizeof(err), .nlmsg_type = NLMSG_ERROR,
			 .nlmsg_seq = nl_seq + 1 },
		  .e = { .error = -EPERM } };
	int r = forge(sa.nl_pid, &err, sizeof(err));
	if (r == -EPERM) {
		printf("# skip: sending to another netlink socket needs CAP_NET_ADMIN\n");
		close(fd);
		return;
	}
	CHECK(r == 0, "forge: %s", strerror(-r));
	r = get_link(fd, "lo", 0, &li);
	CHECK(r == 0 && li.index == 1, "a forged error was taken for the kernel's answer: %d (%s)",
	      r, strerror(-r));

	/* a device list of the forger's making */
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
	} link = { .h = { .nlmsg_len = sizeof(link), .nlmsg_type = RTM_NEWLINK,
			  .nlmsg_seq = nl_seq + 1 },
		   .ifi = { .ifi_index = 4242 } };
	CHECK(forge(sa.nl_pid, &link, sizeof(link)) == 0, "forge a link");
	r = get_link(fd, "lo", 0, &li);
	CHECK(r == 0 && li.index == 1, "a forged device was taken for the kernel's: %d, index %d", r,
	      li.index);
	close(fd);
}

int main(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		/* not root: no namespace of its own, and no forging either */
		printf("# skip: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return unit_summary("test-netdev");
	}
	forged_answers();
	return unit_summary("test-netdev");
}
