#!/bin/sh
# Build the Debian packages from the working tree (tracked files), install
# them with apt-get, run the lifecycle and completion tests against the
# installed binaries, and remove the packages again. Prints TAP (its own
# steps, then the bats suites'); exits non-zero on any failure. Run as
# root; contrib/check.sh calls it. HUSK_DEB_OUT=DIR keeps the .debs there.
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/husk-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
export DEBIAN_FRONTEND=noninteractive
status=0 n=0
step() { # step DESCRIPTION COMMAND...: one TAP line
	local what=$1
	shift
	n=$((n + 1))
	if "$@" >"$work/step.log" 2>&1; then
		echo "ok $n deb: $what"
	else
		echo "not ok $n deb: $what"
		sed 's/^/# /' "$work/step.log" | tail -n 60
		status=1
	fi
}
build() {
	for p in debhelper lintian fakeroot dpkg-dev; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			apt-get install -y -q --no-install-recommends debhelper lintian fakeroot dpkg-dev ||
			return 1
	done
	# a clean copy: the tree itself may be configured in place, which a
	# second build in it would trip over
	mkdir "$work/husk" &&
		git -C "$src" ls-files -z | (cd "$src" && tar --null -T - -cf -) | tar -C "$work/husk" -xf - &&
		(cd "$work/husk" && dpkg-buildpackage -us -uc -b -j"$(nproc)")
}
# The project has no mail address of its own yet, so the maintainer's is a
# placeholder lintian rightly calls bogus: that tag alone is suppressed.
lint() {
	lintian --fail-on error,warning --suppress-tags bogus-mail-host,bogus-mail-host-in-debian-changelog \
		"$work"/husk_*.changes
}
install_debs() {
	apt-get install -y -q "$work"/husk_*.deb "$work"/husk-image_*.deb
}
installed_files() {
	local missing=
	for f in /usr/sbin/husk /usr/bin/husk-image /usr/share/man/man8/husk.8.gz \
		/usr/share/man/man8/husk-run.8.gz /usr/share/man/man1/husk-image.1.gz \
		/usr/share/bash-completion/completions/husk \
		/usr/share/bash-completion/completions/husk-image; do
		dpkg -S "$f" >/dev/null 2>&1 || missing="$missing $f"
	done
	[ -z "$missing" ] || { echo "not in the packages:$missing"; return 1; }
	/usr/sbin/husk --version | grep -q '^husk version 0\.1\.0'
}
remove_debs() {
	apt-get remove -y -q --purge husk husk-image &&
		[ ! -e /usr/sbin/husk ] && [ ! -e /usr/bin/husk-image ] &&
		[ ! -e /usr/share/bash-completion/completions/husk ]
}

echo "1..5"
step "dpkg-buildpackage -b builds husk and husk-image" build
[ "$status" = 0 ] || { echo "Bail out! the packages did not build"; exit 1; }
step "lintian is clean (overrides in debian/)" lint
step "apt-get installs both packages" install_debs
step "the packages hold the binaries, man pages and completions" installed_files
HUSK_BIN=/usr/sbin/husk HUSK_IMAGE_BIN=/usr/bin/husk-image \
	HUSK_BATS_FILTER="$src/tests/bats/lifecycle.bats $src/tests/bats/completion.bats" \
	"$src/tests/bats/run.sh" || status=1
step "apt-get remove --purge takes everything away" remove_debs
if [ -n "${HUSK_DEB_OUT:-}" ]; then
	mkdir -p "$HUSK_DEB_OUT" && cp "$work"/*.deb "$HUSK_DEB_OUT"/
fi
exit $status
