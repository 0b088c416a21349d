#!/bin/bash
# How costs grow: husk next to runc and crun (where they have the same
# verb) as a host holds more containers, and husk-image as its store holds
# more images. In one run:
#
#   ops       state, list, create, exec and delete with 0, 100 and 1000
#             containers already there (a third each created, running and
#             stopped), plus one running container that state and exec use;
#             create and delete are of a container of their own each time
#   burst     100 containers created and started at once: wall time,
#             failures, peak RSS of the runtime processes (/usr/bin/time)
#   procs     events --stats and ps of a container with 1000 processes
#   store     husk-image list, pull, rm and gc with 0, 100 and 1000 images
#             in the store (tiny distinct images pulled from an oci: layout)
#   layers    pull from a local docker-registry of images with 1, 10 and
#             100 layers (and `skopeo copy` of the same into an oci: dir)
#   entries   unpack of a layer with 5,000, 50,000 and 500,000 entries
#             (and `tar -xzf` of the same layer, the floor)
#   overlay   100 bundles from one image: full unpacks against --overlay
#             bundles, time and disk
#
# Every figure is the median of REPS runs (default 5; the heavy ones, burst
# and entries, of (REPS+1)/2), the runtimes taking turns within each run.
# Writes scale.txt (the table), scale-*.dat and scale.svg (gnuplot: time
# per operation against the number of containers or images) into
# SCALE_OUT (default bench/results/).
#
# SCALE_MAX=N scales every size down (containers 0, N/10, N; images,
# processes and bundles likewise; entries 500*N), for a quick developer
# run: SCALE_MAX=30 REPS=3 SCALE_OUT=/tmp/s bench/scale.sh
#
# Runs in a private mount namespace: state roots, stores and bundles sit on
# a tmpfs there (as /run does on real hosts; the disk here is slow for
# metadata), and husk runs from a read-only bind of its binary (as husk(8)
# says to install it). crun 1.8 refuses hybrid cgroup hosts: it is probed
# first and, when it refuses, the table says so. SCALE_HIDE_UNIFIED=1
# unmounts /sys/fs/cgroup/unified inside the namespace (the host keeps it)
# so that crun takes part, as bench/lifecycle.sh does.
#
# Everything made is removed on exit, Ctrl-C included: the containers of
# the three runtimes (delete --force), their cgroups, the registry, the
# tmpfs. Needs root, busybox-static, jq, python3, gnuplot; runc, crun,
# docker-registry, skopeo when they are to take part.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
HUSK=$(realpath "${HUSK:-$here/../husk}")
HUSK_IMAGE=$(realpath "${HUSK_IMAGE:-$here/../husk-image}")
SCALE_MAX=${SCALE_MAX:-1000}
REPS=${REPS:-5}
OUT=${SCALE_OUT:-$here/results}

