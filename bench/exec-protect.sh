#!/bin/bash
# The cost of husk's CVE-2019-5736 protection (runtime/linux/cloned-exe.c):
# create, run and exec first copy the husk binary into a sealed memfd and
# re-execute from it. Measured by starting the same husk binary two ways:
#   sealed  from disk, as shipped: the copy + seal + second execve happen
#   preset  from a sealed memfd this script made once (fd 9), so husk sees
#           itself already sealed and skips the step
# and, side by side, runc and crun in the same run:
#   exec   `RUNTIME exec ID /bin/true` into a running container
#   run    `RUNTIME run` of /bin/true (foreground, waits, removes it)
#   start  `RUNTIME exec` into a missing container: process start-up, the
#          protection, and a lookup that fails; the least noisy view of the
#          step (husk - husk-preset)
# Medians over N runs (default 100). Usage: bench/exec-protect.sh [N].
# Needs root; like bench/lifecycle.sh it runs in a private mount namespace
# without /sys/fs/cgroup/unified (crun 1.8 refuses hybrid cgroup hosts).
set -euo pipefail
N=${1:-100}
here=$(cd "$(dirname "$0")" && pwd)
HUSK=${HUSK:-$here/../husk}

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
HUSK_PRESET=/proc/self/fd/9

work=$(mktemp -d /tmp/husk-bench-exec.XXXXXX)
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

now() { date +%s%N; }
# quantile FILE Q: the Q-quantile of the numbers in FILE
quantile() { sort -n "$1" | awk -v q="$2" '{a[NR]=$1} END {i=int(NR*q+0.5); print a[i<1?1:i]}'; }
# time_into FILE COMMAND...: append the command's wall time in microseconds
time_into() {
	local f=$1 t0 t1
	shift
	t0=$(now)
	"$@" >/dev/null 2>&1 </dev/null || :
	t1=$(now)
	echo $(((t1 - t0) / 1000)) >>"$f"
}
root_of() { echo "$work/root-${1##*/}"; }
exec_once() { "$1" --root "$(root_of "$2")" exec bench /bin/true; }
start_once() { "$1" --root "$(root_of "$2")" exec missing /bin/true; }
run_once() { "$1" --root "$(root_of "$2")" run --bundle "$work/b-true" "r$3"; }

cleanup() {
	local rt
	for rt in "$HUSK" runc crun; do
		command -v "$rt" >/dev/null && "$rt" --root "$(root_of "$rt")" delete --force bench \
			>/dev/null 2>&1
	done
	rm -rf "$work"
}
trap cleanup EXIT

# the shipped husk copies itself and the preset one must not, or the
# baseline would be wrong
copies() { # HUSK: it creates the sealed copy when it enters a container
	# (the exec itself fails: there is no such container)
	{ strace -f -e trace=memfd_create "$1" --root "$work/probe" exec none true 2>&1 || :; } |
		grep -q 'memfd_create("husk"'
}
if command -v strace >/dev/null; then
	copies "$HUSK" || { echo "$HUSK does not copy itself: is it husk?" >&2; exit 1; }
	! copies "$HUSK_PRESET" || { echo "the preset husk still copies itself" >&2; exit 1; }
fi

# variants: NAME BINARY ROOT-OF. husk-preset shares husk's root (and container).
variants=("husk $HUSK $HUSK" "preset $HUSK_PRESET $HUSK")
for rt in runc crun; do
	if command -v "$rt" >/dev/null; then variants+=("$rt $rt $rt"); else echo "skip $rt: not installed"; fi
done
for v in "${variants[@]}"; do
	read -r name bin rootrt <<<"$v"
	[ "$name" = preset ] && continue
	"$bin" --root "$(root_of "$rootrt")" run -d --bundle "$work/b-sleep" bench </dev/null >/dev/null 2>&1
done
# interleaved, so every variant sees the same load on a busy machine
for i in $(seq "$N"); do
	for v in "${variants[@]}"; do
		read -r name bin rootrt <<<"$v"
		time_into "$work/t.$name.exec" exec_once "$bin" "$rootrt"
		time_into "$work/t.$name.run" run_once "$bin" "$rootrt" "$i-$name"
		time_into "$work/t.$name.start" start_once "$bin" "$rootrt"
	done
done
declare -A R
for v in "${variants[@]}"; do
	read -r name _ <<<"$v"
	for m in exec run start; do
		R[$name,$m]=$(quantile "$work/t.$name.$m" 0.5)
		R[$name,$m,p10]=$(quantile "$work/t.$name.$m" 0.1)
	done
done

ms() { echo "$1/1000" | bc -l; }
ratio() { echo "${1:-0}/(${2:-0}+0.0001)" | bc -l; }
table() { # SUFFIX: one table of the R values with that key suffix
	printf '%-6s %12s %12s %10s %10s %10s %14s %10s %10s\n' verb husk husk-preset runc crun \
		step husk/preset husk/runc husk/crun
	for m in exec run start; do
		h=${R[husk,$m$1]:-0} p=${R[preset,$m$1]:-0} r=${R[runc,$m$1]:-0} c=${R[crun,$m$1]:-0}
		printf '%-6s %10.2fms %10.2fms %8.2fms %8.2fms %8.2fms %14.2f %10.2f %10.2f\n' "$m" \
			"$(ms "$h")" "$(ms "$p")" "$(ms "$r")" "$(ms "$c")" "$(ms $((h - p)))" \
			"$(ratio "$h" "$p")" "$(ratio "$h" "$r")" "$(ratio "$h" "$c")"
	done
}
echo "medians of $N runs:"
table ""
echo "10th percentiles (the least disturbed runs on a busy machine):"
table ,p10
echo "(step = husk - husk-preset: copying $(stat -c %s "$HUSK") bytes into a sealed memfd" \
	"and executing it again)"
