# Shared helpers for the husk bats suites.
bats_require_minimum_version 1.5.0
# Every test works in its own temp dir; containers live under a private
# --root there, so nothing touches /run/husk or the host's files.

HUSK_BUILDDIR=${HUSK_BUILDDIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
HUSK_BIN=${HUSK_BIN:-$HUSK_BUILDDIR/husk}
HUSK_IMAGE_BIN=${HUSK_IMAGE_BIN:-$HUSK_BUILDDIR/husk-image}

# The test-only decoder (tests/unit/oci-roundtrip.c, built by make check):
# oci_roundtrip [--type config|state|features] FILE prints FILE decoded and
# re-encoded the way husk writes JSON.
OCI_ROUNDTRIP_BIN=${OCI_ROUNDTRIP_BIN:-$HUSK_BUILDDIR/tests/unit/oci-roundtrip}
oci_roundtrip() {
	if [ ! -x "$OCI_ROUNDTRIP_BIN" ]; then
		echo "$OCI_ROUNDTRIP_BIN is missing: make check (or make tests/unit/oci-roundtrip) builds it" >&2
		return 127
	fi
	"$OCI_ROUNDTRIP_BIN" "$@"
}

# husk with the test's private state root
husk() {
	"$HUSK_BIN" --root "$HUSK_ROOT" "$@"
}

# The image and registry fixtures, shared with contrib/demo.sh
# shellcheck source=tests/bats/fixtures.bash
. "$(dirname "${BASH_SOURCE[0]}")/fixtures.bash"

# The busybox rootfs fixture (busybox_rootfs), built once per bats run.
busybox_rootfs_template() {
	local tpl=$BATS_RUN_TMPDIR/busybox-rootfs
	if [ ! -e "$tpl/.done" ]; then
		rm -rf "$tpl.tmp.$BASHPID"
		busybox_rootfs "$tpl.tmp.$BASHPID" || return 1
		touch "$tpl.tmp.$BASHPID/.done"
		mv -T "$tpl.tmp.$BASHPID" "$tpl" 2>/dev/null || rm -rf "$tpl.tmp.$BASHPID"
	fi
	echo "$tpl"
}

# make_bundle DIR: a bundle with a busybox rootfs and husk's default spec,
# changed to run non-interactively.
make_bundle() {
	local dir=$1 tpl
	tpl=$(busybox_rootfs_template)
	mkdir -p "$dir"
	cp -a "$tpl" "$dir/rootfs"
	"$HUSK_BIN" spec --bundle "$dir"
	update_config "$dir" '.process.terminal = false | .process.args = ["/bin/true"]'
}

# update_config DIR JQ-FILTER: edit DIR/config.json in place.
update_config() {
	local dir=$1 filter=$2
	jq "$filter" "$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
}

setup_common() {
	TEST_TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/husk-test.XXXXXX")
	HUSK_ROOT=$TEST_TMP/state
	BUNDLE=$TEST_TMP/bundle
}

# Delete every container a test left behind in its private root, then the
# temp dir. Mounts made by a test live in the containers' mount namespaces,
# so nothing is mounted in the temp dir itself.
teardown_common() {
	if [ -d "$HUSK_ROOT" ]; then
		local id
		for id in $(husk list -q 2>/dev/null); do
			husk delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	[ -n "$TEST_TMP" ] && rm -rf "$TEST_TMP"
}
