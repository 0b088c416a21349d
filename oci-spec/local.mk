noinst_LIBRARIES += liboci-spec.a
liboci_spec_a_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
liboci_spec_a_SOURCES = \
	oci-spec/json.c oci-spec/json.h \
	oci-spec/schema.c oci-spec/schema.h \
	oci-spec/runtime-spec.c oci-spec/runtime-spec.h \
	oci-spec/image-spec.c oci-spec/image-spec.h \
	oci-spec/default-config.c oci-spec/default-config.h
