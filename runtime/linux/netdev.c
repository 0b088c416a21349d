#include "runtime/linux/netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"

#define FIELD "linux.netDevices"
/* addresses carried over per device: more is refused, not silently dropped */
#define MAX_ADDRS 256

/* ---- rtnetlink ---- */

struct nlreq {
	struct nlmsghdr h;
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
	};
	char attrs[256]; /* every request below adds at most ~80 bytes */
};

static uint32_t nl_seq;

static void add_attr(struct nlreq *req, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)req + NLMSG_ALIGN(req->h.nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->h.nlmsg_len = NLMSG_ALIGN(req->h.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static void link_req(struct nlreq *req, unsigned short type, int index)
{
	memset(req, 0, sizeof(*req));
	req->h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req->h.nlmsg_type = type;
	req->h.nlmsg_flags = NLM_F_REQUEST;
	req->ifi.ifi_family = AF_UNSPEC;
	req->ifi.ifi_index = index;
}

static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	return fd < 0 ? -errno : fd;
}

/* A netlink socket of the network namespace nsfd: made there, used here. */
static int nl_open_in(int nsfd)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		int e = errno;
		close(self);
		return -e;
	}
	int fd = nl_open();
	if (setns(self, CLONE_NEWNET) < 0) {
		/* husk would go on in the container's namespace: never */
		log_error("cannot return to the runtime's network namespace: %s", strerror(errno));
		_exit(1);
	}
	close(self);
	return fd;
}

static int nl_send(int fd, struct nlreq *req)
{
	req->h.nlmsg_seq = ++nl_seq;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (sendto(fd, req, req->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* Receive the replies to req: each message goes to cb (when not NULL)
 * until the ack (0 or the kernel's -errno), the end of a dump, or the one
 * answer of a get. */
static int nl_recv(int fd, const struct nlreq *req, int (*cb)(const struct nlmsghdr *, void *),
		   void *arg)
{
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	for (;;) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		/* the kernel's answers only: in a namespace the container
		 * joins, its processes with CAP_NET_ADMIN can send here too */
		if (fromlen != sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;
		int len = (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != req->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error;
			}
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			int r = cb ? cb(h, arg) : 0;
			if (r < 0)
				return r;
			if (!(h->nlmsg_flags & NLM_F_MULTI))
				return 0;
		}
	}
}

static int nl_ack(int fd, struct nlreq *req)
{
	req->h.nlmsg_flags |= NLM_F_ACK;
	int r = nl_send(fd, req);
	return r < 0 ? r : nl_recv(fd, req, NULL, NULL);
}

struct link_info {
	int index;
	int master;
	unsigned flags;
	char name[IF_NAMESIZE];
};

static int parse_link(const struct nlmsghdr *h, struct link_info *li)
{
	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return 0;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	memset(li, 0, sizeof(*li));
	li->index = ifi->ifi_index;
	li->flags = ifi->ifi_flags;
	int len = (int)IFLA_PAYLOAD(h);
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_MASTER && RTA_PAYLOAD(a) >= sizeof(int))
			memcpy(&li->master, RTA_DATA(a), sizeof(int));
		if (a->rta_type == IFLA_IFNAME && RTA_PAYLOAD(a) > 0)
			snprintf(li->name, sizeof(li->name), "%.*s", (int)RTA_PAYLOAD(a),
				 (const char *)RTA_DATA(a));
	}
	return 1;
}

static int got_link(const struct nlmsghdr *h, void *arg)
{
	parse_link(h, arg);
	return 0;
}

/* The link named name (index 0 for none) or the one of index. 0, -ENODEV
 * when there is none, or another -errno. */
static int get_link(int fd, const char *name, int index, struct link_info *li)
{
	struct nlreq req;
	link_req(&req, RTM_GETLINK, index);
	if (name)
		add_attr(&req, IFLA_IFNAME, name, strlen(name) + 1);
	memset(li, 0, sizeof(*li));
	int r = nl_send(fd, &req);
	if (r == 0)
		r = nl_recv(fd, &req, got_link, li);
	if (r == 0 && li->index == 0)
		r = -ENODEV;
	return r;
}

struct index_set {
	size_t n, cap;
	int *index;
};

static int add_index(const struct nlmsghdr *h, void *arg)
{
	struct index_set *s = arg;
	struct link_info li;
	if (!parse_link(h, &li))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		int *p = realloc(s->index, cap * sizeof(int));
		if (p == NULL)
			return -ENOMEM;
		s->index = p;
		s->cap = cap;
	}
	s->index[s->n++] = li.index;
	return 0;
}

