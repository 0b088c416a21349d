#!/bin/sh
# Build husk and run every test: the C unit tests (under valgrind), the bats
# suites, the cgroup v2 suites in a QEMU guest (make check-vm) and the
# tarball's build. Installs what it needs with apt-get. Run as root.
set -e
cd "$(dirname "$0")/.."
contrib/deps.sh test
[ -x configure ] || ./autogen.sh >/dev/null
[ -f Makefile ] || ./configure --enable-werror -q
make -s -j"$(nproc)"
status=0
make -s check -j1 || status=$?
# its TAP goes to tests/vm/*.log, which the summary counts
if [ "${HUSK_CHECK_VM:-1}" != 0 ]; then
	make -s check-vm >/dev/null || { echo "make check-vm failed"; status=1; }
fi
# the Debian packages: built, linted, installed, smoke-tested, removed
if [ "${HUSK_CHECK_DEB:-1}" != 0 ]; then
	contrib/deb-check.sh >tests/deb-check.log 2>&1 || { echo "contrib/deb-check.sh failed"; status=1; }
fi
contrib/test-summary.sh
# the tarball must build and pass its unit tests too
if [ -n "${HUSK_DISTCHECK:-1}" ] && [ "${HUSK_DISTCHECK:-1}" != 0 ]; then
	make -s distcheck TESTS=tests/unit/test-oci-spec >/dev/null || { echo "make distcheck failed"; status=1; }
fi
exit $status
