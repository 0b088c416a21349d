# Shared set-up of the engine suites: podman (through conmon) and
# containerd (through its runc v2 shim) driving the built husk.
#
# Host hygiene: every engine process runs in a private mount namespace held
# by one process (ENG_HOLDER) in which /sys/fs/cgroup is a new tmpfs with the
# host's hierarchies moved onto it. The plain directories podman's cgroupfs
# code makes there for controllers the host does not mount (net_cls/,
# perf_event/, ...) land on that private tmpfs and vanish with it. Storage,
# state, sockets and logs live under ENG_TMP; cgroups are made under a
# parent named after the run (ENG_CGROUP) and removed at the end; podman
# always runs with --network none; the daemons are ended by pid.

. "$(dirname "${BASH_SOURCE[0]}")/../bats/helpers.bash"

ENG_CONTRIB=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../contrib/engines" && pwd)

# eng_ns CMD...: run CMD in the private mount namespace
eng_ns() {
	nsenter -t "$ENG_HOLDER" -m -- "$@"
}

# eng_setup: the temp dir, the holder and its private cgroup view
eng_setup() {
	require_root
	ENG_TMP=$(mktemp -d /tmp/husk-eng.XXXXXX)
	ENG_CGROUP=husk-eng-${ENG_TMP##*.}
	echo "$ENG_TMP" >"$BATS_FILE_TMPDIR/eng_tmp"
	# fd 3 closed: bats waits for every holder of it
	unshare -m --propagation private sleep infinity </dev/null >/dev/null 2>&1 3>&- &
	ENG_HOLDER=$!
	echo "$ENG_HOLDER" >"$ENG_TMP/holder.pid"
	local i
	for i in $(seq 100); do
		[ "$(readlink /proc/$ENG_HOLDER/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] && break
		sleep 0.05
	done
	# move each hierarchy aside, put a fresh tmpfs on /sys/fs/cgroup, and
	# move them back onto directories of the same names
	eng_ns sh -ec '
		stage=$1/cgstage
		mkdir -p "$stage"
		for m in $(awk '\''$5 ~ "^/sys/fs/cgroup/" { print $5 }'\'' /proc/self/mountinfo); do
			n=${m#/sys/fs/cgroup/}
			mkdir -p "$stage/$n"
			mount --move "$m" "$stage/$n"
		done
		mount -t tmpfs -o mode=755,nosuid,nodev,noexec cgroup /sys/fs/cgroup
		for d in "$stage"/*; do
			n=${d##*/}
			mkdir -p "/sys/fs/cgroup/$n"
			mount --move "$d" "/sys/fs/cgroup/$n"
		done
	' sh "$ENG_TMP"
	ls /sys/fs/cgroup >"$BATS_FILE_TMPDIR/cgroup-top.before"
	# podman's cgroupfs code puts some conmon processes under
	# /libpod_parent/conmon whatever --cgroup-parent says: removed at the
	# end when the run made it
	ls -d /sys/fs/cgroup/*/libpod_parent >"$BATS_FILE_TMPDIR/libpod-parent.before" 2>/dev/null || true
}

# eng_remove_cgroups: the run's cgroups in every hierarchy, deepest first
eng_remove_cgroups() {
	local top d
	for top in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -d "$top$ENG_CGROUP" ] || continue
		find "$top$ENG_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
	for d in /sys/fs/cgroup/*/libpod_parent; do
		[ -d "$d" ] || continue
		grep -qxF "$d" "$BATS_FILE_TMPDIR/libpod-parent.before" 2>/dev/null && continue
		# cgroup directories (rmdir only removes empty ones), never the tmpfs
		[ "$(stat -f -c %T "$d")" = tmpfs ] && continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# eng_teardown: end the holder (and with it the private cgroup view),
# remove the cgroups and the temp dir; check nothing new is on the host's
# /sys/fs/cgroup tmpfs
eng_teardown() {
	[ -n "${ENG_TMP:-}" ] || return 0
	if [ -n "${ENG_HOLDER:-}" ]; then
		kill "$ENG_HOLDER" 2>/dev/null || true
		wait "$ENG_HOLDER" 2>/dev/null || true
	fi
	eng_remove_cgroups
	# mounts an engine left in the temp dir (overlay, shm) live in the
	# private namespace and went with it; anything else would be ours
	if grep -q " $ENG_TMP" /proc/self/mountinfo; then
		awk -v t="$ENG_TMP" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
			while read -r m; do umount -l "$m"; done
	fi
	rm -rf "$ENG_TMP"
	# the host's cgroup tmpfs holds what it held before
	ls /sys/fs/cgroup | diff -u "$BATS_FILE_TMPDIR/cgroup-top.before" -
}
