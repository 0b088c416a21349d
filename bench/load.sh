#!/bin/bash
# Many containers at once, husk next to runc on the same work (what
# tests/bats/load.bats checks for leftovers): COUNT containers created and
# started PARALLEL at a time, then killed and deleted PARALLEL at a time.
# Prints the wall time of each phase and of the whole, per runtime, and the
# husk/runc ratio; checks that each runtime left no state and no cgroup.
#
# Usage: bench/load.sh [COUNT] [PARALLEL] [ROUNDS] (default 200 20 1). Needs
# root. With ROUNDS > 1 the runtimes take turns and the medians are shown.
# The state roots sit on a tmpfs, as /run does on real hosts.
set -euo pipefail
COUNT=${1:-200}
PARALLEL=${2:-20}
ROUNDS=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
HUSK=${HUSK:-$here/../husk}

work=$(mktemp -d /tmp/husk-load.XXXXXX)
cleanup() {
	local rt id
	for rt in "$HUSK" runc; do
		for id in $("$rt" --root "$work/roots/${rt##*/}" list -q 2>/dev/null); do
			"$rt" --root "$work/roots/${rt##*/}" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	umount "$work/roots" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/roots"
mount -t tmpfs -o mode=0700 husk-load "$work/roots"
mkdir -p "$work/rootfs/bin" "$work/bundle"
cp /bin/busybox "$work/rootfs/bin/busybox"
ln -s busybox "$work/rootfs/bin/sleep"
"$HUSK" spec --bundle "$work/bundle"
jq '.ociVersion = "1.0.2" | .process.terminal = false | .process.args = ["/bin/sleep", "1000"]
    | .root.path = "'"$work/rootfs"'"
    | .linux.namespaces |= map(select(.type != "network"))' \
	"$work/bundle/config.json" >"$work/c" && mv "$work/c" "$work/bundle/config.json"

runtimes=("$HUSK" runc)
names=(husk runc)
command -v runc >/dev/null || { echo "runc is not installed (apt-get install runc)" >&2; exit 1; }

# phase RUNTIME PREFIX ACTION: ACTION on every container, PARALLEL at a time;
# prints the wall time in ms. Any failure stops the benchmark.
phase() {
	local rt=$1 prefix=$2 action=$3 root=$work/roots/${1##*/} t0 t1
	t0=${EPOCHREALTIME/./}
	seq "$COUNT" | xargs -P "$PARALLEL" -I{} bash -c '
		rt=$1 root=$2 id=$3-{} log=$5/{}.log
		case $4 in
		up) "$rt" --root "$root" create --bundle "$6" "$id" </dev/null >"$log" 2>&1 &&
			"$rt" --root "$root" start "$id" </dev/null >>"$log" 2>&1 ;;
		kill) "$rt" --root "$root" kill "$id" KILL </dev/null >"$log" 2>&1 ;;
		delete) "$rt" --root "$root" delete --force "$id" </dev/null >"$log" 2>&1 ;;
		esac || { echo "$rt $4 $id: $(cat "$log")" >&2; exit 255; }
	' _ "$rt" "$root" "$prefix" "$action" "$work/logs" "$work/bundle"
	t1=${EPOCHREALTIME/./}
	echo $(((t1 - t0) / 1000))
}

# the kill phase ends when every init has gone (delete then finds them
# stopped, as an engine deleting after the exit would)
wait_stopped() {
	local rt=$1 root=$work/roots/${1##*/} t0 t1
	t0=${EPOCHREALTIME/./}
	while "$rt" --root "$root" list --format json 2>/dev/null | grep -q '"running"'; do
		sleep 0.01
	done
	t1=${EPOCHREALTIME/./}
	echo $(((t1 - t0) / 1000))
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

mkdir "$work/logs" "$work/t"
for r in $(seq "$ROUNDS"); do
	for k in 0 1; do
		rt=${runtimes[$k]} n=${names[$k]} p=l$r
		up=$(phase "$rt" "$p" up)
		kill=$(( $(phase "$rt" "$p" kill) + $(wait_stopped "$rt") ))
		del=$(phase "$rt" "$p" delete)
		echo "$up" >>"$work/t/$n.up"
		echo "$kill" >>"$work/t/$n.kill"
		echo "$del" >>"$work/t/$n.delete"
		echo $((up + kill + del)) >>"$work/t/$n.total"
		# nothing left behind
		left=$(ls -A "$work/roots/${rt##*/}" 2>/dev/null | grep -v '^\.' || true)
		[ -z "$left" ] || { echo "$n left state: $left" >&2; exit 1; }
		if ls -d /sys/fs/cgroup/*/"$p"-* /sys/fs/cgroup/"$p"-* >/dev/null 2>&1; then
			echo "$n left cgroups" >&2
			exit 1
		fi
	done
done

printf '%-22s %10s %10s %10s\n' "phase ($COUNT, $PARALLEL at once)" husk runc husk/runc
for m in up kill delete total; do
	h=$(median <"$work/t/husk.$m") r=$(median <"$work/t/runc.$m")
	printf '%-22s %8dms %8dms %10.2f\n' "$m" "$h" "$r" "$(echo "$h/($r+0.0001)" | bc -l)"
done
echo "(up = create + start; kill = kill KILL until every init is gone; wall times, medians of $ROUNDS)"