# plot_results: scale.svg from the .dat files in OUT
plot_results() {
	# one line per runtime with figures (crun may have none)
	local k ops_plot=
	for k in 0 1 2; do
		awk -v c=$((2 + k)) '!/^#/ { for (i = c; i <= NF; i += 3) if ($i != "NaN") found = 1 } END { exit !found }' \
			"$OUT/scale-ops.dat" || continue
		ops_plot+="${ops_plot:+, }\"$OUT/scale-ops.dat\" using 1:(column(col(op, $k))) with linespoints lw 2 pt 7 ps 0.5 title \"$(echo husk runc crun | cut -d' ' -f$((k + 1)))\""
	done
gnuplot <<EOF
set terminal svg size 1400,800 dynamic font "sans,11"
set output "$OUT/scale.svg"
set datafile missing "NaN"
set multiplot layout 2,4 title "bench/scale.sh: time per operation (ms, medians)"
set key top left
set grid
set xlabel "containers already there"
set ylabel "ms"
set yrange [0:*]
col(op, rt) = 2 + 3 * op + rt
do for [op = 0:4] {
	set title word("state list create exec delete", op + 1)
	plot $ops_plot
}
set title "husk-image store"
set xlabel "images in the store"
plot "$OUT/scale-store.dat" using 1:2 with linespoints lw 2 pt 7 ps 0.5 title "list", \
     "" using 1:3 with linespoints lw 2 pt 7 ps 0.5 title "pull one", \
     "" using 1:4 with linespoints lw 2 pt 7 ps 0.5 title "rm one", \
     "" using 1:5 with linespoints lw 2 pt 7 ps 0.5 title "gc"
set title "pull from a registry"
set xlabel "layers in the image"
plot "$OUT/scale-layers.dat" using 1:2 with linespoints lw 2 pt 7 ps 0.5 title "husk-image pull", \
     "" using 1:3 with linespoints lw 2 pt 7 ps 0.5 title "husk-image unpack", \
     "" using 1:4 with linespoints lw 2 pt 7 ps 0.5 title "skopeo copy"
set title "unpack one layer"
set format x "%.0s%c"
stats "$OUT/scale-entries.dat" using 1 nooutput
set xtics STATS_max / 2
set xlabel "entries in the layer"
plot "$OUT/scale-entries.dat" using 1:2 with linespoints lw 2 pt 7 ps 0.5 title "husk-image unpack", \
     "" using 1:3 with linespoints lw 2 pt 7 ps 0.5 title "tar -xzf"
unset multiplot
EOF
}
if [ -n "${SCALE_PLOT_ONLY:-}" ]; then
	plot_results
	exit 0
fi

[ "$(id -u)" = 0 ] || { echo "scale.sh: needs root" >&2; exit 1; }
for tool in jq python3 gnuplot /usr/bin/time busybox; do
	command -v "$tool" >/dev/null || { echo "scale.sh: $tool is not installed" >&2; exit 1; }
done
if [ ! -x "$HUSK" ] || [ ! -x "$HUSK_IMAGE" ]; then
	echo "scale.sh: build husk first" >&2
	exit 1
fi
case $SCALE_MAX in '' | *[!0-9]* | 0 | [1-9]) echo "scale.sh: SCALE_MAX must be >= 10" >&2; exit 1 ;; esac

if [ -z "${HUSK_BENCH_INNER:-}" ]; then
	mkdir -p "$OUT"
	OUT=$(realpath "$OUT")
	exec unshare --mount --propagation private env HUSK_BENCH_INNER=1 SCALE_OUT="$OUT" "$0" "$@"
fi
if [ -n "${SCALE_HIDE_UNIFIED:-}" ]; then
	# and a tmpfs of ours in its place: crun then writes its cgroup.procs
	# files there, which would otherwise land in the host's /sys/fs/cgroup
	# tmpfs, hidden under its unified mount
	umount /sys/fs/cgroup/unified 2>/dev/null || true
	mount -t tmpfs -o size=16m,mode=0755 husk-scale-unified /sys/fs/cgroup/unified
fi

# sizes
NMAX=$SCALE_MAX
SIZES="0 $((NMAX / 10)) $NMAX"
BURST=$((NMAX < 100 ? NMAX : 100))
PROCS=$NMAX
LAYERS_MAX=$((NMAX < 100 ? NMAX : 100))
LAYER_SIZES=$(printf '%s\n' 1 $((LAYERS_MAX / 10)) "$LAYERS_MAX" | sort -nu | tr '\n' ' ')
ENTRIES_MAX=$((500 * NMAX))
ENTRY_SIZES="$((ENTRIES_MAX / 100)) $((ENTRIES_MAX / 10)) $ENTRIES_MAX"
BUNDLES=$BURST
HEAVY=$(((REPS + 1) / 2))
PFX=sc$$ # container ids and cgroups: sc<pid>-<runtime>-...

work=$(mktemp -d /tmp/husk-scale.XXXXXX)
mount -t tmpfs -o size=16g,mode=0700 husk-scale "$work"
export FIXTURE_TMP=$work
# shellcheck source=tests/bats/fixtures.bash
. "$here/../tests/bats/fixtures.bash"

