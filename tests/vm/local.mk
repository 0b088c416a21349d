# make check-vm: the cgroup suites in a QEMU guest whose cgroups are a pure
# v2 hierarchy (tests/vm/README.md). Not part of make check: it boots
# virtual machines and tests/vm/setup fetches qemu and a Debian kernel with
# apt-get. First VM_HARNESS checks the guest itself from the host, then
# VM_SUITES run inside it; either may be set empty.
VM_HARNESS = tests/vm/vm.bats
VM_SUITES = tests/vm/vm-smoke.bats
VM_ENV = HUSK_BUILDDIR='$(abs_top_builddir)' HUSK_SRCDIR='$(abs_top_srcdir)' \
	HUSK_VM_SHARES='$(abs_top_builddir)'

check-vm: all
	cd '$(abs_top_srcdir)' && if test -n '$(VM_HARNESS)'; then \
		$(VM_ENV) bats --tap $(VM_HARNESS); fi
	cd '$(abs_top_srcdir)' && if test -n '$(VM_SUITES)'; then \
		$(VM_ENV) HUSK_BATS_FILTER='$(VM_SUITES)' tests/vm/run $(SHELL) tests/bats/run.sh; fi
.PHONY: check-vm

EXTRA_DIST += tests/vm/README.md tests/vm/run tests/vm/setup tests/vm/initramfs-init \
	tests/vm/guest-init tests/vm/vm.bats tests/vm/vm-smoke.bats
