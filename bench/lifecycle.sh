#!/bin/bash
# Container lifecycle cost, husk against runc and crun in one run:
#   run        `RUNTIME run` of /bin/true (foreground, waits, removes it)
#   cycle      create + start + wait for exit + delete
#   cycle-net  the same with a network namespace
#   parallel   10 cycles at once (wall time for all 10)
# plus the peak RSS of create. Medians over N runs, the runtimes taking
# turns within each run; ratios are to crun.
#
# crun 1.8 refuses hybrid cgroup hosts, so everything runs (for fairness,
# all three) in a private mount namespace whose /sys/fs/cgroup/unified is
# unmounted. Usage: bench/lifecycle.sh [N] (default 50). Needs root.
#
# husk runs twice: "husk" is $HUSK as given (the installed binary, say
# HUSK=/usr/local/sbin/husk: a writable file, so create/run/exec re-execute
# from a read-only view of it, CVE-2019-5736), and "husk-ro" a copy on a
# read-only bind, the layout husk(8) describes, where that step is skipped.
set -euo pipefail
N=${1:-50}
here=$(cd "$(dirname "$0")" && pwd)
HUSK=${HUSK:-$here/../husk}
HUSK=$(readlink -f "$(command -v "$HUSK")")

if [ -z "${HUSK_BENCH_INNER:-}" ]; then
	exec unshare --mount --propagation private env HUSK_BENCH_INNER=1 "$0" "$@"
fi
umount /sys/fs/cgroup/unified 2>/dev/null || true
# a tmpfs of ours in its place: crun writes cgroup.procs files there, which
# would otherwise stay in the host's /sys/fs/cgroup tmpfs, hidden under its
# unified mount
mount -t tmpfs -o size=16m,mode=0755 husk-bench-unified /sys/fs/cgroup/unified

work=$(mktemp -d /tmp/husk-bench.XXXXXX)
trap 'umount "$work/roots" "$work/husk-ro" 2>/dev/null; rm -rf "$work"' EXIT
cp "$HUSK" "$work/husk-ro"
mount --bind -o ro "$work/husk-ro" "$work/husk-ro"
# The runtimes' state roots (the default /run/<runtime>) sit on a tmpfs, as
# /run does on real hosts; this machine's /run is on its disk, where ext4's
# inode allocator would dominate (it hunts past recently deleted inodes).
mkdir "$work/roots"
mount -t tmpfs -o mode=0700 husk-bench "$work/roots"
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
ln -s busybox "$work/rootfs/bin/true"
ln -s busybox "$work/rootfs/bin/sh"

make_bundle() { # DIR NETNS(yes|no)
	mkdir -p "$1"
	ln -s "$work/rootfs" "$1/rootfs"
	"$HUSK" spec --bundle "$1"
	# crun 1.8 knows runtime-spec versions up to 1.0.x only
	local filter='.ociVersion = "1.0.2" | .process.terminal = false | .process.args = ["/bin/true"] | .root.path = "'$work/rootfs'"'
	[ "$2" = no ] && filter="$filter | .linux.namespaces |= map(select(.type != \"network\"))"
	jq "$filter" "$1/config.json" >"$1/c" && mv "$1/c" "$1/config.json"
}
make_bundle "$work/b-net" yes
make_bundle "$work/b-nonet" no

