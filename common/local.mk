noinst_LIBRARIES += libcommon.a
libcommon_a_SOURCES = \
	common/error.c common/error.h \
	common/log.c common/log.h \
	common/fileutil.c common/fileutil.h \
	common/resolve.c common/resolve.h
