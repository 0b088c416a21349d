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
 * So the verbs that put a process in a container first re-execute husk
 * from a memfd holding a copy of the binary, sealed against every change
 * (F_SEAL_WRITE|SHRINK|GROW, and F_SEAL_SEAL so no one can undo it). What
 * the container can reach is then that copy: it is not the file on disk,
 * and the seals make every write to it fail.
 *
 * It is always done, whatever the config. Proving that a container cannot
 * reach husk is fragile: a later exec --cap can grant CAP_SYS_PTRACE, a
 * file capability can raise it from the bounding set, other containers
 * can join the pid namespace by path (even of a created, not yet started
 * container), and with fs.suid_dumpable=1 the credential changes before
 * execve make husk dumpable again. The price, from bench/exec-protect.sh:
 * one more execve and a copy of the binary, 1-3 ms per create/run/exec on
 * a busy 2-core machine (about 10% of an exec), and one copy of the binary
 * in memory for each husk process that stays (run, exec in the
 * foreground).
 *
 * "Already running from the copy" is read from the binary itself: the
 * seals on /proc/self/exe. No flag or environment variable is trusted,
 * and nothing can turn the protection off. */
#include "runtime/linux/cloned-exe.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/memfd.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
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

int cloned_exe_ensure(char **argv, struct husk_error *err)
{
	_cleanup_close_ int exefd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exefd < 0)
		return err_sys(err, errno, "protect the husk binary: open /proc/self/exe");
	if (exe_is_sealed(exefd)) {
		/* the kernel named us after the memfd ("memfd:husk"): take the
		 * name we were started as back, for ps -C and friends */
		const char *slash = strrchr(argv[0], '/');
		if (prctl(PR_SET_NAME, slash ? slash + 1 : argv[0]) < 0)
			log_debug("cannot set the process name: %s", strerror(errno));
		return 0;
	}
	/* Installed on a read-only mount (a read-only bind of the binary will
	 * do), the file behind /proc/PID/exe cannot be opened for writing by
	 * anyone without a remount in the host's mount namespace: the copy,
	 * and its second exec, would protect nothing more. */
	struct statvfs sv;
	if (fstatvfs(exefd, &sv) == 0 && (sv.f_flag & ST_RDONLY))
		return 0;
	_cleanup_close_ int memfd = sealed_copy(exefd, err);
	if (memfd < 0)
		return memfd;
	/* an ELF binary: the kernel has it open before MFD_CLOEXEC closes the fd */
	syscall(SYS_execveat, memfd, "", argv, environ, AT_EMPTY_PATH);
	return err_sys(err, errno, "protect the husk binary: execute the sealed copy");
}