names=(husk runc crun)
bins=("$work/bin/husk" runc crun)
declare -A NA # runtime -> why it does not take part

cleanup() {
	local rc=$? k rt root id left bad=
	trap '' INT TERM HUP
	set +e
	for k in 0 1 2; do
		rt=${bins[$k]} root=$work/roots/${names[$k]}
		[ -d "$root" ] || continue
		"$rt" --root "$root" list -q 2>/dev/null | xargs -r -P 4 -n 1 \
			"$rt" --root "$root" delete --force >/dev/null 2>&1
		left=$("$rt" --root "$root" list -q 2>/dev/null | wc -l)
		[ "$left" = 0 ] || { echo "scale.sh: ${names[$k]} left $left containers in $root" >&2; bad=1; }
	done
	# a cgroup whose runtime died before making its state (empty: rmdir)
	# (runc puts some below the caller's own cgroup: look a few levels down;
	# a hidden unified tree is our tmpfs, gone with this mount namespace)
	while read -r id; do
		rmdir "$id" 2>/dev/null || { echo "scale.sh: cgroup $id left" >&2; bad=1; }
	done < <(find /sys/fs/cgroup -maxdepth 5 -depth -type d -name "$PFX-*" \
		${SCALE_HIDE_UNIFIED:+-not -path '/sys/fs/cgroup/unified/*'} 2>/dev/null)
	stop_registry
	# overlay bundles and the read-only bind go with the tmpfs (and with
	# this mount namespace)
	umount -R -l "$work" 2>/dev/null
	rmdir "$work" 2>/dev/null || { echo "scale.sh: $work left" >&2; bad=1; }
	# a run that went well but left something behind failed
	[ "$rc" != 0 ] || [ -z "$bad" ] || exit 1
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { echo "scale.sh: $*" >&2; exit 1; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "NaN"}'; }

# time_us COMMAND...: microseconds of one call by bash's clock (no process
# per reading); its output goes to $work/out, $work/err. Fails with it.
time_us() {
	local t0 t1 st=0
	t0=${EPOCHREALTIME/./}
	"$@" >"$work/out" 2>"$work/err" </dev/null || st=$?
	t1=${EPOCHREALTIME/./}
	if [ "$st" != 0 ]; then
		echo "scale.sh: '$*' failed ($st): $(head -c 400 "$work/err")" >&2
		return 1
	fi
	echo $((t1 - t0))
}
# T[key] accumulates samples (µs), one per line
declare -A T
sample() { # KEY COMMAND...
	local key=$1 us
	shift
	us=$(time_us "$@") || exit 1
	T[$key]+="$us"$'\n'
}
med_ms() { # KEY -> median in ms, NaN when there is none
	if [ -z "${T[$1]:-}" ]; then echo NaN; return; fi
	printf '%s' "${T[$1]}" | median | awk '{ if ($1 == "NaN") print "NaN"; else printf "%.2f", $1 / 1000 }'
}

# ---- the runtimes, the rootfs, the bundles ----
mkdir -p "$work/bin" "$work/roots" "$work/t"
cp "$HUSK" "$work/bin/husk"
mount --bind -o ro "$work/bin/husk" "$work/bin/husk"
busybox_rootfs "$work/rootfs"
make_bundle() { # NAME ARGS-JSON
	local b=$work/bundle-$1
	mkdir -p "$b"
	"$HUSK" spec --bundle "$b"
	# crun 1.8 knows runtime-spec versions up to 1.0.x only
	jq --argjson args "$2" --arg root "$work/rootfs" '.ociVersion = "1.0.2"
	    | .process.terminal = false | .process.args = $args | .root.path = $root
	    | .linux.namespaces |= map(select(.type != "network"))' \
		"$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
}
make_bundle sleep '["/bin/sleep", "100000"]'
make_bundle true '["/bin/true"]'
make_bundle many "[\"/bin/sh\", \"-c\", \"i=1; while [ \$i -lt $PROCS ]; do sleep 100000 & i=\$((i + 1)); done; wait\"]"

rt_of() { echo "${bins[$1]}"; }
root_of() { echo "$work/roots/${names[$1]}"; }
rt() { local k=$1; shift; "${bins[$k]}" --root "$work/roots/${names[$k]}" "$@"; }

present=()
for k in 0 1 2; do
	n=${names[$k]}
	if ! command -v "${bins[$k]}" >/dev/null; then
		NA[$n]="not installed"
		continue
	fi
	mkdir -p "$(root_of "$k")"
	if rt "$k" create --bundle "$work/bundle-true" "$PFX-$n-probe" </dev/null >/dev/null 2>"$work/probe.err"; then
		rt "$k" delete --force "$PFX-$n-probe" >/dev/null 2>&1 || true
		present+=("$k")
	elif grep -qi hybrid "$work/probe.err"; then
		NA[$n]="$("${bins[$k]}" --version | head -1) refuses this host's hybrid cgroups ($(head -c 200 "$work/probe.err" | tr '\n' ' '))"
	else
		NA[$n]="create fails here: $(head -c 200 "$work/probe.err" | tr '\n' ' ')"
	fi
done
for n in "${names[@]}"; do [ -z "${NA[$n]:-}" ] || log "$n does not take part: ${NA[$n]}"; done
log "runtimes: $(for k in "${present[@]}"; do printf '%s ' "${names[$k]}"; done); sizes $SIZES; reps $REPS"

# the pid of a container's init, from its state (bash only)
init_pid() {
	local s
	s=$(rt "$1" state "$2") || return 1
	[[ $s =~ \"pid\":\ *([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}
wait_gone() { # PID: until the process is a zombie or gone
	local st
	while read -r st 2>/dev/null <"/proc/$1/stat" && [[ $st != *") Z "* ]]; do sleep 0.001; done
}

# ---- burst: BURST containers created and started at once ----
burst() { # K REP
	local k=$1 rep=$2 n=${names[$1]} i t0 t1 fails
	mkdir -p "$work/burst/$n.$rep"
	t0=${EPOCHREALTIME/./}
	for i in $(seq "$BURST"); do
		(
			id=$PFX-$n-b$rep-$i d=$work/burst/$n.$rep
			/usr/bin/time -f %M -o "$d/$i.create" "${bins[$k]}" --root "$(root_of "$k")" \
				create --bundle "$work/bundle-sleep" "$id" </dev/null >"$d/$i.log" 2>&1 &&
				/usr/bin/time -f %M -o "$d/$i.start" "${bins[$k]}" --root "$(root_of "$k")" \
					start "$id" </dev/null >>"$d/$i.log" 2>&1 ||
				touch "$d/$i.failed"
		) &
	done
	wait
	t1=${EPOCHREALTIME/./}
	T[burst,$n]+="$((t1 - t0))"$'\n'
	fails=$(find "$work/burst/$n.$rep" -name '*.failed' | wc -l)
	T[burstfail,$n]=$((${T[burstfail,$n]:-0} + fails))
	# the peak: the largest process, and the sum of the creates' peaks (what
	# BURST creates at once hold at most)
	T[burstrss,$n]+="$(cat "$work/burst/$n.$rep"/*.create "$work/burst/$n.$rep"/*.start 2>/dev/null |
		grep -E '^[0-9]+$' | sort -n | tail -1)"$'\n'
	T[burstsum,$n]+="$(cat "$work/burst/$n.$rep"/*.create 2>/dev/null | grep -E '^[0-9]+$' |
		awk '{s += $1} END {print s + 0}')"$'\n'
	rt "$k" list -q | grep -- "-b$rep-" | xargs -r -P 4 -n 1 "${bins[$k]}" --root "$(root_of "$k")" \
		delete --force >/dev/null 2>&1 || true
}
log "burst: $BURST at once, $HEAVY runs"
for rep in $(seq "$HEAVY"); do
	for k in "${present[@]}"; do burst "$k" "$rep"; done
done

# ---- procs: a container with PROCS processes ----
log "procs: a container with $PROCS processes"
for k in "${present[@]}"; do
	n=${names[$k]} id=$PFX-${names[$k]}-many
	rt "$k" create --bundle "$work/bundle-many" "$id" </dev/null >/dev/null 2>&1 || die "$n create many"
	rt "$k" start "$id" || die "$n start many"
	for i in $(seq 600); do
		got=$(rt "$k" ps --format json "$id" 2>/dev/null | jq length 2>/dev/null || echo 0)
		[ "${got:-0}" -ge "$PROCS" ] && break
		sleep 0.1
	done
	[ "${got:-0}" -ge "$PROCS" ] || die "$n: the container has $got processes, not $PROCS"
done
for rep in $(seq "$REPS"); do
	for k in "${present[@]}"; do
		n=${names[$k]} id=$PFX-${names[$k]}-many
		[ "$n" = crun ] || sample "events,$n" rt "$k" events --stats "$id"
		sample "ps,$n" rt "$k" ps "$id"
		sample "psjson,$n" rt "$k" ps --format json "$id"
	done
done
for k in "${present[@]}"; do rt "$k" delete --force "$PFX-${names[$k]}-many" >/dev/null 2>&1 || true; done

# ---- ops: state, list, create, exec, delete against the population ----
# grow K FROM TO: containers FROM+1..TO, a third each created, running and
# stopped, two at a time
cat >"$work/grow.sh" <<'EOF'
rt=$1 root=$2 prefix=$3 work=$4 i=$5
id=$prefix-$i
case $((i % 3)) in
0) "$rt" --root "$root" create --bundle "$work/bundle-sleep" "$id" ;;
1) "$rt" --root "$root" create --bundle "$work/bundle-sleep" "$id" && "$rt" --root "$root" start "$id" ;;
2) "$rt" --root "$root" create --bundle "$work/bundle-true" "$id" && "$rt" --root "$root" start "$id" ;;
esac </dev/null >"$work/grow.$prefix.$i.log" 2>&1 ||
	{ echo "$rt create $id: $(cat "$work/grow.$prefix.$i.log")" >&2; exit 255; }