# each runtime's state root: husk and husk-ro have their own
root_name() { case $1 in "$HUSK") echo husk ;; *) echo "${1##*/}" ;; esac; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# cycle RUNTIME BUNDLE ID: create, start, wait for the init to go, delete.
# The harness itself spawns nothing but the runtime: the pid is read from
# the state JSON and the exit polled from /proc with bash builtins, so the
# ratios compare runtimes, not jq and grep.
cycle() {
	local rt=$1 b=$2 id=$3 root=$work/roots/$(root_name "$1") state pid st
	"$rt" --root "$root" create --bundle "$b" "$id" >/dev/null 2>&1 </dev/null
	state=$("$rt" --root "$root" state "$id")
	[[ $state =~ \"pid\":\ *([0-9]+) ]] && pid=${BASH_REMATCH[1]}
	[ "${pid:-0}" -gt 0 ] || { echo "$rt create failed" >&2; return 1; }
	"$rt" --root "$root" start "$id"
	while read -r st 2>/dev/null <"/proc/$pid/stat" && [[ $st != *") Z "* ]]; do :; done
	"$rt" --root "$root" delete "$id"
}

# time_us COMMAND... -> microseconds of one call, by bash's own clock (no
# process per reading)
time_us() {
	local t0 t1
	t0=${EPOCHREALTIME/./}
	"$@" >/dev/null 2>&1
	t1=${EPOCHREALTIME/./}
	echo $((t1 - t0))
}

run_once() { "$1" --root "$work/roots/$(root_name "$1")" run --bundle "$2" "r$3" </dev/null; }
cycle_net() { cycle "$1" "$work/b-net" "c$2"; }
cycle_nonet() { cycle "$1" "$work/b-nonet" "n$2"; }
parallel10() {
	local j
	for j in $(seq 10); do cycle "$1" "$work/b-nonet" "p$2-$j" & done
	wait
}
peak_rss() { # kB of `RUNTIME create`
	local rt=$1 root=$work/roots/$(root_name "$1")
	/usr/bin/time -o "$work/rss" -f %M "$rt" --root "$root" create --bundle "$work/b-nonet" rss \
		</dev/null >/dev/null 2>&1
	"$rt" --root "$root" delete --force rss >/dev/null 2>&1 || true
	cat "$work/rss"
}

declare -A R
runtimes=("$HUSK" "$work/husk-ro" runc crun)
names=(husk husk-ro runc crun)
present=()
for k in 0 1 2 3; do
	if command -v "${runtimes[$k]}" >/dev/null; then present+=("$k"); else echo "skip ${names[$k]}: not installed"; fi
done
# Round-robin: iteration i runs every runtime once before iteration i+1, so
# a load spike on this shared machine hits all of them alike.
mkdir "$work/t"
for m in run cycle cycle-net parallel; do
	n=$N
	[ "$m" = parallel ] && n=$(( N / 5 > 3 ? N / 5 : 3 ))
	for i in $(seq "$n"); do
		for k in "${present[@]}"; do
			rt=${runtimes[$k]}
			case $m in
			run) time_us run_once "$rt" "$work/b-nonet" "$i" ;;
			cycle) time_us cycle_nonet "$rt" "$i" ;;
			cycle-net) time_us cycle_net "$rt" "$i" ;;
			parallel) time_us parallel10 "$rt" "$i" ;;
			esac >>"$work/t/${names[$k]}.$m"
		done
	done
	for k in "${present[@]}"; do R[${names[$k]},$m]=$(median <"$work/t/${names[$k]}.$m"); done
done
for k in "${present[@]}"; do R[${names[$k]},rss]=$(peak_rss "${runtimes[$k]}"); done

ms() { echo "${1:-0}/1000" | bc -l; }
ratio() { echo "${1:-0}/(${2:-0}+0.0001)" | bc -l; }
echo "husk: $HUSK"
printf '%-12s %10s %10s %10s %10s %10s %10s %10s\n' metric husk husk-ro runc crun \
	husk/crun ro/crun husk/runc
for m in run cycle cycle-net parallel; do
	h=${R[husk,$m]:-0} ro=${R[husk-ro,$m]:-0} r=${R[runc,$m]:-0} c=${R[crun,$m]:-0}
	printf '%-12s %8.2fms %8.2fms %8.2fms %8.2fms %10.2f %10.2f %10.2f\n' "$m" \
		"$(ms "$h")" "$(ms "$ro")" "$(ms "$r")" "$(ms "$c")" \
		"$(ratio "$h" "$c")" "$(ratio "$ro" "$c")" "$(ratio "$h" "$r")"
done
h=${R[husk,rss]:-0} ro=${R[husk-ro,rss]:-0} r=${R[runc,rss]:-0} c=${R[crun,rss]:-0}
printf '%-12s %8dkB %8dkB %8dkB %8dkB %10.2f %10.2f %10.2f\n' "create RSS" "$h" "$ro" "$r" "$c" \
	"$(ratio "$h" "$c")" "$(ratio "$ro" "$c")" "$(ratio "$h" "$r")"
echo "(medians of $N runs; parallel = wall time of 10 concurrent cycles)"
