#!/bin/sh
# Install the Debian 12 packages husk needs to build and test.
# Usage: contrib/deps.sh [build|test|demo]   (default: test)
set -e
what=${1:-test}
build="build-essential autoconf automake pkg-config go-md2man
libyajl-dev libcap-dev libseccomp-dev libsystemd-dev
libcurl4-openssl-dev libarchive-dev libssl-dev libzstd-dev"
run="busybox-static jq iproute2 docker-registry skopeo curl python3"
# apparmor: apparmor_parser loads the test profiles of lsm.bats in the v2
# guest, whose Debian kernel runs AppArmor
# clang, libfuzzer-14-dev: make fuzz (tests/fuzz); debhelper, lintian: contrib/deb-check.sh
test="bats valgrind strace uidmap openssl zstd apparmor umoci debhelper lintian fakeroot dpkg-dev clang libfuzzer-14-dev"
# bench/scale.sh (its smoke run in contrib/check.sh): gnuplot, and runc and
# crun to compare with
test="$test gnuplot-nox runc crun"
# criu: checkpoint.bats (its round trips run in the v2 guest, which uses
# the host's /usr/sbin/criu)
test="$test criu"
# tests/engines: podman (through conmon) and containerd (ctr, runc v2 shim)
# driving husk
test="$test podman conmon containerd"
# the systemd cgroup driver's suite boots systemd in the v2 guest with the
# system bus (dbus-daemon)
test="$test systemd dbus"
case $what in
build) pkgs="$build" ;;
demo) pkgs="$build $run" ;;
test) pkgs="$build $run $test" ;;
*) echo "usage: $0 [build|test|demo]" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