rm -f "$work/grow.$prefix.$i.log"
EOF
grow() {
	local k=$1 from=$2 to=$3
	[ "$to" -gt "$from" ] || return 0
	seq $((from + 1)) "$to" | xargs -P 2 -n 1 bash "$work/grow.sh" "${bins[$k]}" "$(root_of "$k")" \
		"$PFX-${names[$k]}-p" "$work" || die "${names[$k]}: growing to $to containers failed"
}
for k in "${present[@]}"; do
	n=${names[$k]}
	rt "$k" create --bundle "$work/bundle-sleep" "$PFX-$n-target" </dev/null >/dev/null 2>&1 || die "$n create target"
	rt "$k" start "$PFX-$n-target" || die "$n start target"
done
have=0
for size in $SIZES; do
	log "ops: growing to $size containers per runtime"
	for k in "${present[@]}"; do grow "$k" "$have" "$size"; done
	have=$size
	log "ops: measuring at $size"
	for rep in $(seq "$REPS"); do
		for k in "${present[@]}"; do
			n=${names[$k]} id=$PFX-${names[$k]}-x$size-$rep
			sample "state,$n,$size" rt "$k" state "$PFX-$n-target"
			sample "list,$n,$size" rt "$k" list
			sample "exec,$n,$size" rt "$k" exec "$PFX-$n-target" /bin/true
			sample "create,$n,$size" rt "$k" create --bundle "$work/bundle-true" "$id"
			pid=$(init_pid "$k" "$id") || die "$n: no state for $id"
			rt "$k" start "$id" || die "$n start $id"
			wait_gone "$pid"
			sample "delete,$n,$size" rt "$k" delete "$id"
		done
	done
