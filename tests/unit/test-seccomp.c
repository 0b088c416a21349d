/* runtime/linux/seccomp: every action, operator and flag, the ENOSYS stub,
 * the program cache and SCMP_ACT_NOTIFY, each asserted on a real filter.
 *
 * This binary runs under valgrind (tests/unit/memcheck.sh), and valgrind
 * cannot host a filtered process: 3.19 does not know seccomp(2), and a
 * filter would also judge valgrind's own syscalls. So every filter is
 * loaded by a child that re-executes this binary ("child" mode below):
 * valgrind does not follow exec (no --trace-children), the child runs
 * natively, prepares the profile itself (from the cache the parent filled,
 * or compiling) and installs it; the parent, under valgrind, checks the
 * outcome (exit code = the errno seen, or the signal) and covers
 * seccomp_prepare/seccomp_free for leaks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "common/log.h"
#include "common/sha256.h"
#include "oci-spec/json.h"
#include "oci-spec/runtime-spec.h"
#include "runtime/linux/seccomp.h"
#include "tests/unit/unit.h"

#define CHILD_SETUP_FAILED 200
#define THREAD_KILLED 100

static char self_exe[PATH_MAX];
static char tmpdir[64];
static const char *container_state =
	"{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":1,\"bundle\":\"/b\"}";

/* profile: the JSON of linux.seccomp. */
static int load_profile(const char *profile, struct oci_config **cfg, struct husk_error *err)
{
	static const char fmt[] = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
				  "\"linux\":{\"seccomp\":%s}}";
	size_t size = strlen(profile) + sizeof(fmt);
	_cleanup_free_ char *json = malloc(size);

	if (json == NULL)
		return -ENOMEM;
	snprintf(json, size, fmt, profile);
	return oci_decode(&oci_config_type, json, strlen(json), "config.json", (void **)cfg, err);
}

/* ---- child mode: test-seccomp child PROFILE CACHE|- SCENARIO ARGS ---- */

static long thread_nr;
static int thread_result = THREAD_KILLED;

static void *thread_main(void *arg)
{
	long r = syscall(thread_nr, 0, 0, 0);
	thread_result = r < 0 ? errno : 0;
	return NULL;
}

static void on_signal(int sig)
{
}

static int go_pipe[2] = { -1, -1 };

/* Leave a filtered child with exit_group itself. Under ASan
 * (--enable-sanitizers) a call to a noreturn function such as _exit first
 * runs __asan_handle_no_return, whose sigaltstack the profile may refuse,
 * and the child then dies with ASan's exit code instead of the errno it
 * reports; a plain function making the syscall does not. */
static int child_exit(int code)
{
	syscall(SYS_exit_group, code);
	return code;
}

/* For "thread-before": a thread that exists before the install and makes
 * its syscall after it. */
static void *waiting_thread_main(void *arg)
{
	char c;
	if (read(go_pipe[0], &c, 1) != 1)
		return NULL;
	return thread_main(arg);
}

static int child_main(int argc, char **argv)
{
	struct husk_error err = { 0 };
	struct oci_config *cfg = NULL;
	struct husk_seccomp *s = NULL;
	const char *scenario = argv[4];
	int notify_fd;

	if (strcmp(scenario, "trace") == 0) {
		/* Stop for the parent to attach its seccomp tracing options. */
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0 || raise(SIGSTOP) != 0)
			_exit(CHILD_SETUP_FAILED);
	}
	if (strcmp(scenario, "notify") == 0) {
		struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART */
		sigaction(SIGUSR1, &sa, NULL);
	}
	pthread_t waiting;
	if (strcmp(scenario, "thread-before") == 0) {
		thread_nr = strtol(argv[5], NULL, 0);
		if (pipe2(go_pipe, O_CLOEXEC) < 0 ||
		    pthread_create(&waiting, NULL, waiting_thread_main, NULL) != 0)
			_exit(CHILD_SETUP_FAILED);
	}
	if (load_profile(argv[2], &cfg, &err) < 0 ||
	    seccomp_prepare(cfg->linux->seccomp, strcmp(argv[3], "-") ? argv[3] : NULL, &s, &err) < 0 ||
	    seccomp_install(s, &notify_fd, &err) < 0) {
		fprintf(stderr, "child: %s\n", err.msg);
		_exit(CHILD_SETUP_FAILED);
	}

	long nr = argc > 5 ? strtol(argv[5], NULL, 0) : 0;
	unsigned long a[3] = { 0 };
	for (int i = 0; i < 3 && 6 + i < argc; i++)
		a[i] = strtoul(argv[6 + i], NULL, 0);

	if (strcmp(scenario, "syscall") == 0 || strcmp(scenario, "trace") == 0) {
		long r = syscall(nr, a[0], a[1], a[2]);
		return child_exit(r < 0 ? errno : 0);
	}
	if (strcmp(scenario, "thread") == 0) {
		pthread_t t;
		thread_nr = nr;
		if (pthread_create(&t, NULL, thread_main, NULL) != 0 || pthread_join(t, NULL) != 0)
			return child_exit(CHILD_SETUP_FAILED);
		return child_exit(thread_result);
	}
	if (strcmp(scenario, "thread-before") == 0) {
		if (write(go_pipe[1], "x", 1) != 1 || pthread_join(waiting, NULL) != 0)
			return child_exit(CHILD_SETUP_FAILED);
		return child_exit(thread_result);
	}
