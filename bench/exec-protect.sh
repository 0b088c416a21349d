#!/bin/bash
# The cost of husk's CVE-2019-5736 protection (runtime/linux/cloned-exe.c)
# and of the other ways to get it, side by side in one run. create, run
# and exec must not enter a container from a binary the container could
# overwrite; husk started from a writable file moves itself onto a view of
# its binary nobody can write. Variants:
#   husk        the binary as given ($HUSK, e.g. the installed one): what
#               husk does by itself (re-seats itself on a detached
#               read-only bind of its binary, no execve)
#   husk-ro     a copy on a read-only bind: husk skips the step, the floor
#   way-direct  bench/exe-view (a small static program, compiled here)
#               executing husk-ro: what the ways below cost on top
#   way-memfd   exe-view copying the binary into a sealed memfd each call
#               (husk's way until issue 15, and its last fallback)
#   way-reuse   exe-view executing a sealed memfd made once (fd 9), finding
#               it for free: the best a copy made once and reused can do
#   way-bind    exe-view executing a detached read-only bind of the file
#               (open_tree + mount_setattr; husk's fallback when it cannot
#               re-seat itself)
#   way-overlay exe-view executing the file through a detached overlayfs
#               with no upper layer (runc 1.2's way)
# and runc and crun. Verbs:
#   start  `RUNTIME exec` into a missing container: start-up, the step, a
#          lookup that fails; the least noisy view of the step
#   exec   `RUNTIME exec ID /bin/true` into a running container
#   run    `RUNTIME run` of /bin/true (foreground, waits, removes it)
# Medians over N runs (default 100), variants taking turns in each run, and
# ratios to husk-ro and to crun. Usage: bench/exec-protect.sh [N]. Needs
# root and a C compiler; like bench/lifecycle.sh it runs in a private mount
# namespace without /sys/fs/cgroup/unified (crun 1.8 refuses hybrid cgroup
# hosts).
set -euo pipefail
N=${1:-100}
here=$(cd "$(dirname "$0")" && pwd)
HUSK=${HUSK:-$here/../husk}
HUSK=$(readlink -f "$(command -v "$HUSK")")

# fd 9: a sealed memfd holding a copy of husk, made before the script runs
seal_py='
import fcntl, os, sys
src = os.open(sys.argv[1], os.O_RDONLY)
fd = os.memfd_create("husk", os.MFD_ALLOW_SEALING)
while os.sendfile(fd, src, None, 1 << 30) > 0:
    pass
fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK
            | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
os.dup2(fd, 9)
os.execvp(sys.argv[2], sys.argv[2:])
'
if [ -z "${HUSK_BENCH_INNER:-}" ]; then
	exec unshare --mount --propagation private env HUSK_BENCH_INNER=1 \
		python3 -c "$seal_py" "$HUSK" "$0" "$@"
fi
umount /sys/fs/cgroup/unified 2>/dev/null || true
# a tmpfs of ours in its place: crun writes cgroup.procs files there, which
# would otherwise stay in the host's /sys/fs/cgroup tmpfs, hidden under its
# unified mount
mount -t tmpfs -o size=16m,mode=0755 husk-bench-unified /sys/fs/cgroup/unified

work=$(mktemp -d /tmp/husk-bench-exec.XXXXXX)
mkdir "$work/empty" "$work/ro"
cp "$HUSK" "$work/ro/husk"
mount --bind -o ro "$work/ro/husk" "$work/ro/husk"
HUSK_RO=$work/ro/husk
cc -std=gnu11 -O2 -static -o "$work/exe-view" "$here/exe-view.c"
export EXE_VIEW_EMPTY=$work/empty
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
for b in true sh sleep; do ln -s busybox "$work/rootfs/bin/$b"; done