done
log "ops: removing the containers"
for k in "${present[@]}"; do
	rt "$k" list -q | xargs -r -P 4 -n 1 "${bins[$k]}" --root "$(root_of "$k")" delete --force \
		>/dev/null 2>&1 || true
done

# ---- store: husk-image list/pull/rm/gc against the number of images ----
himg() { "$HUSK_IMAGE" --store "$work/store" "$@"; }
IMAX=$NMAX
log "store: making $IMAX + 1 images"
python3 "$here/scale-images.py" "$work/images" tiny "$IMAX" img
python3 "$here/scale-images.py" "$work/images" tiny 1 probe
# an empty store to begin with
himg pull -q "oci:$work/images:probe-1" >/dev/null && himg rm "oci:$work/images:probe-1" &&
	himg gc >/dev/null || die "cannot make a store"
have=0
for size in $SIZES; do
	log "store: pulling up to $size images"
	for i in $(seq $((have + 1)) "$size"); do
		himg pull -q "oci:$work/images:img-$i" >/dev/null || die "pull img-$i"
	done
	have=$size
	for rep in $(seq "$REPS"); do
		sample "ilist,$size" himg list
		sample "ipull,$size" himg pull -q "oci:$work/images:probe-1"
		sample "irm,$size" himg rm "oci:$work/images:probe-1"
		sample "igc,$size" himg gc
	done