#ifdef __x86_64__
	if (strcmp(scenario, "int80") == 0) {
		long r;
		/* The i386 syscall ABI from a 64-bit process: AUDIT_ARCH_I386. */
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr) : "memory");
		return child_exit(r < 0 ? (int)-r : 0);
	}
#endif
	if (strcmp(scenario, "notify") == 0) {
		/* argv[5]: the agent's socket, argv[6]: the directory to mkdir */
		if (seccomp_notify_send(argv[5], notify_fd, getpid(), cfg->linux->seccomp->listenerMetadata,
					container_state, &err) < 0) {
			fprintf(stderr, "child: %s\n", err.msg);
			return child_exit(CHILD_SETUP_FAILED);
		}
		close(notify_fd);
		return child_exit(mkdir(argv[6], 0700) < 0 ? errno : 0);
	}
	return child_exit(CHILD_SETUP_FAILED);
}

/* ---- parent side ---- */

static pid_t spawn(const char *profile, const char *cache, const char *scenario, ...)
{
	const char *argv[16] = { self_exe, "child", profile, cache ? cache : "-", scenario };
	size_t n = 5;
	va_list ap;

	va_start(ap, scenario);
	for (const char *arg; n < 15 && (arg = va_arg(ap, const char *)) != NULL;)
		argv[n++] = arg;
	va_end(ap);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		execv(self_exe, (char **)argv);
		_exit(CHILD_SETUP_FAILED + 2);
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int status = -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static const char *describe(int status)
{
	static char buf[64];
	if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, sizeof(buf), "status %#x", status);
	return buf;
}

#define RUN(profile, cache, scenario, ...)                                                         \
	wait_status(spawn(profile, cache, scenario, __VA_ARGS__, NULL))
#define EXPECT_EXIT(status, code, what)                                                            \
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == (code), "%s: want exit %d, %s", what,    \
	      code, describe(status))
#define EXPECT_SIGNAL(status, sig, what)                                                           \
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == (sig), "%s: want signal %d, %s", what,    \
	      sig, describe(status))

static char nr_getppid[16], nr_getpid[16];

/* A profile that allows everything but applies action to getppid. */
static void rule_on_getppid(char *buf, size_t size, const char *action_and_more)
{
	snprintf(buf, size,
		 "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],%s}]}",
		 action_and_more);
}

static void test_actions(void)
{
	char p[512];
	int st;

	rule_on_getppid(p, sizeof(p), "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":77");
	st = RUN(p, NULL, "syscall", nr_getppid);
	EXPECT_EXIT(st, 77, "SCMP_ACT_ERRNO with errnoRet 77");
	st = RUN(p, NULL, "syscall", nr_getpid);
	EXPECT_EXIT(st, 0, "a syscall without a rule under SCMP_ACT_ALLOW");

	rule_on_getppid(p, sizeof(p), "\"action\":\"SCMP_ACT_ERRNO\"");
	st = RUN(p, NULL, "syscall", nr_getppid);
	EXPECT_EXIT(st, EPERM, "SCMP_ACT_ERRNO without errnoRet");

	static const char *const killers[] = { "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
					       "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP" };
	for (size_t i = 0; i < sizeof(killers) / sizeof(killers[0]); i++) {
		char action[64];
		snprintf(action, sizeof(action), "\"action\":\"%s\"", killers[i]);
		rule_on_getppid(p, sizeof(p), action);
		st = RUN(p, NULL, "syscall", nr_getppid);
		EXPECT_SIGNAL(st, SIGSYS, killers[i]);
	}
	/* KILL_THREAD ends only the thread that made the call... */
	rule_on_getppid(p, sizeof(p), "\"action\":\"SCMP_ACT_KILL_THREAD\"");
	st = RUN(p, NULL, "thread", nr_getppid);
	EXPECT_EXIT(st, THREAD_KILLED, "SCMP_ACT_KILL_THREAD from a second thread");
	/* ...KILL_PROCESS the whole process. */
	rule_on_getppid(p, sizeof(p), "\"action\":\"SCMP_ACT_KILL_PROCESS\"");
	st = RUN(p, NULL, "thread", nr_getppid);
	EXPECT_SIGNAL(st, SIGSYS, "SCMP_ACT_KILL_PROCESS from a second thread");

	snprintf(p, sizeof(p),
		 "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5,\"syscalls\":[{\"names\":"
		 "[\"getppid\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
	st = RUN(p, NULL, "syscall", nr_getppid);
	EXPECT_EXIT(st, 0, "SCMP_ACT_ALLOW under an errno default");
	st = RUN(p, NULL, "syscall", nr_getpid);
	EXPECT_EXIT(st, 5, "defaultErrnoRet 5 for a syscall the profile does not allow");

	rule_on_getppid(p, sizeof(p), "\"action\":\"SCMP_ACT_LOG\"");
	st = RUN(p, NULL, "syscall", nr_getppid);
	EXPECT_EXIT(st, 0, "SCMP_ACT_LOG lets the syscall through");

	/* TRACE without a tracer: the kernel answers ENOSYS. */
	rule_on_getppid(p, sizeof(p), "\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":1234");
	st = RUN(p, NULL, "syscall", nr_getppid);
	EXPECT_EXIT(st, ENOSYS, "SCMP_ACT_TRACE without a tracer");

	/* With one, the tracer sees errnoRet as the event message. */
	pid_t pid = spawn(p, NULL, "trace", nr_getppid, NULL);
	unsigned long msg = 0;
	st = wait_status(pid);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "trace child: %s", describe(st));
	if (WIFSTOPPED(st)) {
		CHECK(ptrace(PTRACE_SETOPTIONS, pid, NULL,
			     (void *)(PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL)) == 0,
		      "PTRACE_SETOPTIONS: %s", strerror(errno));
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		st = wait_status(pid);
		CHECK(WIFSTOPPED(st) && (st >> 8) == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8)),
		      "want a seccomp stop, %s", describe(st));
		if (WIFSTOPPED(st)) {
			ptrace(PTRACE_GETEVENTMSG, pid, NULL, &msg);
			CHECK(msg == 1234, "SCMP_ACT_TRACE event message %lu, want 1234", msg);
			ptrace(PTRACE_CONT, pid, NULL, NULL);
			st = wait_status(pid);
		}
	}
	EXPECT_EXIT(st, 0, "SCMP_ACT_TRACE with a tracer that lets the call run");
}

