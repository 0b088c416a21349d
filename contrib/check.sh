#!/bin/sh
# Build husk and run every test: the C unit tests (under valgrind) and the
# bats suites. Installs what it needs with apt-get. Run as root.
set -e
cd "$(dirname "$0")/.."
contrib/deps.sh test
[ -x configure ] || ./autogen.sh >/dev/null
[ -f Makefile ] || ./configure --enable-werror -q
make -s -j"$(nproc)"
status=0
make -s check -j1 || status=$?
contrib/test-summary.sh
# the tarball must build and pass its unit tests too
if [ -n "${HUSK_DISTCHECK:-1}" ] && [ "${HUSK_DISTCHECK:-1}" != 0 ]; then
	make -s distcheck TESTS=tests/unit/test-oci-spec >/dev/null || { echo "make distcheck failed"; status=1; }
fi
exit $status