done
got=$(himg list -q | wc -l)
[ "$got" = "$IMAX" ] || die "the store lists $got images, not $IMAX"
rm -rf "$work/store" "$work/images"

# ---- layers: pull of images with many layers ----
have_registry=
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
	have_registry=1
	log "layers: $LAYER_SIZES layers, from a local registry"
	start_registry "$work/registry"
	echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$work/policy.json"
	for l in $LAYER_SIZES; do
		python3 "$here/scale-images.py" "$work/limages" layers "$l" "l$l"
		skopeo_copy "oci:$work/limages:l$l" "docker://$REGISTRY/l$l:latest"
	done
	for rep in $(seq "$REPS"); do
		for l in $LAYER_SIZES; do
			ref=docker://$REGISTRY/l$l:latest
			rm -rf "$work/store" "$work/skopeo"
			sample "lpull,$l" himg pull -q --tls-verify=false "$ref"
			sample "lunpack,$l" himg unpack "$ref" "$work/lb"
			rm -rf "$work/lb"
			sample "lskopeo,$l" skopeo --policy "$work/policy.json" copy -q --src-tls-verify=false \
				"$ref" "oci:$work/skopeo:l$l"
		done
	done
	rm -rf "$work/store" "$work/skopeo" "$work/limages"
	stop_registry
	unset REGISTRY_PID
else
	log "layers: skipped (docker-registry or skopeo is not installed)"
fi

# ---- entries: unpack of a layer with many entries ----
for e in $ENTRY_SIZES; do
	log "entries: a layer of $e entries"
	python3 "$here/scale-images.py" "$work/eimages" entries "$e" "e$e"
	himg pull -q "oci:$work/eimages:e$e" >/dev/null || die "pull e$e"
	layer=$work/eimages/blobs/sha256/$(jq -r '.layers[0].digest' \
		"$work/eimages/blobs/sha256/$(jq -r --arg t "e$e" \
			'.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
			"$work/eimages/index.json" | cut -d: -f2)" | cut -d: -f2)
	for rep in $(seq "$HEAVY"); do
		sample "eunpack,$e" himg unpack "oci:$work/eimages:e$e" "$work/eb"
		rm -rf "$work/eb"
		mkdir "$work/tarx"
		sample "etar,$e" tar -C "$work/tarx" -xzf "$layer"
		rm -rf "$work/tarx"
	done
	rm -rf "$work/store" "$work/eimages"
done

