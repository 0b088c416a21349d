# Man pages are written in markdown and turned into roff with go-md2man.
# The generated pages are distributed, so a tarball build needs no go-md2man.
dist_man8_MANS += man/husk.8 man/husk-checkpoint.8 man/husk-create.8 man/husk-delete.8 man/husk-events.8 man/husk-exec.8 \
	man/husk-features.8 man/husk-kill.8 man/husk-list.8 man/husk-pause.8 man/husk-ps.8 \
	man/husk-restore.8 man/husk-resume.8 man/husk-run.8 man/husk-spec.8 \
	man/husk-start.8 man/husk-state.8 man/husk-update.8
if BUILD_IMAGE
dist_man1_MANS += man/husk-image.1
endif
EXTRA_DIST += $(dist_man8_MANS:=.md) $(dist_man1_MANS:=.md)

if HAVE_GO_MD2MAN
%.8: %.8.md
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(GO_MD2MAN) -in $< -out $@
%.1: %.1.md
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(GO_MD2MAN) -in $< -out $@
endif