#define COND(index, op, value)                                                                     \
	"{\"index\":" #index ",\"value\":" #value ",\"op\":\"SCMP_CMP_" #op "\"}"
#define MASKED(index, mask, result)                                                                \
	"{\"index\":" #index ",\"value\":" #mask ",\"valueTwo\":" #result                          \
	",\"op\":\"SCMP_CMP_MASKED_EQ\"}"

struct op_case {
	const char *args; /* JSON array */
	const char *a0, *a1;
	bool match;
};

static void test_operators(void)
{
	static const struct op_case cases[] = {
		{ "[" COND(0, NE, 5) "]", "6", "0", true },
		{ "[" COND(0, NE, 5) "]", "5", "0", false },
		{ "[" COND(0, LT, 5) "]", "4", "0", true },
		{ "[" COND(0, LT, 5) "]", "5", "0", false },
		{ "[" COND(0, LE, 5) "]", "5", "0", true },
		{ "[" COND(0, LE, 5) "]", "6", "0", false },
		{ "[" COND(0, EQ, 5) "]", "5", "0", true },
		{ "[" COND(0, EQ, 5) "]", "4", "0", false },
		{ "[" COND(0, GE, 5) "]", "5", "0", true },
		{ "[" COND(0, GE, 5) "]", "4", "0", false },
		{ "[" COND(0, GT, 5) "]", "6", "0", true },
		{ "[" COND(0, GT, 5) "]", "5", "0", false },
		/* (arg & value) == valueTwo */
		{ "[" MASKED(0, 240, 48) "]", "0x3f", "0", true },
		{ "[" MASKED(0, 240, 48) "]", "0x4f", "0", false },
		/* all 64 bits are compared */
		{ "[" COND(1, EQ, 4294967301) "]", "0", "0x100000005", true },
		{ "[" COND(1, EQ, 4294967301) "]", "0", "5", false },
		/* different arguments in one rule: AND */
		{ "[" COND(0, EQ, 1) "," COND(1, EQ, 2) "]", "1", "2", true },
		{ "[" COND(0, EQ, 1) "," COND(1, EQ, 2) "]", "1", "3", false },
		{ "[" COND(0, EQ, 1) "," COND(1, EQ, 2) "]", "0", "2", false },
		/* the same argument twice: OR (one rule per condition) */
		{ "[" COND(0, EQ, 1) "," COND(0, EQ, 2) "]", "1", "0", true },
		{ "[" COND(0, EQ, 1) "," COND(0, EQ, 2) "]", "2", "0", true },
		{ "[" COND(0, EQ, 1) "," COND(0, EQ, 2) "]", "3", "0", false },
		/* ...and then every condition stands alone, as in the reference runtime */
		{ "[" COND(0, EQ, 1) "," COND(0, EQ, 2) "," COND(1, EQ, 9) "]", "3", "9", true },
		{ "[" COND(0, EQ, 1) "," COND(0, EQ, 2) "," COND(1, EQ, 9) "]", "3", "8", false },
	};
	char p[1024], rule[768];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(rule, sizeof(rule), "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":61,\"args\":%s",
			 cases[i].args);
		rule_on_getppid(p, sizeof(p), rule);
		int st = RUN(p, NULL, "syscall", nr_getppid, cases[i].a0, cases[i].a1);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == (cases[i].match ? 61 : 0),
		      "args %s with (%s, %s): want %s, %s", cases[i].args, cases[i].a0, cases[i].a1,
		      cases[i].match ? "a match (exit 61)" : "no match (exit 0)", describe(st));
	}
}