# ---- overlay: BUNDLES bundles from one image ----
log "overlay: $BUNDLES bundles, full and --overlay"
python3 "$here/scale-images.py" "$work/oimages" files 2000 4096 app
ref=oci:$work/oimages:app
himg pull -q "$ref" >/dev/null
used() { df --output=used -k "$work" | tail -1; }
mkdir "$work/full" "$work/ov"
u0=$(used)
t0=${EPOCHREALTIME/./}
for i in $(seq "$BUNDLES"); do sample ofull himg unpack "$ref" "$work/full/b$i"; done
t1=${EPOCHREALTIME/./}
T[ofulltotal]=$((t1 - t0))
T[ofulldisk]=$(($(used) - u0))
rm -rf "$work/full"
u0=$(used)
t0=${EPOCHREALTIME/./}
sample ocold himg unpack --overlay "$ref" "$work/ov/b1"
for i in $(seq 2 "$BUNDLES"); do sample owarm himg unpack --overlay "$ref" "$work/ov/b$i"; done
t1=${EPOCHREALTIME/./}
T[ovtotal]=$((t1 - t0))
T[ovdisk]=$(($(used) - u0))
for i in $(seq "$BUNDLES"); do himg umount --rm "$work/ov/b$i" >/dev/null 2>&1 || true; done

