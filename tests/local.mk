# make check: the C unit tests (under valgrind when it is installed) and
# the bats suites.
check_PROGRAMS += tests/unit/test-oci-spec tests/unit/oci-roundtrip
tests_unit_test_oci_spec_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
tests_unit_test_oci_spec_SOURCES = tests/unit/test-oci-spec.c tests/unit/unit.h
tests_unit_test_oci_spec_LDADD = liboci-spec.a libcommon.a $(YAJL_LIBS)

# oci-roundtrip: decode a file and print its pretty encoding, for the bats
# suites (built by make check, never installed).
tests_unit_oci_roundtrip_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
tests_unit_oci_roundtrip_SOURCES = tests/unit/oci-roundtrip.c
tests_unit_oci_roundtrip_LDADD = liboci-spec.a libcommon.a $(YAJL_LIBS)

check_PROGRAMS += tests/unit/test-common
tests_unit_test_common_SOURCES = tests/unit/test-common.c tests/unit/unit.h
tests_unit_test_common_LDADD = libcommon.a

# the recursive remover of common/fileutil.c
check_PROGRAMS += tests/unit/test-remove
tests_unit_test_remove_SOURCES = tests/unit/test-remove.c tests/unit/unit.h
tests_unit_test_remove_LDADD = libcommon.a
TESTS += tests/unit/test-remove

# runtime/linux/intelrdt.c against a resctrl tree of the test's own
check_PROGRAMS += tests/unit/test-intelrdt
tests_unit_test_intelrdt_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
tests_unit_test_intelrdt_SOURCES = tests/unit/test-intelrdt.c tests/unit/unit.h \
	runtime/linux/intelrdt.c runtime/linux/intelrdt.h
tests_unit_test_intelrdt_LDADD = liboci-spec.a libcommon.a $(YAJL_LIBS)
TESTS += tests/unit/test-intelrdt

# runtime/linux/netdev.c's netlink answers, in a network namespace of its own
check_PROGRAMS += tests/unit/test-netdev
tests_unit_test_netdev_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
tests_unit_test_netdev_SOURCES = tests/unit/test-netdev.c tests/unit/unit.h \
	runtime/linux/namespaces.c runtime/linux/namespaces.h
tests_unit_test_netdev_LDADD = liboci-spec.a libcommon.a $(YAJL_LIBS)
TESTS += tests/unit/test-netdev

# the SELinux questions of runtime/linux/lsm.c, against a fake selinuxfs
check_PROGRAMS += tests/unit/test-lsm
tests_unit_test_lsm_SOURCES = tests/unit/test-lsm.c tests/unit/unit.h \
	runtime/linux/lsm.c runtime/linux/lsm.h
tests_unit_test_lsm_LDADD = libcommon.a
TESTS += tests/unit/test-lsm

check_PROGRAMS += tests/unit/test-image-spec
tests_unit_test_image_spec_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
tests_unit_test_image_spec_SOURCES = tests/unit/test-image-spec.c tests/unit/unit.h
tests_unit_test_image_spec_LDADD = liboci-spec.a libcommon.a $(YAJL_LIBS)


# the console-socket receiver terminal.bats drives husk with
check_PROGRAMS += tests/tools/recvtty
tests_tools_recvtty_SOURCES = tests/tools/recvtty.c

# the CVE-2019-5736 attacker security.bats runs inside a busybox rootfs
check_PROGRAMS += tests/tools/exe-attack
tests_tools_exe_attack_SOURCES = tests/tools/exe-attack.c
tests_tools_exe_attack_LDFLAGS = -static

# the attacker of reach.bats: a container process with CAP_SYS_PTRACE
# reaching for the host through other processes' /proc entries
check_PROGRAMS += tests/tools/reach-attack
tests_tools_reach_attack_SOURCES = tests/tools/reach-attack.c
tests_tools_reach_attack_LDFLAGS = -static
# and its device-node racer (runs on the host)
check_PROGRAMS += tests/tools/replace-race
tests_tools_replace_race_SOURCES = tests/tools/replace-race.c

# the mount-target swapper of security.bats (runs on the host)
check_PROGRAMS += tests/tools/swap-race
tests_tools_swap_race_SOURCES = tests/tools/swap-race.c

# seccomp.bats: a notify agent for listenerPath, and a probe that makes raw
# syscalls inside the container (static: the test rootfs is busybox only)
check_PROGRAMS += tests/tools/seccomp-agent tests/tools/seccomp-probe
tests_tools_seccomp_agent_SOURCES = tests/tools/seccomp-agent.c
tests_tools_seccomp_probe_SOURCES = tests/tools/seccomp-probe.c
tests_tools_seccomp_probe_LDFLAGS = -static -pthread

# the session keyring probe process.bats copies into a busybox rootfs
check_PROGRAMS += tests/tools/sessionkey
tests_tools_sessionkey_SOURCES = tests/tools/sessionkey.c
tests_tools_sessionkey_LDFLAGS = -static

# fault injection for the bats suites: one kind of syscall fails with an errno
check_PROGRAMS += tests/tools/deny-syscall
tests_tools_deny_syscall_SOURCES = tests/tools/deny-syscall.c

# runc-compat.bats: a fresh procfs mount from a nested user namespace in a
# --no-pivot container (static: the test rootfs is busybox only)
check_PROGRAMS += tests/tools/userns-proc
tests_tools_userns_proc_SOURCES = tests/tools/userns-proc.c
tests_tools_userns_proc_LDFLAGS = -static

TESTS += tests/unit/test-oci-spec tests/unit/test-common tests/unit/test-image-spec tests/bats/run.sh
# podman and containerd driving husk (tests/engines/engines.bash)
TESTS += tests/engines/run.sh
TEST_EXTENSIONS = .sh
LOG_COMPILER = $(srcdir)/tests/unit/memcheck.sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	HUSK_BUILDDIR='$(abs_top_builddir)'; export HUSK_BUILDDIR; \
	HUSK_SRCDIR='$(abs_top_srcdir)'; export HUSK_SRCDIR;

EXTRA_DIST += tests/unit/memcheck.sh tests/unit/data tests/unit/malformed \
	tests/bats tests/engines

# seccomp: the filters are loaded by children that re-execute the test
# natively (see the top of test-seccomp.c); the parent stays under valgrind.
if HAVE_SECCOMP
check_PROGRAMS += tests/unit/test-seccomp
tests_unit_test_seccomp_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(SECCOMP_CFLAGS) -pthread
tests_unit_test_seccomp_SOURCES = tests/unit/test-seccomp.c tests/unit/unit.h \
	runtime/linux/seccomp.c runtime/linux/seccomp.h
tests_unit_test_seccomp_LDADD = liboci-spec.a libcommon.a $(YAJL_LIBS) $(SECCOMP_LIBS) -lpthread
TESTS += tests/unit/test-seccomp
endif
if !HAVE_SECCOMP
check_PROGRAMS += tests/unit/test-seccomp-disabled
tests_unit_test_seccomp_disabled_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
tests_unit_test_seccomp_disabled_SOURCES = tests/unit/test-seccomp-disabled.c tests/unit/unit.h \
	runtime/linux/seccomp.c runtime/linux/seccomp.h
tests_unit_test_seccomp_disabled_LDADD = liboci-spec.a libcommon.a $(YAJL_LIBS)
TESTS += tests/unit/test-seccomp-disabled
endif