static void test_flags(void)
{
	static const char without[] =
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
		"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":71}]}";
	static const char tsync[] =
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\"],"
		"\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":71}]}";
	static const char log_spec[] =
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\","
		"\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],\"syscalls\":[{\"names\":[\"getppid\"],"
		"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":71}]}";
	/* WAIT_KILLABLE_RECV without a listener is dropped, not refused */
	static const char killable_alone[] =
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
		"\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":71}]}";
	int st;

	st = RUN(without, NULL, "thread-before", nr_getppid);
	EXPECT_EXIT(st, 0, "an older thread keeps running unfiltered without TSYNC");
	st = RUN(tsync, NULL, "thread-before", nr_getppid);
	EXPECT_EXIT(st, 71, "SECCOMP_FILTER_FLAG_TSYNC filters the older thread too");
	st = RUN(log_spec, NULL, "syscall", nr_getppid);
	EXPECT_EXIT(st, 71, "SECCOMP_FILTER_FLAG_LOG and SPEC_ALLOW");
	st = RUN(killable_alone, NULL, "syscall", nr_getppid);
	EXPECT_EXIT(st, 71, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV without SCMP_ACT_NOTIFY");
}

static void test_arches(void)
{
#ifdef __x86_64__
	static const char with_x86[] =
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
		"\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]}";
	static const char without_x86[] =
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
		"\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]}";
	static const char probe[] = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\"]}";
	int st;

	/* x32 numbers (bit 30) share AUDIT_ARCH_X86_64 and reach the filter
	 * even where the kernel runs no x32 code: x32 getpid is 0x40000027. */
	static const char with_x32[] =
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X32\"],"
		"\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":43}]}";
	static const char x32_enosys[] =
		"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":13,\"architectures\":"
		"[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X32\"],\"syscalls\":[{\"names\":[\"getppid\","
		"\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"}]}";
	st = RUN(with_x32, NULL, "syscall", "0x40000027");
	EXPECT_EXIT(st, 43, "an x32 getpid with SCMP_ARCH_X32 listed");
	st = RUN(without_x86, NULL, "syscall", "0x40000027");
	EXPECT_SIGNAL(st, SIGSYS, "an x32 syscall without SCMP_ARCH_X32 (bad architecture)");
	st = RUN(x32_enosys, NULL, "syscall", "0x40000027");
	EXPECT_EXIT(st, EACCES, "x32: below the profile's highest, the default errno");
	st = RUN(x32_enosys, NULL, "syscall", "0x4000012c");
	EXPECT_EXIT(st, ENOSYS, "x32: above the profile's highest, ENOSYS");
	st = RUN(x32_enosys, NULL, "syscall", "0x40000208");
	EXPECT_EXIT(st, EACCES, "x32's own 512+ range is left to the profile's default");

	/* getpid is 20 for i386, entered through int $0x80 */
	st = RUN(probe, NULL, "int80", "20");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("SKIP arch tests: this kernel runs no i386 syscalls (%s)\n", describe(st));
		return;
	}
	st = RUN(with_x86, NULL, "int80", "20");
	EXPECT_EXIT(st, 42, "an i386 getpid with SCMP_ARCH_X86 listed");
	st = RUN(with_x86, NULL, "syscall", nr_getpid);
	EXPECT_EXIT(st, 42, "an x86_64 getpid with SCMP_ARCH_X86 listed");
	st = RUN(without_x86, NULL, "int80", "20");
	EXPECT_SIGNAL(st, SIGSYS, "an i386 syscall without SCMP_ARCH_X86 (bad architecture)");
#else
	printf("SKIP arch tests: written for x86_64\n");
#endif
}

static void test_enosys(void)
{
	static const char eperm[] =
		"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"getppid\",\"exit_group\"],"
		"\"action\":\"SCMP_ACT_ALLOW\"}]}";
	static const char eacces[] =
		"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":13,\"syscalls\":[{\"names\":"
		"[\"getppid\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"}]}";
	static const char kill[] =
		"{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\",\"syscalls\":[{\"names\":[\"getppid\",\"exit_group\"],"
		"\"action\":\"SCMP_ACT_ALLOW\"}]}";
	char nr_above[16];
	int st;

	/* exit_group is the highest syscall these profiles name. */
	snprintf(nr_above, sizeof(nr_above), "%d", SCMP_SYS(exit_group) + 1);
	st = RUN(eperm, NULL, "syscall", nr_getpid);
	EXPECT_EXIT(st, EPERM, "a syscall older than the profile gets the default errno");
	st = RUN(eperm, NULL, "syscall", nr_above);
	EXPECT_EXIT(st, ENOSYS, "the first syscall above the profile's highest gets ENOSYS");
	st = RUN(eperm, NULL, "syscall", "1000");
	EXPECT_EXIT(st, ENOSYS, "a syscall no one knows gets ENOSYS");
	st = RUN(eperm, NULL, "syscall", nr_getppid);
	EXPECT_EXIT(st, 0, "an allowed syscall still runs");
	st = RUN(eacces, NULL, "syscall", nr_getpid);
	EXPECT_EXIT(st, EACCES, "defaultErrnoRet below the highest");
	st = RUN(eacces, NULL, "syscall", "1000");
	EXPECT_EXIT(st, ENOSYS, "ENOSYS above the highest with defaultErrnoRet");
	st = RUN(kill, NULL, "syscall", "1000");
	EXPECT_SIGNAL(st, SIGSYS, "no ENOSYS stub under a kill default");

	/* The point of it all: a profile from before clone3 existed. glibc's
	 * pthread_create tries clone3, gets ENOSYS, falls back to clone. */
	static const char before_clone3[] =
		"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"mmap\",\"mprotect\","
		"\"munmap\",\"brk\",\"madvise\",\"clone\",\"futex\",\"rt_sigprocmask\",\"rt_sigaction\","
		"\"set_robust_list\",\"rseq\",\"exit\",\"exit_group\",\"getppid\"],"
		"\"action\":\"SCMP_ACT_ALLOW\"}]}";
