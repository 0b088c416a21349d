noinst_LIBRARIES += libcommon.a
libcommon_a_SOURCES = \
	common/criu-rpc.c common/criu-rpc.h \
	common/error.c common/error.h \
	common/log.c common/log.h \
	common/fileutil.c common/fileutil.h \
	common/resolve.c common/resolve.h \
	common/sha256.c common/sha256.h \
	common/strbuf.c common/strbuf.h \
	common/escape.c common/escape.h