# ---- the table ----
log "writing $OUT/scale.txt, scale.svg"
mkdir -p "$OUT"
{
	echo "bench/scale.sh: SCALE_MAX=$SCALE_MAX REPS=$REPS, $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "husk $("$HUSK" --version | head -1 | awk '{print $NF}'); $(runc --version 2>/dev/null | head -1); $(crun --version 2>/dev/null | head -1)"
	if [ -n "${SCALE_HIDE_UNIFIED:-}" ]; then
		echo "cgroups: v1 (SCALE_HIDE_UNIFIED: the host's v2 tree hidden in a private mount namespace)"
	else
		echo "cgroups: $(if [ -e /sys/fs/cgroup/cgroup.controllers ]; then echo v2; elif [ -d /sys/fs/cgroup/unified ]; then echo hybrid; else echo v1; fi)"
	fi
	for n in "${names[@]}"; do [ -z "${NA[$n]:-}" ] || echo "$n: not measured: ${NA[$n]}"; done
	echo
	echo "Per-container verbs, ms (median of $REPS) with N containers already there"
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "NaN" && b != "NaN" && b > 0) printf "%.2f", a / b; else print "-" }'; }
	printf '%-8s %6s %10s %10s %10s %10s %10s\n' verb N husk runc crun husk/runc husk/crun
	for op in state list create exec delete; do
		for size in $SIZES; do
			h=$(med_ms "$op,husk,$size") r=$(med_ms "$op,runc,$size") c=$(med_ms "$op,crun,$size")
			printf '%-8s %6s %10s %10s %10s %10s %10s\n' "$op" "$size" "$h" "$r" "$c" \
				"$(ratio "$h" "$r")" "$(ratio "$h" "$c")"
		done
	done
	echo
	echo "$BURST containers created and started at once (median of $HEAVY)"
	printf '%-26s %10s %10s %10s\n' "" husk runc crun
	row() { # LABEL KEY-PREFIX FORMAT-AWK
		local label=$1 key=$2 h r c
		h=$(printf '%s' "${T[$key,husk]:-}" | median) r=$(printf '%s' "${T[$key,runc]:-}" | median)
		c=$(printf '%s' "${T[$key,crun]:-}" | median)
		printf '%-26s %10s %10s %10s\n' "$label" "$(awk -v v="$h" "$3")" "$(awk -v v="$r" "$3")" "$(awk -v v="$c" "$3")"
	}
	row "wall ms" burst 'BEGIN { if (v == "NaN") print "-"; else printf "%.0f", v / 1000 }'
	printf '%-26s %10s %10s %10s\n' "failures (all runs)" "${T[burstfail,husk]:-"-"}" \
		"${T[burstfail,runc]:-"-"}" "${T[burstfail,crun]:-"-"}"
	row "largest process RSS MB" burstrss 'BEGIN { if (v == "NaN") print "-"; else printf "%.1f", v / 1024 }'
	row "sum of create RSS MB" burstsum 'BEGIN { if (v == "NaN") print "-"; else printf "%.0f", v / 1024 }'
	echo
	echo "A container with $PROCS processes, ms (median of $REPS)"
	printf '%-26s %10s %10s %10s\n' "" husk runc crun
	for op in events ps psjson; do
		label=$op
		[ "$op" = events ] && label="events --stats"
		[ "$op" = psjson ] && label="ps --format json"
		printf '%-26s %10s %10s %10s\n' "$label" "$(med_ms "$op,husk")" "$(med_ms "$op,runc")" \
			"$(med_ms "$op,crun")"
	done
	echo "(crun 1.8 has no events verb)"
	echo
	echo "husk-image store, ms (median of $REPS) with N images in it"
	printf '%-8s %10s %10s %10s %10s\n' N list pull rm gc
	for size in $SIZES; do
		printf '%-8s %10s %10s %10s %10s\n' "$size" "$(med_ms "ilist,$size")" "$(med_ms "ipull,$size")" \
			"$(med_ms "irm,$size")" "$(med_ms "igc,$size")"
	done
	echo "(pull, rm and gc of one more tiny image, from an oci: layout)"
	echo
	if [ -n "$have_registry" ]; then
		echo "Images of L layers from a local registry, ms (median of $REPS)"
		printf '%-8s %12s %12s %12s\n' L "husk pull" "husk unpack" "skopeo copy"
		for l in $LAYER_SIZES; do
			printf '%-8s %12s %12s %12s\n' "$l" "$(med_ms "lpull,$l")" "$(med_ms "lunpack,$l")" \
				"$(med_ms "lskopeo,$l")"
		done
		echo
	fi
	echo "Unpack of one gzip layer of E entries, ms (median of $HEAVY)"
	printf '%-8s %12s %12s %10s\n' E "husk unpack" "tar -xzf" husk/tar
	for e in $ENTRY_SIZES; do
		h=$(med_ms "eunpack,$e") t=$(med_ms "etar,$e")
		printf '%-8s %12s %12s %10s\n' "$e" "$h" "$t" "$(awk -v a="$h" -v b="$t" 'BEGIN { printf "%.2f", a / b }')"
	done
	echo
	echo "$BUNDLES bundles of one image (2000 files of 4 kB)"
	printf '%-22s %12s %12s %12s\n' "" "total ms" "per bundle" "disk MB"
	printf '%-22s %12.0f %12s %12.1f\n' "full unpack" "$((T[ofulltotal] / 1000))" "$(med_ms ofull)" \
		"$(awk -v k="${T[ofulldisk]}" 'BEGIN { print k / 1024 }')"
	printf '%-22s %12.0f %12s %12.1f\n' "unpack --overlay" "$((T[ovtotal] / 1000))" "$(med_ms owarm)" \
		"$(awk -v k="${T[ovdisk]}" 'BEGIN { print k / 1024 }')"
	echo "(--overlay per bundle: after the first, which filled the layer cache in $(med_ms ocold) ms)"
} >"$OUT/scale.txt"

# ---- the data and the plot ----
{
	echo "# N  then husk runc crun for: state list create exec delete (ms; NaN: not measured)"
	for size in $SIZES; do
		line=$size
		for op in state list create exec delete; do
			for n in husk runc crun; do line+=" $(med_ms "$op,$n,$size")"; done
		done
		echo "$line"
	done
} >"$OUT/scale-ops.dat"
{
	echo "# N  list pull rm gc (ms)"
	for size in $SIZES; do
		echo "$size $(med_ms "ilist,$size") $(med_ms "ipull,$size") $(med_ms "irm,$size") $(med_ms "igc,$size")"
	done
} >"$OUT/scale-store.dat"
{
	echo "# entries  husk-unpack tar-xzf (ms)"
	for e in $ENTRY_SIZES; do echo "$e $(med_ms "eunpack,$e") $(med_ms "etar,$e")"; done
} >"$OUT/scale-entries.dat"
{
	echo "# layers  husk-pull husk-unpack skopeo-copy (ms)"
	for l in $LAYER_SIZES; do echo "$l $(med_ms "lpull,$l") $(med_ms "lunpack,$l") $(med_ms "lskopeo,$l")"; done
} >"$OUT/scale-layers.dat"

plot_results
cat "$OUT/scale.txt"
