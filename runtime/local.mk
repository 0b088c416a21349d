sbin_PROGRAMS += husk
husk_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(LIBCAP_CFLAGS) $(SECCOMP_CFLAGS)
husk_CPPFLAGS = $(AM_CPPFLAGS) -DHUSK_PKGLIBEXECDIR='"$(pkglibexecdir)"'
husk_LDFLAGS = $(HUSK_LINK_MODE) -Wl,--as-needed -Wl,-z,relro -Wl,-z,now
husk_LDADD = liboci-spec.a libcommon.a $(HUSK_RUNTIME_LIBS)
husk_SOURCES = \
	runtime/husk.h \
	runtime/main.c \
	runtime/container.c runtime/container.h \
	runtime/lifecycle.c runtime/lifecycle.h \
	runtime/checkpoint.c runtime/checkpoint.h \
	runtime/create.c \
	runtime/delete.c \
	runtime/events.c \
	runtime/exec.c \
	runtime/features.c \
	runtime/foreground.c runtime/foreground.h \
	runtime/kill.c \
	runtime/list.c \
	runtime/pause.c \
	runtime/restore.c \
	runtime/ps.c \
	runtime/run.c \
	runtime/spec.c \
	runtime/start.c \
	runtime/state.c \
	runtime/update.c \
	runtime/linux/cgroup.c runtime/linux/cgroup.h \
	runtime/linux/cgroup-devices.c \
	runtime/linux/cloned-exe.c runtime/linux/cloned-exe.h \
	runtime/linux/copy-tree.c runtime/linux/copy-tree.h \
	runtime/linux/criu.c runtime/linux/criu.h \
	runtime/linux/cgroup-freeze.c \
	runtime/linux/cgroup-resources.c \
	runtime/linux/cgroup-stats.c runtime/linux/cgroup-stats.h \
	runtime/linux/devices.c runtime/linux/devices.h \
	runtime/linux/enter.c runtime/linux/enter.h \
	runtime/linux/hooks.c runtime/linux/hooks.h \
	runtime/linux/init.c \
	runtime/linux/intelrdt.c runtime/linux/intelrdt.h \
	runtime/linux/lsm.c runtime/linux/lsm.h \
	runtime/linux/mempolicy.c runtime/linux/mempolicy.h \
	runtime/linux/mounts.c runtime/linux/mounts.h \
	runtime/linux/namespaces.c runtime/linux/namespaces.h \
	runtime/linux/netdev.c runtime/linux/netdev.h \
	runtime/linux/pidns-proc.c runtime/linux/pidns-proc.h \
	runtime/linux/process.c runtime/linux/process.h \
	runtime/linux/seccomp.c runtime/linux/seccomp.h \
	runtime/linux/spawn.c runtime/linux/spawn.h \
	runtime/linux/systemd.c runtime/linux/systemd.h \
	runtime/linux/terminal.c runtime/linux/terminal.h

# --systemd-cgroup's D-Bus side, dynamically linked against libsystemd and run
# by husk only for that driver (runtime/linux/systemd.h)
if HAVE_LIBSYSTEMD
pkglibexec_PROGRAMS = husk-systemd
husk_systemd_CFLAGS = $(AM_CFLAGS) $(LIBSYSTEMD_CFLAGS)
husk_systemd_LDADD = $(LIBSYSTEMD_LIBS)
husk_systemd_SOURCES = runtime/systemd/husk-systemd.c
endif
