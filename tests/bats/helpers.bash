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

# ctr_id NAME: a container id unique to this test. Cgroup directories are
# named after the id and shared by everyone on the host, so two test runs in
# parallel must never use the same id.
ctr_id() {
	echo "$1-${TEST_TMP##*.}"
}

# set_args DIR ARG...: the container's process.args.
set_args() {
	local dir=$1
	shift
	local args=() a
	# one --arg each: after --args, jq would take "-c" for its own option
	for a in "$@"; do
		args+=("$(jq -n --arg a "$a" '$a')")
	done
	update_config "$dir" ".process.args = [$(IFS=,; echo "${args[*]}")]"
}

# run_sh DIR SCRIPT: `husk run` of `sh -c SCRIPT` in bundle DIR under a fresh
# id; $status and $output as bats `run` leaves them.
run_sh() {
	local dir=$1 script=$2
	set_args "$dir" /bin/sh -c "$script"
	RUN_SH_SEQ=$((${RUN_SH_SEQ:-0} + 1))
	run husk run -b "$dir" "$(ctr_id "sh$RUN_SH_SEQ")"
	# shown when the test fails
	echo "husk run of '$script': status $status, output: $output"
}

# container_status ID: the status field of `husk state`.
container_status() {
	husk state "$1" | jq -r .status
}

# wait_for_status ID STATUS: poll `husk state` for up to 10 seconds.
wait_for_status() {
	local id=$1 want=$2 i
	for i in $(seq 100); do
		[ "$(container_status "$id" 2>/dev/null)" = "$want" ] && return 0
		sleep 0.1
	done
	echo "container $id did not reach $want (is $(container_status "$id" 2>&1))" >&2
	return 1
}

# cgroup_dirs ID: the cgroup directories named after ID on any hierarchy.
cgroup_dirs() {
	local d
	for d in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		[ -d "$d" ] && echo "$d"
	done
	return 0
}

# assert_nothing_left ID [MARKER] [PIDFILE]: no state dir, no cgroup, no
# process whose command line holds MARKER, no pid file.
assert_nothing_left() {
	local id=$1 marker=${2:-} pidfile=${3:-}
	if [ -e "$HUSK_ROOT/$id" ]; then
		echo "state dir $HUSK_ROOT/$id left behind" >&2
		return 1
	fi
	local cg
	cg=$(cgroup_dirs "$id")
	if [ -n "$cg" ]; then
		echo "cgroup dirs left behind: $cg" >&2
		return 1
	fi
	if [ -n "$marker" ] && pgrep -f -- "$marker" >/dev/null; then
		echo "a process with $marker is still running" >&2
		return 1
	fi
	if [ -n "$pidfile" ] && [ -e "$pidfile" ]; then
		echo "pid file $pidfile left behind" >&2
		return 1
	fi
	return 0
}

# husk_nowait ARG...: husk with its stdio on files. A created or detached
# container inherits husk's stdio, so under bats' `run` (a pipe) the caller
# would wait for the container to exit. Prints husk's own stderr; the
# container's output lands in $TEST_TMP/ctr.out.
husk_nowait() {
	local rc=0 errfile
	errfile=$(mktemp "$TEST_TMP/husk-err.XXXXXX")
	husk "$@" </dev/null >>"$TEST_TMP/ctr.out" 2>"$errfile" || rc=$?
	cat "$errfile"
	return $rc
}

# process_gone PID: the process has exited. It may stay a zombie for a while:
# once husk exits, a container's init is reparented to whatever reaps orphans
# on the host.
process_gone() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
}
