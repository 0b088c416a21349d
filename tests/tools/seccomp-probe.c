/* seccomp-probe: makes one raw syscall inside a container and says what
 * happened, for seccomp.bats. Linked statically so that it runs in the
 * busybox rootfs the tests use.
 *
 *   seccomp-probe call NR [ARG...]    syscall NR with up to six integer
 *                                      arguments; prints "ret=R errno=E"
 *   seccomp-probe thread NR [ARG...]  the same syscall from a second thread;
 *                                      the main thread then prints
 *                                      "main alive" (a KILL_THREAD action ends
 *                                      the caller only, KILL_PROCESS all)
 *   seccomp-probe trap NR [ARG...]    with a SIGSYS handler installed;
 *                                      the handler prints "sigsys syscall=N
 *                                      code=C" (SCMP_ACT_TRAP) and exits 0
 *   seccomp-probe call32 NR [ARG...]  the same through int 0x80: the i386
 *                                      ABI (AUDIT_ARCH_I386), x86_64 only
 *   seccomp-probe sigcall NR [ARG...] with a SIGUSR1 handler (no SA_RESTART)
 *                                      that prints "usr1": a signal
 *                                      interrupts a waiting syscall
 *
 * Arguments are read with strtoull base 0 (decimal, 0x hex, 0 octal). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct call {
	long nr;
	unsigned long long args[6];
};

static void call_parse(struct call *c, int argc, char **argv)
{
	memset(c, 0, sizeof(*c));
	c->nr = strtol(argv[0], NULL, 0);
	for (int i = 1; i < argc && i <= 6; i++)
		c->args[i - 1] = strtoull(argv[i], NULL, 0);
}

static void call_run(const struct call *c)
{
	errno = 0;
	long r = syscall(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4],
			 c->args[5]);
	printf("ret=%ld errno=%d\n", r, r < 0 ? errno : 0);
	fflush(stdout);
}

#ifdef __x86_64__
/* int 0x80 from a 64-bit process: the kernel takes it as an i386 syscall,
 * with 32-bit arguments in ebx, ecx, edx, esi, edi, ebp. */
static void call32_run(const struct call *c)
{
	long r = c->nr;
	__asm__ volatile("push %%rbp\n\tmov %6, %%rbp\n\tint $0x80\n\tpop %%rbp"
			 : "+a"(r)
			 : "b"(c->args[0]), "c"(c->args[1]), "d"(c->args[2]), "S"(c->args[3]),
			   "D"(c->args[4]), "r"(c->args[5])
			 : "memory", "r8", "r9", "r10", "r11");
	int e = (int)r;
	if (e < 0 && e > -4096)
		printf("ret=-1 errno=%d\n", -e);
	else
		printf("ret=%d errno=0\n", e);
	fflush(stdout);
}
#endif

static void *thread_main(void *arg)
{
	call_run(arg);
	return NULL;
}

/* write(2) only: the handler runs in the middle of a syscall */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char buf[96];
	(void)sig;
	(void)uc;
	int n = snprintf(buf, sizeof(buf), "sigsys syscall=%d code=%d\n", si->si_syscall, si->si_code);
	if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
		_exit(2);
	_exit(0);
}

static int handle(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) < 0) {
		perror("seccomp-probe: sigaction");
		return -1;
	}
	return 0;
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	if (write(STDOUT_FILENO, "usr1\n", 5) < 0)
		_exit(2);
}

int main(int argc, char **argv)
{
	struct call c;

	if (argc < 3) {
		fprintf(stderr, "usage: seccomp-probe call|thread|trap NR [ARG...]\n");
		return 2;
	}
	call_parse(&c, argc - 2, argv + 2);
	if (strcmp(argv[1], "call") == 0) {
		call_run(&c);
#ifdef __x86_64__
	} else if (strcmp(argv[1], "call32") == 0) {
		call32_run(&c);
#endif
	} else if (strcmp(argv[1], "thread") == 0) {
		pthread_t t;
		int e = pthread_create(&t, NULL, thread_main, &c);
		if (e != 0) {
			fprintf(stderr, "seccomp-probe: pthread_create: %s\n", strerror(e));
			return 2;
		}
		pthread_join(t, NULL);
		printf("main alive\n");
	} else if (strcmp(argv[1], "trap") == 0) {
		if (handle(SIGSYS, on_sigsys) < 0)
			return 2;
		call_run(&c);
	} else if (strcmp(argv[1], "sigcall") == 0) {
		if (handle(SIGUSR1, on_usr1) < 0)
			return 2;
		call_run(&c);
	} else {
		fprintf(stderr, "seccomp-probe: unknown mode %s\n", argv[1]);
		return 2;
	}
	return 0;
}
