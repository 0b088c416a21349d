/* deny-syscall WHAT ERRNO CMD [ARG...]: run CMD with one kind of system call
 * failing with ERRNO, to show how husk reports a failure the host cannot be
 * made to produce on demand. WHAT:
 *   unshare-user  unshare() with CLONE_NEWUSER in its flags
 *   fork          clone() (what fork() makes; clone3 and vfork still work)
 *   open-tree-path  open_tree() of a path from the working directory
 *                 (AT_FDCWD): husk's read-only view of its own binary, and
 *                 idmapped bind sources; every open_tree of an fd works
 *   prctl-set-mm  prctl(PR_SET_MM, ...): husk re-seating itself on that
 *                 view without an execve
 * A raw seccomp filter (no libseccomp): it stays in force across execve
 * and is inherited by every child. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "deny-syscall: add this architecture's AUDIT_ARCH"
#endif

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: deny-syscall unshare-user|fork|open-tree-path|prctl-set-mm ERRNO CMD [ARG...]\n");
		return 2;
	}
	unsigned nr, mask, equal = 0; /* equal: the first argument is mask */
	if (strcmp(argv[1], "unshare-user") == 0) {
		nr = SYS_unshare;
		mask = CLONE_NEWUSER;
	} else if (strcmp(argv[1], "fork") == 0) {
		nr = SYS_clone;
		mask = 0;
	} else if (strcmp(argv[1], "open-tree-path") == 0) {
		nr = SYS_open_tree;
		mask = (unsigned)AT_FDCWD;
		equal = 1;
	} else if (strcmp(argv[1], "prctl-set-mm") == 0) {
		nr = SYS_prctl;
		mask = PR_SET_MM;
		equal = 1;
	} else {
		fprintf(stderr, "deny-syscall: unknown kind %s\n", argv[1]);
		return 2;
	}
	unsigned e = (unsigned)atoi(argv[2]) & SECCOMP_RET_DATA;
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* the low 32 bits of the first argument: the flags (the dirfd
		 * for open-tree-path, the option for prctl-set-mm) */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | (equal ? BPF_JEQ : BPF_JSET) | BPF_K, mask, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, mask ? SECCOMP_RET_ALLOW : SECCOMP_RET_ERRNO | e),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | e),
	};
	struct sock_fprog fprog = { .len = sizeof(prog) / sizeof(prog[0]), .filter = prog };
	/* root may load a filter without no_new_privs; anyone else needs it */
	if (geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		perror("deny-syscall: no_new_privs");
		return 1;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0) {
		perror("deny-syscall: seccomp");
		return 1;
	}
	execvp(argv[3], argv + 3);
	fprintf(stderr, "deny-syscall: exec %s: %s\n", argv[3], strerror(errno));
	return 127;
}
