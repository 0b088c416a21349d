/* CVE-2019-5736 class. husk forks the container init (create, run) and
 * the exec'd process (exec) directly, so from the clone/fork until execve
 * a process running the husk binary sits inside the container: its
 * /proc/PID/exe is the binary. PR_SET_DUMPABLE 0 keeps a container out of
 * that link only when it lacks CAP_SYS_PTRACE over husk's user namespace;
 * a container without a user namespace that holds CAP_SYS_PTRACE (in any
 * set: exec --cap can grant it later, a file capability can raise it from
 * the bounding set) or shares a pid namespace with other workloads can
 * still open /proc/PID/exe and, once husk exits, reopen it for writing and
 * replace the host binary.
 *
 * So the verbs that put a process in a container make sure first that the
 * file behind /proc/self/exe, and behind every mapping of the binary
 * (/proc/PID/map_files), cannot be written through those links. It is
 * always done, whatever the config. Proving that a container cannot reach
 * husk is fragile: a later exec --cap can grant CAP_SYS_PTRACE, a file
 * capability can raise it from the bounding set, other containers can join
 * the pid namespace by path (even of a created, not yet started
 * container), and with fs.suid_dumpable=1 the credential changes before
 * execve make husk dumpable again. Nothing is read from a flag or an
 * environment variable: whether we already run from a safe view is read
 * from /proc/self/exe itself, and nothing can turn the protection off.
 *
 * The ways, as measured by bench/exec-protect.sh (2 vCPUs under a
 * software hypervisor, where any execve costs about 1 ms: an execve is
 * what to avoid). `husk exec` of a missing container, medians of 60 runs
 * on a loaded machine, as multiples of husk on a read-only mount: re-seat
 * 1.03, executing the bind 1.20, overlayfs 1.24, a sealed copy reused for
 * free 1.17, a sealed copy per call 1.32 (the exe-view helper's own execve
 * alone: 1.17).
 *
 * - Already read-only: the binary is on a read-only mount (husk(8)'s
 *   INSTALLATION), or this process is one of the views below. The file
 *   cannot be opened for writing through any path without a remount in
 *   the mount namespace that holds that mount, which a container (in its
 *   own mount namespace) cannot do. No step at all: kept, checked first.
 *
 * - A detached read-only bind of the binary: open_tree(OPEN_TREE_CLONE) of
 *   /proc/self/exe binds the very inode we run, whatever happened to its
 *   path; mount_setattr makes that clone read-only while only we hold it.
 *   The clone is in no mount tree, and when its fd is closed it leaves its
 *   anonymous namespace and belongs to none: mount_setattr, a remount,
 *   open_tree and move_mount of it fail with EINVAL even for root in our
 *   own namespace (tried), so nothing can make it writable again. Through
 *   it, /proc/PID/exe, /proc/PID/map_files and any fd reopened from them
 *   give EROFS for a write open, chmod, chown, setxattr and the inode
 *   flags; linkat of the file elsewhere fails with EXDEV (another mount).
 *   What stays reachable is the inode, as with the read-only install: a
 *   container holding CAP_DAC_READ_SEARCH in the host user namespace and a
 *   writable mount of the same filesystem could open it by handle
 *   (open_by_handle_at), but such a container can open every file of that
 *   filesystem the same way without husk's help ("shocker"), so no
 *   protection of husk's binary can hold against it. Needs Linux 5.12 and
 *   CAP_SYS_ADMIN over our mount namespace (root has it; a rootless husk
 *   gets the copy below). Its cost is the unmount when the clone's fd is
 *   closed: it takes the mount lock and waits for an RCU grace period
 *   (measured: a median of 50-110 us, but 1-3 ms on an overloaded virtual
 *   machine), which a short-lived helper waits out for us (see
 *   close_tree_in_background), so husk goes on at once.
 *   How the process comes to run from the view:
 *
 *   - re-seated (kept, the default): no execve. Each mapping of the binary
 *     is mapped again from the view at the same address (mmap elsewhere,
 *     then mremap over the old one, which swaps it in one step; the same
 *     inode, so the same page cache and the same code; the writable
 *     segment's pages, which relocation and the program wrote, copied
 *     over first), and then PR_SET_MM_MAP with exe_fd makes the view our
 *     /proc/self/exe, which the kernel allows once no mapping of the old
 *     path is left (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE, and
 *     CONFIG_CHECKPOINT_RESTORE). Afterwards the process is what the
 *     execve below would have made, for a few system calls and a copy of
 *     the writable segment (tens of kB). Signals are blocked while it is
 *     done (a handler writing a page between its copy and the swap would
 *     be lost), and it is done before any thread or child exists. Not in
 *     an ASan build (the copy reads its redzones).
 *   - executed (kept, the fallback where the re-seat fails): execveat of
 *     the view, one more execve.
 *
 * - A detached overlayfs of the binary's directory with no upper layer
 *   (runc 1.2's way): as safe (the superblock itself is read-only), and
 *   the file a container reaches is an overlay inode. It needs a second,
 *   empty lower directory that must exist somewhere, makes and tears down
 *   a superblock per call, and needs the execve: measured no faster than
 *   executing the bind. Not kept.
 *
 * - A copy in a memfd, sealed against every change (F_SEAL_WRITE|SHRINK|
 *   GROW, and F_SEAL_SEAL so no one can undo it), made per call (husk's
 *   way until the bind): what the container reaches is that copy, which
 *   no one can write. Costs the copy (of the loaded part of the binary)
 *   on top of the execve, and one copy in memory per husk process that
 *   stays (run, exec in the foreground). Kept as the fallback where no
 *   read-only view can be made.
 *
 * - A sealed copy made once and reused across calls: the seals hold for
 *   everyone, so a container reaching it could not write it either; the
 *   trouble is where it lives. A memfd cannot be linked into a filesystem,
 *   so something must hold it between husk commands (a daemon, which husk
 *   does not have), and the next husk must trust what it is handed: a
 *   stale copy after an upgrade, or one planted in a pid that was reused,
 *   would run as root on the host; telling a true copy from a false one
 *   means reading the whole binary again, the cost it was meant to save.
 *   And it saves the copy only, never the execve: measured with the copy
 *   handed over for free, no faster than executing the bind. Not kept.
 *
 * - Skipping the step when the binary is immutable (chattr +i): a
 *   container holding CAP_LINUX_IMMUTABLE and CAP_SYS_PTRACE clears the
 *   flag through the fd it got from /proc/PID/exe (FS_IOC_SETFLAGS needs
 *   no write open), then writes. Not safe.
 *
 * - Skipping it when no container can see a husk process: not provable,
 *   as said above. Not safe. */