bundle() { # DIR ARG...: a bundle without a network namespace running ARG...
	local dir=$1 args
	shift
	mkdir -p "$dir"
	"$HUSK" spec --bundle "$dir"
	args=$(printf '%s\n' "$@" | jq -R . | jq -s -c .)
	# crun 1.8 knows runtime-spec versions up to 1.0.x only
	jq ".ociVersion = \"1.0.2\" | .process.terminal = false | .process.args = $args
		| .root.path = \"$work/rootfs\"
		| .linux.namespaces |= map(select(.type != \"network\"))" \
		"$dir/config.json" >"$dir/c"
	mv "$dir/c" "$dir/config.json"
}
bundle "$work/b-true" /bin/true
bundle "$work/b-sleep" /bin/sleep 1000

# quantile FILE Q: the Q-quantile of the numbers in FILE
quantile() { sort -n "$1" | awk -v q="$2" '{a[NR]=$1} END {i=int(NR*q+0.5); print a[i<1?1:i]}'; }
# time_into FILE COMMAND...: append the command's wall time in microseconds
time_into() {
	local f=$1 t0 t1
	shift
	t0=${EPOCHREALTIME/./}
	"$@" >/dev/null 2>&1 </dev/null || :
	t1=${EPOCHREALTIME/./}
	echo $((t1 - t0)) >>"$f"
}

# Each variant: NAME, ROOT (husk's variants share one state root and one
# running container) and the command line before the runtime's arguments.
declare -A CMD ROOT
add() { CMD[$1]=$3 ROOT[$1]=$work/roots/$2 names+=("$1"); }
names=()
add husk husk "$HUSK"
add husk-ro husk "$HUSK_RO"
add way-direct husk "$work/exe-view direct $HUSK_RO husk"
for w in memfd reuse bind overlay; do add "way-$w" husk "$work/exe-view $w $HUSK husk"; done
for rt in runc crun; do
	if command -v "$rt" >/dev/null; then add "$rt" "$rt" "$rt"; else echo "skip $rt: not installed"; fi
done
rt() { local v=$1; shift; ${CMD[$v]} --root "${ROOT[$v]}" "$@"; }

cleanup() {
	local v
	for v in husk runc crun; do
		[ -n "${CMD[$v]:-}" ] && rt "$v" delete --force bench >/dev/null 2>&1
	done
	umount "$HUSK_RO" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# Every variant must reach husk (a way that fails would time its error),
# and each way must end in a husk that does no step of its own.
steps() { # VARIANT: the protection syscalls husk makes when entering a container
	{ strace -f -e trace=memfd_create,open_tree,fsopen,execveat ${CMD[$1]} --root "$work/probe" \
		exec none true 2>&1 || :; } | grep -cE '^(\[pid +[0-9]+\] )?(memfd_create|open_tree|fsopen)\(' || :
}
for v in "${names[@]}"; do
	mkdir -p -m 0700 "${ROOT[$v]}"
	out=$(rt "$v" exec none true 2>&1 || :)
	[[ $v != husk* && $v != way-* ]] || [[ $out == *'container \"none\" does not exist'* ]] ||
		{ echo "variant $v does not work: $out" >&2; exit 1; }
done
if command -v strace >/dev/null; then
	[ "$(steps husk)" = 1 ] || { echo "$HUSK makes no protection step: is it husk?" >&2; exit 1; }
	[ "$(steps husk-ro)" = 0 ] || { echo "husk on a read-only bind still makes a step" >&2; exit 1; }
	for w in direct reuse; do
		[ "$(steps "way-$w")" = 0 ] || { echo "way-$w makes a step" >&2; exit 1; }
	done
	for w in memfd bind overlay; do
		[ "$(steps "way-$w")" = 1 ] || { echo "way-$w: husk made a step of its own" >&2; exit 1; }
	done
fi

for v in husk runc crun; do
	[ -n "${CMD[$v]:-}" ] && rt "$v" run -d --bundle "$work/b-sleep" bench </dev/null >/dev/null 2>&1
done
mkdir "$work/t"
# interleaved, so every variant sees the same load on a busy machine
for i in $(seq "$N"); do
	for v in "${names[@]}"; do
		time_into "$work/t/$v.start" rt "$v" exec missing /bin/true
		time_into "$work/t/$v.exec" rt "$v" exec bench /bin/true
		time_into "$work/t/$v.run" rt "$v" run --bundle "$work/b-true" "r$i-$v"
	done
done

ms() { echo "${1:-0}/1000" | bc -l; }
ratio() { echo "${1:-0}/(${2:-0}+0.0001)" | bc -l; }
table() { # Q: the table of Q-quantiles
	declare -A R
	local v m
	for v in "${names[@]}"; do
		for m in start exec run; do R[$v,$m]=$(quantile "$work/t/$v.$m" "$1"); done
	done
	printf '%-12s %9s %9s %9s %9s %9s %9s %9s %9s\n' variant start exec run \
		start/ro exec/ro run/ro exec/crun run/crun
	for v in "${names[@]}"; do
		printf '%-12s %7.2fms %7.2fms %7.2fms %9.2f %9.2f %9.2f %9.2f %9.2f\n' "$v" \
			"$(ms "${R[$v,start]}")" "$(ms "${R[$v,exec]}")" "$(ms "${R[$v,run]}")" \
			"$(ratio "${R[$v,start]}" "${R[husk-ro,start]}")" \
			"$(ratio "${R[$v,exec]}" "${R[husk-ro,exec]}")" \
			"$(ratio "${R[$v,run]}" "${R[husk-ro,run]}")" \
			"$(ratio "${R[$v,exec]}" "${R[crun,exec]:-}")" "$(ratio "${R[$v,run]}" "${R[crun,run]:-}")"
	done
}
echo "husk: $HUSK ($(stat -c %s "$HUSK") bytes)"
echo "medians of $N runs:"
table 0.5
echo "10th percentiles (the least disturbed runs on a busy machine):"
table 0.1
