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

# The busybox rootfs fixture, built once per bats run from Debian's
# busybox-static: /bin/busybox plus a link per applet.
busybox_rootfs_template() {
	local tpl=$BATS_RUN_TMPDIR/busybox-rootfs
	if [ ! -e "$tpl/.done" ]; then
		local busybox
		busybox=$(command -v busybox) || skip "busybox-static is not installed"
		file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
			[ -x /bin/busybox ] || skip "no static busybox"
		mkdir -p "$tpl.tmp"/{bin,etc,tmp,proc,sys,dev,root,var,run}
		cp "$busybox" "$tpl.tmp/bin/busybox"
		local applet
		for applet in $("$busybox" --list); do
			[ "$applet" = busybox ] || ln -sf busybox "$tpl.tmp/bin/$applet"
		done
		echo 'root:x:0:0:root:/root:/bin/sh' >"$tpl.tmp/etc/passwd"
		echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$tpl.tmp/etc/passwd"
		printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$tpl.tmp/etc/group"
		chmod 1777 "$tpl.tmp/tmp"
		touch "$tpl.tmp/.done"
		mv "$tpl.tmp" "$tpl" 2>/dev/null || rm -rf "$tpl.tmp"
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