#include "runtime/linux/cloned-exe.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/memfd.h>
#include <linux/prctl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define SEALS_WANTED (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* The binary this process runs is a memfd carrying all our seals. */
static int exe_is_sealed(int exefd)
{
	int seals = fcntl(exefd, F_GET_SEALS);
	/* EINVAL: not a memfd (or a memfd created without sealing) */
	return seals >= 0 && (seals & SEALS_WANTED) == SEALS_WANTED;
}

/* How much of the binary execve needs: up to the end of its last loaded
 * segment, read from our own program headers. What follows (symbols,
 * debug sections, the section table) is never mapped; leaving it out of
 * the copy makes it several times smaller for a binary with debug info.
 * 0 (copy everything) when the headers are not there. */
static off_t loaded_extent(void)
{
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	size_t n = getauxval(AT_PHNUM);
	off_t end = 0;
	for (size_t i = 0; ph && i < n; i++)
		if (ph[i].p_type == PT_LOAD && (off_t)(ph[i].p_offset + ph[i].p_filesz) > end)
			end = (off_t)(ph[i].p_offset + ph[i].p_filesz);
	return end;
}

static int sealed_copy_once(int exefd, struct husk_error *err)
{
	unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	/* kernels with vm.memfd_noexec (6.3+) want the intent said; older
	 * kernels reject the unknown flag and are executable anyway */
	int memfd = memfd_create("husk", flags | MFD_EXEC);
	if (memfd < 0 && errno == EINVAL)
		memfd = memfd_create("husk", flags);
	if (memfd < 0 && errno == EACCES)
		return err_set(err, EACCES,
			       "protect the husk binary: this host refuses executable memfds "
			       "(sysctl vm.memfd_noexec is 2), and husk will not enter a container "
			       "from its binary on disk");
	if (memfd < 0)
		return err_sys(err, errno, "protect the husk binary: memfd_create");
	off_t extent = loaded_extent(), copied = 0;
	for (;;) {
		size_t want = extent > 0 ? (size_t)(extent - copied) : 1 << 30;
		ssize_t n = want ? sendfile(memfd, exefd, NULL, want) : 0;
		if (n > 0)
			copied += n;
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR) {
			int e = errno;
			close(memfd);
			return err_sys(err, e, "protect the husk binary: copy /proc/self/exe");
		}
	}
	if (copied < extent) {
		close(memfd);
		return err_set(err, EIO, "protect the husk binary: /proc/self/exe ends at %lld bytes, "
					 "before its last loaded segment (%lld)",
			       (long long)copied, (long long)extent);
	}
	if (fcntl(memfd, F_ADD_SEALS, SEALS_WANTED) < 0) {
		int e = errno;
		close(memfd);
		return err_sys(err, e, "protect the husk binary: seal the copy");
	}
	return memfd;
}

