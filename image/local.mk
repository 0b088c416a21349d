if BUILD_IMAGE
endif