#ifdef HUSK_SANITIZERS
	/* ASan's thread start-up (sched_getaffinity, sigaltstack, ...) is
	 * refused by such a profile; the native build covers this. */
	printf("skipped under ASan: pthread_create under a profile that predates clone3\n");
	(void)before_clone3;
#else
	st = RUN(before_clone3, NULL, "thread", nr_getppid);
	EXPECT_EXIT(st, 0, "pthread_create under a profile that predates clone3");
#endif
}

static size_t count_entries(const char *dir, char *name, size_t size)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	if (d == NULL)
		return 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		snprintf(name, size, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	return n;
}

/* Prepare profile with cache; returns whether it came from the cache, or -1. */
static int prepare_cached(const char *profile, const char *cache, size_t *len)
{
	struct husk_error err = { 0 };
	struct oci_config *cfg = NULL;
	struct husk_seccomp *s = NULL;
	int r = load_profile(profile, &cfg, &err);

	if (r == 0)
		r = seccomp_prepare(cfg->linux->seccomp, cache, &s, &err);
	CHECK(r == 0, "prepare: %s", err.msg);
	if (r == 0) {
		r = seccomp_from_cache(s);
		if (len)
			*len = seccomp_program_len(s);
	}
	seccomp_free(s);
	oci_free(&oci_config_type, cfg);
	return r;
}