/* F_SEAL_WRITE fails with EBUSY while a page of the copy still has an
 * extra reference, which a page waiting in another CPU's LRU batch can hold
 * for a while (seen about once in a few hundred execs on 2 CPUs): make the
 * copy again then, a few times, rather than fail the command. */
static int sealed_copy(int exefd, struct husk_error *err)
{
	int fd = -EBUSY;
	for (int attempt = 0; attempt < 5 && fd == -EBUSY; attempt++) {
		fd = sealed_copy_once(exefd, err);
		if (fd == -EBUSY)
			usleep(1000);
	}
	return fd;
}

/* A read-only view of the binary this process runs: a clone of the mount
 * /proc/self/exe is on, rooted at the file itself (open_tree of the magic
 * link binds the very inode we run, whatever its path says), made
 * read-only while it is still ours alone. Detached: it sits in no mount
 * tree, and once the fd is closed (O_CLOEXEC: by the execve) it belongs to
 * no mount namespace at all. A negative errno when the kernel cannot
 * (before 5.12, or without CAP_SYS_ADMIN over our mount namespace). */
static int readonly_view(void)
{
	int tree = open_tree(AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return -errno;
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0) {
		int e = errno;
		close(tree);
		return -e;
	}
	return tree;
}

/* Closing the last fd of the view's tree unmounts the detached clone, and
 * an unmount waits for an RCU grace period (synchronize_rcu_expedited):
 * tens of microseconds on a quiet host, but measured at 3 ms a call (the
 * largest single wait of `husk run`) on a loaded 2-vCPU virtual machine,
 * in the path of every create, run and exec. So the wait goes to a helper:
 * a process sharing our memory (CLONE_VM: no copy of the address space)
 * with a copy of our fd table, which takes its own reference to the tree,
 * so that our close returns at once and the helper's, the last, waits out
 * the grace period while we go on. It closes every fd at its first step,
 * which takes the tree out of its anonymous namespace then and there, as
 * our own close did (the grace period only delays freeing the mount), so
 * nothing stays open any longer than before; until then it holds what this
 * process holds, in the host's namespaces with our credentials, and it
 * never runs husk code beyond one system call. cloned_exe_reap() collects
 * it. It is an ordinary child (SIGCHLD at exit), so that if husk dies
 * first, the subreaper or init that inherits it reaps it as any other
 * (waitpid without __WALL never sees a child that exits with no signal:
 * under conmon it would stay a zombie). Where the clone fails, we wait
 * ourselves. */
static pid_t unmount_helper = -1;
static int tree_closed_here;
static char unmount_helper_stack[16384] __attribute__((aligned(16)));

static int unmount_helper_main(void *arg)
{
	(void)arg;
	/* Only system calls that cannot fail: this process shares our memory,
	 * errno included. Ours is the last close, the one that waits, once
	 * the husk process has closed its own (a moment after the clone; if
	 * it is held up longer, we go ahead and it waits instead, as safe) */
	for (int spins = 0; spins < 1000 && !__atomic_load_n(&tree_closed_here, __ATOMIC_ACQUIRE);
	     spins++)
		syscall(SYS_sched_yield);
	syscall(SYS_close_range, 0U, ~0U, 0U);
	return 0; /* glibc's clone() then calls exit, for this process alone */
}

