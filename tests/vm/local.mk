# make check-vm: the cgroup suites in a QEMU guest whose cgroups are a pure
# v2 hierarchy (tests/vm/README.md). Not part of make check: it boots
# virtual machines and tests/vm/setup fetches qemu and a Debian kernel with
# apt-get. First VM_HARNESS checks the guest itself from the host, then
# VM_SUITES run inside it; either may be set empty.
VM_HARNESS = tests/vm/vm.bats
# the suites whose behaviour depends on the cgroup version run there too,
# and lsm.bats: the guest's kernel runs AppArmor
VM_SUITES = tests/vm/vm-smoke.bats tests/bats/cgroups.bats tests/bats/devices.bats \
	tests/bats/lifecycle.bats tests/bats/pause.bats tests/bats/events.bats tests/bats/exec.bats \
	tests/bats/cgroup-paths.bats tests/bats/cgroup-own.bats tests/bats/lsm.bats
# (reach.bats is not among them, too slow under emulation; its shared pid
# namespace tests prove the 6.1 kernel's way, without procfs's pidns option,
# in about 13 minutes:
#   REACH_JOINS=8 tests/vm/run bats --tap -f 'never shows the host|new user namespace joining' tests/bats/reach.bats)
# checkpoint.bats: CRIU 3.17 knows the guest's 6.1 kernel (`criu check`
# fails on newer ones, and the round trips skip there). In a guest of its
# own, bounded by VM_CRIU_TIMEOUT seconds, so its round trips (each CRIU
# dump and restore under software emulation, podman's too) do not eat
# VM_SUITES' budget
VM_CRIU_SUITES = tests/bats/checkpoint.bats
VM_CRIU_TIMEOUT = 2400
# and the suites that need systemd as PID 1, in a guest booted with it
# (HUSK_VM_INIT=systemd), bounded by VM_SYSTEMD_TIMEOUT seconds
VM_SYSTEMD_SUITES = tests/bats/systemd-cgroup.bats
VM_SYSTEMD_TIMEOUT = 1800
VM_ENV = HUSK_BUILDDIR='$(abs_top_builddir)' HUSK_SRCDIR='$(abs_top_srcdir)' \
	HUSK_VM_SHARES='$(abs_top_builddir)'

# Each run's output (TAP, and the kernel log when the guest fails) streams
# out and goes to a .log that contrib/test-summary.sh counts.
VM_LOG = { $(VM_ENV) "$$@"; echo $$? >"$$log.rc"; } 2>&1 | tee "$$log"; \
	rc=$$(cat "$$log.rc"); rm -f "$$log.rc"; exit $$rc

check-vm: all
	@mkdir -p '$(abs_top_builddir)/tests/vm' && cd '$(abs_top_builddir)/tests/vm' && rm -f vm-harness.log vm-suites.log vm-criu.log vm-systemd.log
	cd '$(abs_top_srcdir)' && if test -n '$(VM_HARNESS)'; then \
		log='$(abs_top_builddir)/tests/vm/vm-harness.log'; \
		set -- bats --tap $(VM_HARNESS); $(VM_LOG); fi
	cd '$(abs_top_srcdir)' && if test -n '$(VM_SUITES)'; then \
		log='$(abs_top_builddir)/tests/vm/vm-suites.log'; \
		set -- env HUSK_BATS_FILTER='$(VM_SUITES)' tests/vm/run $(SHELL) tests/bats/run.sh; \
		$(VM_LOG); fi
	cd '$(abs_top_srcdir)' && if test -n '$(VM_CRIU_SUITES)'; then \
		log='$(abs_top_builddir)/tests/vm/vm-criu.log'; \
		set -- env HUSK_BATS_FILTER='$(VM_CRIU_SUITES)' \
			HUSK_VM_TIMEOUT='$(VM_CRIU_TIMEOUT)' tests/vm/run $(SHELL) tests/bats/run.sh; \
		$(VM_LOG); fi
	cd '$(abs_top_srcdir)' && if test -n '$(VM_SYSTEMD_SUITES)'; then \
		log='$(abs_top_builddir)/tests/vm/vm-systemd.log'; \
		set -- env HUSK_BATS_FILTER='$(VM_SYSTEMD_SUITES)' HUSK_VM_INIT=systemd \
			HUSK_VM_TIMEOUT='$(VM_SYSTEMD_TIMEOUT)' tests/vm/run $(SHELL) tests/bats/run.sh; \
		$(VM_LOG); fi
.PHONY: check-vm
CLEANFILES += tests/vm/vm-harness.log tests/vm/vm-suites.log tests/vm/vm-criu.log tests/vm/vm-systemd.log

EXTRA_DIST += tests/vm/README.md tests/vm/run tests/vm/setup tests/vm/initramfs-init \
	tests/vm/guest-init tests/vm/vm.bats tests/vm/vm-smoke.bats
