# The set-up, test and demo scripts: .ci/run calls check.sh, so a tarball
# needs them to be tested the way CI tests a clone.
EXTRA_DIST += contrib/check.sh contrib/demo.sh contrib/deps.sh contrib/test-summary.sh \
	contrib/deb-check.sh debian

# bash completion, where bash-completion's loader looks for it by command name
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = contrib/completion/husk.bash
install-data-hook:
	cd '$(DESTDIR)$(bashcompletiondir)' && mv -f husk.bash husk && \
		cp -f husk husk-image
uninstall-hook:
	rm -f '$(DESTDIR)$(bashcompletiondir)/husk' '$(DESTDIR)$(bashcompletiondir)/husk-image'