static void close_tree_in_background(int tree)
{
	pid_t pid = clone(unmount_helper_main, unmount_helper_stack + sizeof(unmount_helper_stack),
			  CLONE_VM | SIGCHLD, NULL);
	if (pid > 0)
		unmount_helper = pid;
	else
		log_debug("protect the husk binary: no helper for the unmount (%s)", strerror(errno));
	close(tree);
	__atomic_store_n(&tree_closed_here, 1, __ATOMIC_RELEASE);
}

bool cloned_exe_is_helper(long long pid)
{
	return unmount_helper > 0 && pid == unmount_helper;
}

void cloned_exe_reap(void)
{
	if (unmount_helper <= 0)
		return;
	while (waitpid(unmount_helper, NULL, 0) < 0 && errno == EINTR)
		;
	unmount_helper = -1;
}

/* The writable PT_LOAD segments of our binary, as address ranges: their
 * pages hold what relocation and the program wrote (copy-on-write), not
 * the file's bytes. */
struct segs {
	size_t n;
	uintptr_t lo[8], hi[8];
};

static int note_writable(struct dl_phdr_info *info, size_t size, void *data)
{
	struct segs *w = data;
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && w->n < 8) {
			w->lo[w->n] = info->dlpi_addr + ph->p_vaddr;
			w->hi[w->n++] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		}
	}
	return 1; /* the first object is the program itself */
}

/* The part of a file read whole into buf (NUL-terminated), or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = 0;
	ssize_t n;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) != 0) {
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Map one mapping of our binary again from view, at the same address:
 * mapped elsewhere first (with the old contents copied in when its pages
 * may differ from the file's), then moved over the old one by mremap, which
 * replaces it in one step, so the code and data in it never go missing. */
static int remap_from(int view, uintptr_t start, uintptr_t end, off_t offset, int prot, bool copy)
{
	size_t len = end - start;
	/* the copy writes every page: populated, they are made in one go.
	 * The code is not: populating it measured no faster, and would count
	 * the whole binary in husk's RSS */
	void *m = mmap(NULL, len, copy ? PROT_READ | PROT_WRITE : prot,
		       MAP_PRIVATE | (copy ? MAP_POPULATE : 0), view, offset);
	if (m == MAP_FAILED)
		return -errno;
	if (copy)
		memcpy(m, (void *)start, len);
	if (mremap(m, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)start) == MAP_FAILED) {
		int e = errno;
		munmap(m, len);
		return -e;
	}
	if (copy && prot != (PROT_READ | PROT_WRITE) && mprotect((void *)start, len, prot) < 0)
		return -errno;
	return 0;
}

/* Re-seat this process on view without an execve: every mapping of our
 * binary is mapped again from view (the same inode through the read-only
 * mount: the same page cache, so the code is the same bytes), and then
 * the mm's executable (/proc/self/exe) becomes view, which the kernel
 * allows once no mapping of the old path is left (PR_SET_MM_MAP with
 * exe_fd: CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE). The other fields of
 * the map are given back as /proc/self/stat shows them. Any failure
 * leaves a process that works (what was remapped holds what it held) and
 * the caller re-executes instead. */
