sbin_PROGRAMS += husk
husk_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(LIBCAP_CFLAGS) $(SECCOMP_CFLAGS) $(SELINUX_CFLAGS)
husk_LDFLAGS = -Wl,--as-needed -Wl,-z,relro -Wl,-z,now
husk_LDADD = liboci-spec.a libcommon.a $(YAJL_LIBS) $(LIBCAP_LIBS) $(SECCOMP_LIBS) $(SELINUX_LIBS)
husk_SOURCES = \
	runtime/husk.h \
	runtime/main.c \
	runtime/features.c \
	runtime/spec.c \
	runtime/linux/seccomp.c \
	runtime/linux/seccomp.h