static void test_cache(void)
{
	char cache[128], file[512], p77[512], p78[512];
	size_t len1 = 0, len2 = 0;
	int st;

	snprintf(cache, sizeof(cache), "%s/cache/seccomp", tmpdir);
	rule_on_getppid(p77, sizeof(p77), "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":77");
	rule_on_getppid(p78, sizeof(p78), "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":78");

	CHECK(prepare_cached(p77, cache, &len1) == 0, "the first prepare compiles");
	CHECK(count_entries(cache, file, sizeof(file)) == 1, "one program in %s", cache);
	struct stat st_file, st_dir;
	CHECK(stat(file, &st_file) == 0 && (st_file.st_mode & 0777) == 0600, "%s is private", file);
	CHECK(stat(cache, &st_dir) == 0 && (st_dir.st_mode & 0777) == 0700, "%s is private", cache);
	CHECK(prepare_cached(p77, cache, &len2) == 1, "the second prepare hits the cache");
	CHECK(len1 == len2 && len1 > 0, "same program length from the cache (%zu, %zu)", len1, len2);

	/* The child's prepare hits the cache too: the cached program works. */
	st = RUN(p77, cache, "syscall", nr_getppid);
	EXPECT_EXIT(st, 77, "the cached program");
	st = RUN(p77, cache, "syscall", nr_getpid);
	EXPECT_EXIT(st, 0, "the cached program lets other syscalls through");

	/* errnoRet is part of the key: no stale program for another profile. */
	CHECK(prepare_cached(p78, cache, NULL) == 0, "another profile misses");
	CHECK(count_entries(cache, file, sizeof(file)) == 2, "two programs cached");
	st = RUN(p78, cache, "syscall", nr_getppid);
	EXPECT_EXIT(st, 78, "the second profile's program");

	/* A damaged entry is recompiled, and replaced. */
	char name[512];
	DIR *d = opendir(cache);
	for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s/%s", cache, e->d_name);
		int fd = open(name, O_WRONLY | O_CLOEXEC);
		CHECK(fd >= 0 && pwrite(fd, "garbage!", 8, 40) == 8, "damage %s", name);
		if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
	CHECK(prepare_cached(p77, cache, NULL) == 0, "a damaged entry is not used");
	CHECK(prepare_cached(p77, cache, NULL) == 1, "and was rewritten");
	st = RUN(p77, cache, "syscall", nr_getppid);
	EXPECT_EXIT(st, 77, "the rewritten program");

	/* An entry others can write could be planted: never trusted. */
	CHECK(prepare_cached(p78, cache, NULL) == 0, "recompile the damaged p78 entry");
	count_entries(cache, file, sizeof(file));
	DIR *d2 = opendir(cache);
	for (struct dirent *e; d2 && (e = readdir(d2)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s/%s", cache, e->d_name);
		chmod(name, 0666);
	}
	if (d2)
		closedir(d2);
	CHECK(prepare_cached(p77, cache, NULL) == 0, "a world-writable entry is not used");

	/* At most 128 programs are kept; the oldest written go first. */
	char evict[160], fake[256];
	snprintf(evict, sizeof(evict), "%s/cache/evict", tmpdir);
	mkdir(evict, 0700);
	for (int i = 0; i < 130; i++) {
		snprintf(fake, sizeof(fake), "%s/%064x", evict, i);
		int fd = open(fake, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		struct timespec when[2] = { { .tv_sec = 1000 + i }, { .tv_sec = 1000 + i } };
		CHECK(fd >= 0 && futimens(fd, when) == 0, "fake entry %s", fake);
		if (fd >= 0)
			close(fd);
	}
	CHECK(prepare_cached(p77, evict, NULL) == 0, "a miss in a full cache");
	CHECK(count_entries(evict, file, sizeof(file)) == 128, "128 entries left in %s", evict);
	snprintf(fake, sizeof(fake), "%s/%064x", evict, 2);
	CHECK(access(fake, F_OK) < 0, "the oldest entries were evicted");
	snprintf(fake, sizeof(fake), "%s/%064x", evict, 3);
	CHECK(access(fake, F_OK) == 0, "the newer entries stay");
	CHECK(prepare_cached(p77, evict, NULL) == 1, "the new program stays");

	/* Without a cache dir, nothing is cached. */
	CHECK(prepare_cached(p77, NULL, NULL) == 0, "no cache dir: compiled");
}

static void test_unknown_syscalls(void)
{
	char p[512];
	rule_on_getppid(p, sizeof(p), "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":55");
	/* put an unknown name before getppid in the same entry */
	char *names = strstr(p, "[\"getppid\"]");
	char q[600];
	snprintf(q, sizeof(q), "%.*s[\"husk_no_such_syscall\",\"getppid\"]%s", (int)(names - p), p,
		 names + strlen("[\"getppid\"]"));
	char log_path[128];
	_cleanup_free_ char *log = NULL;
	struct husk_error err = { 0 };
	size_t len;
	snprintf(log_path, sizeof(log_path), "%s/debug.log", tmpdir);
	CHECK(log_open(log_path, LOG_FORMAT_TEXT, true) == 0, "open %s", log_path);
	CHECK(prepare_cached(q, NULL, NULL) == 0, "a profile naming an unknown syscall prepares");
	log_close();
	log_open(NULL, LOG_FORMAT_TEXT, false);
	CHECK(read_file_at(AT_FDCWD, log_path, 1 << 16, &log, &len, &err) == 0, "%s", err.msg);
	CHECK(log && strstr(log, "level=debug msg=\"linux.seccomp.syscalls[0].names[0]: unknown "
				 "syscall \\\"husk_no_such_syscall\\\" skipped\"") != NULL,
	      "debug log: %s", log ? log : "(none)");
	int st = RUN(q, NULL, "syscall", nr_getppid);
	EXPECT_EXIT(st, 55, "the known names of the entry still apply");
}

static void test_errors(void)
{
	static const struct {
		const char *profile, *message;
	} cases[] = {
		{ "{\"defaultAction\":\"SCMP_ACT_FOO\"}",
		  "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_LOG\"},"
		  "{\"names\":[\"write\"],\"action\":\"SCMP_ACT_LOG\"},{\"names\":[\"open\"],\"action\":\"SCMP_ACT_FOO\"}]}",
		  "linux.seccomp.syscalls[2].action: unknown action \"SCMP_ACT_FOO\"" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_LOG\","
		  "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":1,\"value\":1,\"op\":\"SCMP_CMP_FOO\"}]}]}",
		  "linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_FOO\"" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_FOO\"]}",
		  "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_FOO\"" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_FOO\"]}",
		  "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"errnoRet\":3}]}",
		  "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_ALLOW takes no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)" },
		{ "{\"defaultAction\":\"SCMP_ACT_KILL\",\"defaultErrnoRet\":3}",
		  "linux.seccomp.defaultErrnoRet: SCMP_ACT_KILL takes no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)" },
		{ "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5000}",
		  "linux.seccomp.defaultErrnoRet: 5000 is out of range (errno values go up to 4095)" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_LOG\","
		  "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		  "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (syscalls have arguments 0 to 5)" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_LOG\"}]}",
		  "linux.seccomp.syscalls[0].names: must name at least one syscall" },
		{ "{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/x\"}",
		  "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
		  "linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":\"m\"}",
		  "linux.seccomp.listenerMetadata: set without linux.seccomp.listenerPath" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct husk_error err = { 0 };
		struct oci_config *cfg = NULL;
		struct husk_seccomp *s = NULL;
		int r = load_profile(cases[i].profile, &cfg, &err);
		CHECK(r == 0, "decode %s: %s", cases[i].profile, err.msg);
		if (r < 0)
			continue;
		r = seccomp_prepare(cfg->linux->seccomp, NULL, &s, &err);
		CHECK(r < 0 && s == NULL, "prepare %s must fail", cases[i].profile);
		CHECK_STR(err.msg, cases[i].message);
		oci_free(&oci_config_type, cfg);
	}
}

/* Receive one seccomp state and its fd from a connection to the agent socket. */
static int agent_receive(int listener, char *buf, size_t size, int *fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	size_t used = 0;
	int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);

	*fd = -1;
	if (conn < 0)
		return -errno;
	for (;;) {
		struct iovec iov = { .iov_base = buf + used, .iov_len = size - 1 - used };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		if (*fd < 0) {
			msg.msg_control = control.buf;
			msg.msg_controllen = sizeof(control.buf);
		}
		ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			break;
		struct cmsghdr *cmsg = msg.msg_controllen ? CMSG_FIRSTHDR(&msg) : NULL;
		if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
		used += (size_t)n;
		if (used == size - 1)
			break;
	}
	buf[used] = '\0';
	close(conn);
	return 0;
}

static const struct json_node *member(const struct json_node *obj, const char *key)
{
	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->object.len; i++)
		if (strcmp(obj->object.keys[i], key) == 0)
			return obj->object.values[i];
	return NULL;
}

static const char *member_str(const struct json_node *obj, const char *key)
{
	const struct json_node *v = member(obj, key);
	return v && v->type == JSON_STRING ? v->string.s : NULL;
}

/* killable: with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV; signal: send the
 * child SIGUSR1 once the notification is received. */
static void notify_case(bool killable, bool signal)
{
	char sock_path[128], dir[128], profile[512], payload[4096];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int notify_fd = -1, st;
	const char *what = killable ? "notify (WAIT_KILLABLE_RECV)" : "notify";

	snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", tmpdir);
	snprintf(dir, sizeof(dir), "%s/made-by-child", tmpdir);
	snprintf(profile, sizeof(profile),
		 "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\",\"listenerMetadata\":\"meta-42\","
		 "%s\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
		 sock_path, killable ? "\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]," : "");
	unlink(sock_path);
	rmdir(dir);
	int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(addr.sun_path, sock_path);
	CHECK(listener >= 0 && bind(listener, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
		      listen(listener, 1) == 0,
	      "agent socket: %s", strerror(errno));

	pid_t pid = spawn(profile, NULL, "notify", sock_path, dir, NULL);
	struct pollfd pfd = { .fd = listener, .events = POLLIN };
	if (poll(&pfd, 1, 10000) != 1) {
		CHECK(false, "%s: the child never connected", what);
		kill(pid, SIGKILL);
		wait_status(pid);
		goto out;
	}
	CHECK(agent_receive(listener, payload, sizeof(payload), &notify_fd) == 0 && notify_fd >= 0,
	      "%s: receive the state and the fd", what);

	{
		struct husk_error err = { 0 };
		struct json_node *root = NULL;
		CHECK(json_parse(payload, strlen(payload), "seccomp state", &root, &err) == 0, "%s: %s", what,
		      err.msg);
		CHECK_STR(member_str(root, "ociVersion"), OCI_RUNTIME_SPEC_VERSION);
		const struct json_node *fds = member(root, "fds");
		CHECK(fds && fds->type == JSON_ARRAY && fds->array.len == 1 &&
			      fds->array.items[0]->type == JSON_STRING &&
			      strcmp(fds->array.items[0]->string.s, "seccompFd") == 0,
		      "fds is [\"seccompFd\"] in %s", payload);
		const struct json_node *jpid = member(root, "pid");
		CHECK(jpid && jpid->type == JSON_NUMBER && atol(jpid->number.text) == pid, "pid %d in %s",
		      (int)pid, payload);
		CHECK_STR(member_str(root, "metadata"), "meta-42");
		CHECK_STR(member_str(member(root, "state"), "id"), "c1");
		CHECK_STR(member_str(member(root, "state"), "status"), "creating");
		json_free(root);
	}

	if (notify_fd >= 0) {
		/* Raw ioctls: libseccomp's seccomp_notify_alloc asks seccomp(2)
		 * for the struct sizes, which valgrind cannot pass on. */
		struct seccomp_notif req;
		memset(&req, 0, sizeof(req)); /* the kernel insists */
		pfd = (struct pollfd){ .fd = notify_fd, .events = POLLIN };
		CHECK(poll(&pfd, 1, 10000) == 1, "%s: no notification came", what);
		int r = ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, &req);
		CHECK(r == 0, "%s: receive the notification: %s", what, strerror(errno));
		CHECK(req.pid == (uint32_t)pid, "notification from pid %u, want %d", req.pid, (int)pid);
		CHECK(req.data.nr == SCMP_SYS(mkdir) || req.data.nr == SCMP_SYS(mkdirat),
		      "notification for syscall %d", req.data.nr);
		if (signal) {
			kill(pid, SIGUSR1);
			if (killable) {
				/* Give a wrongly interruptible wait time to abort. */
				usleep(100 * 1000);
			} else {
				for (int i = 0; i < 5000 && ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) == 0; i++)
					usleep(1000);
			}
		}
		struct seccomp_notif_resp resp = { .id = req.id, .error = -EROFS };
		r = ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
		if (!signal || killable)
			CHECK(r == 0, "%s: answer: %s", what, strerror(errno));
	}
	st = wait_status(pid);
	if (signal && !killable) {
		/* The signal aborts the pending notification... */
		EXPECT_EXIT(st, EINTR, "notify interrupted by a signal");
	} else {
		/* ...unless the listener waits killably: our answer arrives. */
		EXPECT_EXIT(st, EROFS, what);
	}
	CHECK(access(dir, F_OK) < 0, "%s: the agent's answer kept %s from being made", what, dir);
out:
	if (notify_fd >= 0)
		close(notify_fd);
	close(listener);
	unlink(sock_path);
}

static void test_notify(void)
{
	notify_case(false, false);
	notify_case(false, true);
	notify_case(true, true);
}

static void test_fixture(void)
{
	const char *srcdir = getenv("HUSK_SRCDIR");
	char path[PATH_MAX], nr_kexec[16], nr_clone3[16];
	_cleanup_free_ char *profile = NULL;
	struct husk_error err = { 0 };
	size_t len;
	int st;

	snprintf(path, sizeof(path), "%s/tests/unit/data/seccomp-docker-like.json", srcdir ? srcdir : ".");
	CHECK(read_file_at(AT_FDCWD, path, 1 << 20, &profile, &len, &err) == 0, "%s", err.msg);
	if (profile == NULL)
		return;
	CHECK(prepare_cached(profile, NULL, NULL) == 0, "the docker-like profile compiles");
	snprintf(nr_kexec, sizeof(nr_kexec), "%d", SCMP_SYS(kexec_load));
	snprintf(nr_clone3, sizeof(nr_clone3), "%d", SCMP_SYS(clone3));
	st = RUN(profile, NULL, "syscall", nr_getppid);
	EXPECT_EXIT(st, 0, "docker-like: getppid allowed");
	st = RUN(profile, NULL, "syscall", nr_kexec);
	EXPECT_EXIT(st, EPERM, "docker-like: kexec_load refused with EPERM");
	st = RUN(profile, NULL, "syscall", nr_clone3);
	EXPECT_EXIT(st, ENOSYS, "docker-like: clone3 refused with its errnoRet 38");
	st = RUN(profile, NULL, "syscall", "1000");
	EXPECT_EXIT(st, ENOSYS, "docker-like: a syscall newer than the profile gets ENOSYS");
	/* personality(0xffffffff) queries: allowed by a condition */
	st = RUN(profile, NULL, "syscall", "135", "0xffffffff");
	EXPECT_EXIT(st, 0, "docker-like: personality query allowed");
	st = RUN(profile, NULL, "syscall", "135", "0x0400000");
	EXPECT_EXIT(st, EPERM, "docker-like: personality(READ_IMPLIES_EXEC) refused");
}

static void test_names(void)
{
	size_t n = 0;
	while (husk_seccomp_actions[n] != NULL)
		n++;
	CHECK(n == 9, "%zu actions", n);
	CHECK_STR(husk_seccomp_operators[6], "SCMP_CMP_MASKED_EQ");
	CHECK(husk_seccomp_operators[7] == NULL, "7 operators");
	CHECK_STR(husk_seccomp_flags[3], "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
	CHECK(seccomp_enabled(), "built with seccomp");

	/* natively: valgrind cannot pass seccomp(2) on. Linux 5.19 has all four. */
	const char *argv[] = { self_exe, "supported-flags", NULL };
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		execv(self_exe, (char **)argv);
		_exit(CHILD_SETUP_FAILED);
	}
	int st = wait_status(pid);
	EXPECT_EXIT(st, 4, "seccomp_supported_flags on this kernel");
}

/* The cache keys' digest, against the FIPS 180-2 examples (one block, two
 * blocks, a million bytes fed unevenly). */
static void test_sha256(void)
{
	static const struct {
		const char *input;
		size_t repeat;
		const char *hex;
	} cases[] = {
		{ "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "aaaaaaa", 1000000 / 7 + 1, NULL },
	};
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	unsigned char digest[SHA256_DIGEST_SIZE];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sha256 h;
		size_t left = 1000000;
		sha256_init(&h);
		if (cases[i].hex != NULL) {
			sha256_update(&h, cases[i].input, strlen(cases[i].input));
		} else {
			for (; left >= 7; left -= 7)
				sha256_update(&h, cases[i].input, 7);
			sha256_update(&h, cases[i].input, left);
		}
		sha256_final(&h, digest);
		sha256_hex(digest, hex);
		const char *want = cases[i].hex ? cases[i].hex
						: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
		CHECK(strcmp(hex, want) == 0, "sha256 case %zu: got %s, want %s", i, hex, want);
	}
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

int main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "child") == 0)
		return child_main(argc, argv);
	if (argc == 2 && strcmp(argv[1], "supported-flags") == 0) {
		const char *flags[8];
		return (int)seccomp_supported_flags(flags, 8);
	}

	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		snprintf(self_exe, sizeof(self_exe), "%s", argv[0]);
	else
		self_exe[n] = '\0';
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/husk-test-seccomp.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(nr_getppid, sizeof(nr_getppid), "%d", SCMP_SYS(getppid));
	snprintf(nr_getpid, sizeof(nr_getpid), "%d", SCMP_SYS(getpid));

	test_names();
	test_sha256();
	test_errors();
	test_actions();
	test_operators();
	test_flags();
	test_arches();
	test_enosys();
	test_cache();
	test_unknown_syscalls();
	test_notify();
	test_fixture();

	if (nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "cannot remove %s: %s\n", tmpdir, strerror(errno));
	return unit_summary("test-seccomp");
}
