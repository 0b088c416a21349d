if BUILD_IMAGE
bin_PROGRAMS += husk-image
husk_image_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(CURL_CFLAGS) $(ARCHIVE_CFLAGS) $(CRYPTO_CFLAGS) -pthread
husk_image_LDFLAGS = -Wl,--as-needed -Wl,-z,relro -Wl,-z,now -pthread
husk_image_LDADD = liboci-spec.a libcommon.a $(YAJL_LIBS) $(CURL_LIBS) $(ARCHIVE_LIBS) $(CRYPTO_LIBS)
husk_image_SOURCES = \
	image/image.h \
	image/main.c \
	image/cmd-pull.c image/cmd-unpack.c image/cmd-list.c \
	image/cmd-inspect.c image/cmd-rm.c image/cmd-gc.c image/cmd-copy.c image/cmd-mount.c \
	image/cmd-fsck.c image/cmd-tag.c \
	image/ref.c image/digest.c image/platform.c \
	image/store.c image/store-index.c image/image.c \
	image/auth.c image/auth.h image/registry.c \
	image/unpack.c image/layer-stream.c image/layer-stream.h \
	image/layer-cache.c image/overlay.c image/convert.c
endif