static int list_links(int fd, struct index_set *s)
{
	struct nlreq req;
	link_req(&req, RTM_GETLINK, 0);
	req.h.nlmsg_flags |= NLM_F_DUMP;
	s->n = 0;
	int r = nl_send(fd, &req);
	return r < 0 ? r : nl_recv(fd, &req, add_index, s);
}

static bool has_index(const struct index_set *s, int index)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->index[i] == index)
			return true;
	return false;
}

/* ---- addresses ---- */

struct addr {
	struct ifaddrmsg ifa;
	uint32_t flags;
	unsigned char local[16], address[16], broadcast[16];
	unsigned char local_len, address_len, broadcast_len;
};

struct addr_list {
	int index;
	size_t n;
	struct addr a[MAX_ADDRS];
	bool overflow;
};

static void copy_attr(const struct rtattr *a, unsigned char *dst, unsigned char *len)
{
	size_t n = RTA_PAYLOAD(a);
	if (n > 16)
		return;
	memcpy(dst, RTA_DATA(a), n);
	*len = (unsigned char)n;
}

/* RFC 3549's permanent addresses of global scope: those the spec carries */
static int add_addr(const struct nlmsghdr *h, void *arg)
{
	struct addr_list *l = arg;
	if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
		return 0;
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	if ((int)ifa->ifa_index != l->index || ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return 0;
	struct addr a = { .ifa = *ifa, .flags = ifa->ifa_flags };
	int len = (int)IFA_PAYLOAD(h);
	for (const struct rtattr *at = IFA_RTA(ifa); RTA_OK(at, len); at = RTA_NEXT(at, len)) {
		if (at->rta_type == IFA_FLAGS && RTA_PAYLOAD(at) >= 4)
			memcpy(&a.flags, RTA_DATA(at), 4);
		else if (at->rta_type == IFA_LOCAL)
			copy_attr(at, a.local, &a.local_len);
		else if (at->rta_type == IFA_ADDRESS)
			copy_attr(at, a.address, &a.address_len);
		else if (at->rta_type == IFA_BROADCAST)
			copy_attr(at, a.broadcast, &a.broadcast_len);
	}
	if (!(a.flags & IFA_F_PERMANENT))
		return 0;
	if (l->n == MAX_ADDRS) {
		l->overflow = true;
		return 0;
	}
	l->a[l->n++] = a;
	return 0;
}

static int list_addrs(int fd, struct addr_list *l)
{
	struct nlreq req;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.h.nlmsg_type = RTM_GETADDR;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.ifa.ifa_family = AF_UNSPEC;
	l->n = 0;
	l->overflow = false;
	int r = nl_send(fd, &req);
	return r < 0 ? r : nl_recv(fd, &req, add_addr, l);
}

static int put_addr(int fd, const struct addr *a, int index)
{
	struct nlreq req;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.h.nlmsg_type = RTM_NEWADDR;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	req.ifa = a->ifa;
	req.ifa.ifa_index = (unsigned)index;
	if (a->local_len)
		add_attr(&req, IFA_LOCAL, a->local, a->local_len);
	if (a->address_len)
		add_attr(&req, IFA_ADDRESS, a->address, a->address_len);
	if (a->broadcast_len)
		add_attr(&req, IFA_BROADCAST, a->broadcast, a->broadcast_len);
	add_attr(&req, IFA_FLAGS, &a->flags, sizeof(a->flags));
	return nl_ack(fd, &req);
}

/* ---- validation ---- */

int netdev_name_ok(const char *name, int template)
{
	size_t n = strlen(name);
	if (n == 0 || n >= IF_NAMESIZE || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	const char *pct = strchr(name, '%');
	if (pct && (!template || pct[1] != 'd' || strchr(pct + 1, '%')))
		return 0;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || *p == ' ' || (*p >= '\t' && *p <= '\r'))
			return 0;
	return 1;
}

static const char *target_name(const struct oci_linux *lx, size_t i)
{
	const char *n = lx->netDevices.values[i].name;
	return n && n[0] ? n : lx->netDevices.keys[i];
}

int netdev_validate(const struct oci_linux *lx, const struct ns_plan *plan, struct husk_error *err)
{
	if (lx == NULL || lx->netDevices.len == 0)
		return 0;
	if (!ns_plan_has(plan, CLONE_NEWNET))
		return err_set(err, EINVAL, FIELD ": moving devices needs a network namespace of the "
					    "container's own (linux.namespaces has no \"network\")");
	int joined = plan->join_fd[ns_kind_by_type("network") - ns_kinds];
	struct stat a, b;
	if (joined >= 0 && fstat(joined, &a) == 0 && stat("/proc/self/ns/net", &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return err_set(err, EINVAL, FIELD ": the network namespace the container joins is the "
					    "runtime's own: its devices would not move");
	for (size_t i = 0; i < lx->netDevices.len; i++) {
		const char *host = lx->netDevices.keys[i], *name = lx->netDevices.values[i].name;
		if (!netdev_name_ok(host, 0))
			return err_set(err, EINVAL, FIELD ": \"%.40s\" is not a network device name", host);
		if (name && name[0] && !netdev_name_ok(name, 1))
			return err_set(err, EINVAL,
				       FIELD "[\"%s\"].name: \"%.40s\" is not a network device name (1 to "
					     "%d bytes, no '/', ':' or space; %%d once at most)",
				       host, name, IF_NAMESIZE - 1);
		for (size_t k = 0; k < i; k++)
			if (strcmp(target_name(lx, k), target_name(lx, i)) == 0 &&
			    !strstr(target_name(lx, i), "%d"))
				return err_set(err, EINVAL,
					       FIELD ": \"%s\" and \"%s\" would both be named \"%s\" in the "
						     "container",
					       lx->netDevices.keys[k], host, target_name(lx, i));
	}
	int fd = nl_open();
	if (fd < 0)
		return err_sys(err, -fd, FIELD ": open a netlink socket");
	int r = 0;
	for (size_t i = 0; i < lx->netDevices.len && r == 0; i++) {
		const char *host = lx->netDevices.keys[i];
		struct link_info li, master;
		int g = get_link(fd, host, 0, &li);
		if (g == -ENODEV)
			r = err_set(err, ENODEV,
				    FIELD ": device \"%s\" does not exist in the runtime's network namespace",
				    host);
		else if (g < 0)
			r = err_sys(err, -g, FIELD ": look up device \"%s\"", host);
		else if (li.flags & IFF_LOOPBACK)
			r = err_set(err, EINVAL, FIELD ": device \"%s\" is a loopback device, which "
						 "never leaves its namespace", host);
		else if (li.master)
			r = err_set(err, EBUSY, FIELD ": device \"%s\" is in use: it is a port of \"%s\"",
				    host, get_link(fd, NULL, li.master, &master) == 0 ? master.name : "?");
	}
	close(fd);
	return r;
}

/* ---- the move ---- */

void netdev_moves_free(struct netdev_moves *moves)
{
	for (size_t i = 0; moves->dev && i < moves->n; i++)
		free(moves->dev[i].addrs);
	free(moves->dev);
	moves->dev = NULL;
	moves->n = 0;
}

static int open_netns(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int move_one(const struct oci_linux *lx, size_t i, int host_fd, int ctr_fd, int nsfd,
		    struct netdev_moves *moves, struct husk_error *err)
{
	const char *host = lx->netDevices.keys[i], *name = target_name(lx, i);
	struct link_info li, there;
	struct index_set before = { 0 }, after = { 0 };
	struct netdev_moved *m = NULL;
	struct addr_list *addrs = NULL;
	struct nlreq req;
	int r, index = 0;

	r = get_link(host_fd, host, 0, &li);
	if (r < 0) {
		r = r == -ENODEV ? err_set(err, ENODEV,
					   FIELD ": device \"%s\" does not exist in the runtime's "
						 "network namespace",
					   host)
				 : err_sys(err, -r, FIELD ": look up device \"%s\"", host);
		goto out;
	}
	if (!strstr(name, "%d") && get_link(ctr_fd, name, 0, &there) == 0) {
		r = err_set(err, EEXIST,
			    FIELD "[\"%s\"]: a device named \"%s\" already exists in the container's "
				  "network namespace",
			    host, name);
		goto out;
	}
	addrs = calloc(1, sizeof(*addrs));
	if (addrs == NULL) {
		r = err_sys(err, ENOMEM, FIELD);
		goto out;
	}
	addrs->index = li.index;
	if ((r = list_addrs(host_fd, addrs)) < 0) {
		r = err_sys(err, -r, FIELD ": list the addresses of \"%s\"", host);
		goto out;
	}
	if (addrs->overflow) {
		r = err_set(err, E2BIG, FIELD ": device \"%s\" has more than %d addresses to carry",
			    host, MAX_ADDRS);
		goto out;
	}
	if (strstr(name, "%d") && (r = list_links(ctr_fd, &before)) < 0) {
		r = err_sys(err, -r, FIELD ": list the container's network devices");
		goto out;
	}
	/* one message: into the namespace, under the new name */
	link_req(&req, RTM_NEWLINK, li.index);
	add_attr(&req, IFLA_NET_NS_FD, &nsfd, sizeof(nsfd));
	add_attr(&req, IFLA_IFNAME, name, strlen(name) + 1);
	if ((r = nl_ack(host_fd, &req)) < 0) {
		r = err_sys(err, -r, FIELD ": move device \"%s\" into the container as \"%s\"", host,
			    name);
		goto out;
	}
	/* its index there: by the name it now has there (unique in the
	 * namespace, where a joined one may gain other links meanwhile); for
	 * a "%d" pattern, the kernel chose the name: the one link the
	 * namespace did not have before */
	if (!strstr(name, "%d")) {
		r = get_link(ctr_fd, name, 0, &there);
		index = r == 0 ? there.index : 0;
	} else {
		r = list_links(ctr_fd, &after);
		for (size_t k = 0; r == 0 && k < after.n; k++)
			if (!has_index(&before, after.index[k]))
				index = after.index[k];
	}
	if (index == 0) {
		r = err_set(err, ENODEV, FIELD ": device \"%s\" moved but is not found in the container",
			    host);
		goto out;
	}
	m = &moves->dev[moves->n++];
	snprintf(m->host_name, sizeof(m->host_name), "%s", host);
	m->index = index;
	m->was_up = li.flags & IFF_UP;
	m->addrs = addrs;
	/* up, as the spec asks, with the addresses it had */
	link_req(&req, RTM_NEWLINK, index);
	req.ifi.ifi_flags = IFF_UP;
	req.ifi.ifi_change = IFF_UP;
	if ((r = nl_ack(ctr_fd, &req)) < 0) {
		r = err_sys(err, -r, FIELD "[\"%s\"]: set \"%s\" up in the container", host, name);
		goto out;
	}
	for (size_t k = 0; k < addrs->n; k++)
		if ((r = put_addr(ctr_fd, &addrs->a[k], index)) < 0 && r != -EEXIST) {
			r = err_sys(err, -r, FIELD "[\"%s\"]: add its address %zu back in the container",
				    host, k);
			goto out;
		}
	r = 0;
	log_debug("moved network device %s into the container as index %d (%s)", host, index, name);
out:
	free(before.index);
	free(after.index);
	if (m == NULL)
		free(addrs);
	return r;
}

int netdev_move_all(const struct oci_linux *lx, pid_t pid, struct netdev_moves *moves,
		    struct husk_error *err)
{
	int host_fd = -1, ctr_fd = -1, nsfd, r;

	moves->n = 0;
	moves->joined = config_joins_namespace(lx, "network");
	moves->dev = calloc(lx->netDevices.len, sizeof(*moves->dev));
	if (moves->dev == NULL)
		return err_sys(err, ENOMEM, FIELD);
	nsfd = open_netns(pid);
	if (nsfd < 0) {
		r = err_sys(err, -nsfd, FIELD ": open the container's network namespace");
		goto out;
	}
	host_fd = nl_open();
	ctr_fd = nl_open_in(nsfd);
	if (host_fd < 0 || ctr_fd < 0) {
		r = err_sys(err, host_fd < 0 ? -host_fd : -ctr_fd, FIELD ": open a netlink socket");
		goto out;
	}
	r = 0;
	for (size_t i = 0; i < lx->netDevices.len && r == 0; i++)
		r = move_one(lx, i, host_fd, ctr_fd, nsfd, moves, err);
out:
	if (host_fd >= 0)
		close(host_fd);
	if (ctr_fd >= 0)
		close(ctr_fd);
	if (nsfd >= 0)
		close(nsfd);
	if (r < 0)
		netdev_move_back(moves, pid);
	return r;
}

void netdev_move_back(struct netdev_moves *moves, pid_t pid)
{
	if (moves->n == 0) {
		netdev_moves_free(moves);
		return;
	}
	if (moves->joined) {
		/* a process of that namespace with CAP_NET_ADMIN may have renamed
		 * ours and made a link of its own under its name or index: it
		 * must not come into the host's namespace in its place */
		for (size_t i = 0; i < moves->n; i++)
			log_warn("network device %s: left in the joined network namespace the "
				 "container failed to start in",
				 moves->dev[i].host_name);
		netdev_moves_free(moves);
		return;
	}
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int nsfd = open_netns(pid);
	int ctr_fd = nsfd >= 0 ? nl_open_in(nsfd) : -1;
	int host_fd = nl_open();
	for (size_t i = 0; self >= 0 && ctr_fd >= 0 && host_fd >= 0 && i < moves->n; i++) {
		struct netdev_moved *m = &moves->dev[i];
		struct link_info li;
		struct nlreq req;
		link_req(&req, RTM_NEWLINK, moves->dev[i].index);
		/* down first: it was moved down, and comes back so */
		req.ifi.ifi_change = IFF_UP;
		nl_ack(ctr_fd, &req);
		link_req(&req, RTM_NEWLINK, moves->dev[i].index);
		add_attr(&req, IFLA_NET_NS_FD, &self, sizeof(self));
		add_attr(&req, IFLA_IFNAME, moves->dev[i].host_name, strlen(moves->dev[i].host_name) + 1);
		int r = nl_ack(ctr_fd, &req);
		if (r == 0)
			r = get_link(host_fd, m->host_name, 0, &li);
		/* the move flushed its addresses: they come back with it */
		for (size_t k = 0; r == 0 && k < m->addrs->n; k++)
			if ((r = put_addr(host_fd, &m->addrs->a[k], li.index)) == -EEXIST)
				r = 0;
		if (r == 0 && m->was_up) {
			link_req(&req, RTM_NEWLINK, li.index);
			req.ifi.ifi_flags = req.ifi.ifi_change = IFF_UP;
			r = nl_ack(host_fd, &req);
		}
		if (r < 0)
			log_error("network device %s: could not move it back from the container: %s",
				  m->host_name, strerror(-r));
	}
	if (host_fd >= 0)
		close(host_fd);
	if (ctr_fd >= 0)
		close(ctr_fd);
	if (nsfd >= 0)
		close(nsfd);
	if (self >= 0)
		close(self);
	netdev_moves_free(moves);
}