static int reseat(int view)
{
	if (UNDER_ASAN)
		return -ENOTSUP; /* the copy would read ASan's redzones */
	struct stat st;
	if (fstat(view, &st) < 0)
		return -errno;
	struct segs w = { 0 };
	dl_iterate_phdr(note_writable, &w);
	char maps[16384];
	ssize_t n = read_small("/proc/self/maps", maps, sizeof(maps));
	if (n < 0)
		return (int)n;
	if ((size_t)n == sizeof(maps) - 1)
		return -E2BIG;
	struct {
		uintptr_t start, end;
		off_t offset;
		int prot;
	} vma[16];
	size_t nvma = 0;
	for (char *line = maps, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		unsigned long start, end, off, ino;
		unsigned int maj, min;
		char perms[5];
		if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu", &start, &end, perms, &off, &maj, &min,
			   &ino) != 7 ||
		    ino != st.st_ino || makedev(maj, min) != st.st_dev)
			continue;
		if (nvma == sizeof(vma) / sizeof(vma[0]))
			return -E2BIG;
		vma[nvma].start = start;
		vma[nvma].end = end;
		vma[nvma].offset = (off_t)off;
		vma[nvma++].prot = (perms[0] == 'r' ? PROT_READ : 0) |
				   (perms[1] == 'w' ? PROT_WRITE : 0) | (perms[2] == 'x' ? PROT_EXEC : 0);
	}
	if (nvma == 0)
		return -ENOENT;
	/* no signal handler may write to a page between its copy and the move */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	int r = 0;
	for (size_t i = 0; i < nvma && r == 0; i++) {
		bool copy = false;
		for (size_t k = 0; k < w.n; k++)
			copy |= vma[i].start < w.hi[k] && vma[i].end > (w.lo[k] & ~(uintptr_t)4095);
		r = remap_from(view, vma[i].start, vma[i].end, vma[i].offset, vma[i].prot, copy);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return r;
	/* fields 26-28 and 45-51 of /proc/self/stat, after the command */
	char stat[4096];
	if ((n = read_small("/proc/self/stat", stat, sizeof(stat))) < 0)
		return (int)n;
	char *p = strrchr(stat, ')');
	if (p == NULL || strncmp(p, ") ", 2) != 0 || (p = strchr(p + 2, ' ')) == NULL)
		return -EINVAL;
	unsigned long long f[52] = { 0 };
	for (int field = 4; field < 52; field++) { /* from 4: the state (3) is a letter */
		f[field] = strtoull(p + 1, &p, 10);
		if (*p != ' ' && *p != '\n')
			return -EINVAL;
	}
	struct prctl_mm_map map = {
		.start_code = f[26], .end_code = f[27], .start_stack = f[28],
		.start_data = f[45], .end_data = f[46], .start_brk = f[47],
		.brk = (uint64_t)syscall(SYS_brk, 0),
		.arg_start = f[48], .arg_end = f[49], .env_start = f[50], .env_end = f[51],
		.exe_fd = (uint32_t)view,
	};
	if (prctl(PR_SET_MM, PR_SET_MM_MAP, &map, sizeof(map), 0) < 0)
		return -errno;
	return 0;
}

int cloned_exe_ensure(char **argv, struct husk_error *err)
{
	_cleanup_close_ int exefd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exefd < 0)
		return err_sys(err, errno, "protect the husk binary: open /proc/self/exe");
	/* Installed on a read-only mount (a read-only bind of the binary will
	 * do), the file behind /proc/PID/exe cannot be opened for writing by
	 * anyone without a remount in the host's mount namespace; and so it is
	 * once we run from our own read-only view (the kernel's name for us is
	 * then the fd number, the copy's "memfd:husk"). */
	struct statvfs sv;
	if (exe_is_sealed(exefd) || (fstatvfs(exefd, &sv) == 0 && (sv.f_flag & ST_RDONLY))) {
		/* take the name we were started as back, for ps -C and friends */
		const char *slash = strrchr(argv[0], '/');
		if (prctl(PR_SET_NAME, slash ? slash + 1 : argv[0]) < 0)
			log_debug("cannot set the process name: %s", strerror(errno));
		return 0;
	}
	_cleanup_close_ int tree = readonly_view();
	if (tree >= 0) {
		/* a file opened through the view (the tree fd is O_PATH) */
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", tree);
		_cleanup_close_ int view = open(path, O_RDONLY | O_CLOEXEC);
		int r = view < 0 ? -errno : reseat(view);
		if (r == 0) {
			close_tree_in_background(tree);
			tree = -1;
			return 0;
		}
		log_debug("protect the husk binary: cannot re-seat on the read-only view (%s), "
			  "executing it", strerror(-r));
		syscall(SYS_execveat, tree, "", argv, environ, AT_EMPTY_PATH);
		return err_sys(err, errno, "protect the husk binary: execute its read-only view");
	}
	log_debug("protect the husk binary: no read-only view (%s), making a sealed copy",
		  strerror(-tree));
	_cleanup_close_ int memfd = sealed_copy(exefd, err);
	if (memfd < 0)
		return memfd;
	/* an ELF binary: the kernel has it open before MFD_CLOEXEC closes the fd */
	syscall(SYS_execveat, memfd, "", argv, environ, AT_EMPTY_PATH);
	return err_sys(err, errno, "protect the husk binary: execute the sealed copy");
}
