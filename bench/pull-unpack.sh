#!/bin/bash
# Pull + unpack, husk-image against skopeo copy + umoci unpack, side by
# side in one run, on a private tmpfs (the disk here is slow for metadata):
#   small  busybox from Debian's busybox-static, one gzip layer
#   large  7 gzip layers made from this machine's /usr (hundreds of MB,
#          tens of thousands of entries), later layers with whiteouts,
#          opaque directories, replacements and hardlinks
# Both are built here (nothing is downloaded) and pushed to a local
# docker-registry on 127.0.0.1. The floor is what plain tools need for the
# same layers: `gzip -dc` of every layer, and `tar -xzf` of each layer in
# order into one directory. Medians of N runs (default 5); ratios are
# husk-image to the others.
#   bench/pull-unpack.sh [N]        needs root, docker-registry, skopeo, umoci
# HUSK_IMAGE overrides the binary. BENCH_LAYOUT=DIR only writes the two
# images to the OCI layout DIR (for profiling) and exits.
set -euo pipefail
N=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
HUSK_IMAGE=${HUSK_IMAGE:-$here/../husk-image}
HUSK_IMAGE=$(realpath "$HUSK_IMAGE")

for tool in docker-registry skopeo umoci busybox gzip tar jq sha256sum; do
	command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "run as root (umoci unpack and owners need it)" >&2; exit 1; }
[ -x "$HUSK_IMAGE" ] || { echo "$HUSK_IMAGE is not built" >&2; exit 1; }

# a private mount namespace: the tmpfs goes away with the script
if [ -z "${HUSK_BENCH_INNER:-}" ]; then
	exec unshare --mount --propagation private env HUSK_BENCH_INNER=1 "$0" "$@"
fi
work=$(mktemp -d /tmp/husk-bench-pull.XXXXXX)
mount -t tmpfs -o size=12g,mode=0700 husk-bench "$work"
cleanup() {
	stop_registry
	umount -l "$work" 2>/dev/null || true
	rmdir "$work" 2>/dev/null || true
}
trap cleanup EXIT
export FIXTURE_TMP=$work
# shellcheck source=tests/bats/fixtures.bash
. "$here/../tests/bats/fixtures.bash"

L=$work/layout
oci_init "$L"

# ---- the small image: busybox ----
busybox_rootfs "$work/bb"
img_begin
img_layer_dir "$L" "$work/bb" gzip
img_commit "$L" small '{"Cmd":["/bin/sh"]}'
rm -rf "$work/bb"

# ---- the large image ----
# tar_layer NAME -C DIR PATHS...: a layer from paths under DIR, as an
# image builder writes it (sorted, numeric owners)
tar_layer() {
	local name=$1
	shift
	tar --numeric-owner --sort=name --mtime=@1700000000 -cf "$work/$name.tar" "$@"
	img_layer "$L" "$work/$name.tar" gzip
	rm -f "$work/$name.tar"
}
have() { # the paths under /usr that exist here
	local p
	for p in "$@"; do [ -e "/$p" ] && echo "$p"; done
}
img_begin
# shellcheck disable=SC2046 # one word per path
tar_layer l1 -C / $(have usr/include usr/lib/python3)
# shellcheck disable=SC2046
tar_layer l2 -C / $(have usr/share/man)
# shellcheck disable=SC2046
tar_layer l3 -C / $(have usr/share/doc)
# shellcheck disable=SC2046
tar_layer l4 -C / $(have usr/share/icons usr/share/vim usr/share/zoneinfo usr/share/i18n)

# layer 5: every 10th package's docs whited out, some man sections made
# opaque with new content, 2000 new small files
m5=$work/m5
mkdir -p "$m5/usr/share/doc" "$m5/usr/share/gen5"
find /usr/share/doc -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | awk 'NR % 10 == 0' |
	while read -r d; do : >"$m5/usr/share/doc/.wh.$d"; done
for sec in man2 man3; do
	if [ -d "/usr/share/man/$sec" ]; then
		mkdir -p "$m5/usr/share/man/$sec"
		: >"$m5/usr/share/man/$sec/.wh..wh..opq"
		echo "replaced $sec" >"$m5/usr/share/man/$sec/README"
	fi
done
for i in $(seq 2000); do echo "file $i" >"$m5/usr/share/gen5/f$i"; done
tar_layer l5 -C "$m5" usr
# layer 6: every 20th header whited out, 100 hardlinks to a new file
m6=$work/m6
mkdir -p "$m6/usr/include" "$m6/usr/share/links"
(cd /usr/include && find . -type f | sort | awk 'NR % 20 == 0') | while read -r f; do
	mkdir -p "$m6/usr/include/$(dirname "$f")"
	: >"$m6/usr/include/$(dirname "$f")/.wh.$(basename "$f")"
done
head -c 65536 /dev/urandom >"$m6/usr/share/links/data"
for i in $(seq 100); do ln "$m6/usr/share/links/data" "$m6/usr/share/links/h$i"; done
tar_layer l6 -C "$m6" usr
# layer 7: a small update (files rewritten, some removed again)
m7=$work/m7
mkdir -p "$m7/usr/share/gen5"
for i in $(seq 1 10 2000); do echo "rewritten $i" >"$m7/usr/share/gen5/f$i"; done
for i in $(seq 5 10 2000); do : >"$m7/usr/share/gen5/.wh.f$i"; done
tar_layer l7 -C "$m7" usr
rm -rf "$m5" "$m6" "$m7"
img_commit "$L" large '{"Cmd":["/bin/sh"]}'
if [ -n "${BENCH_LAYOUT:-}" ]; then
	# only the images, as an OCI layout (tags small and large), for profiling
	mkdir -p "$BENCH_LAYOUT"
	cp -a "$L/." "$BENCH_LAYOUT/"
	echo "images written to $BENCH_LAYOUT"
	exit 0
fi

start_registry "$work/registry"
for img in small large; do
	skopeo_copy "oci:$L:$img" "docker://$REGISTRY/$img:latest"
done
rm -rf "$L"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A T # T[image,what] = "ms ms ms ...", C[image,what] the CPU ms
declare -A C

# step IMAGE WHAT COMMAND...: run it, record its wall and CPU (user + sys,
# children included) milliseconds; STEP_WALL/STEP_CPU hold them
step() {
	local img=$1 what=$2 TIMEFORMAT='%3R %3U %3S' wall user sys
	shift 2
	{ time "$@" >/dev/null 2>"$work/step.err"; } 2>"$work/step.time" ||
		{ cat "$work/step.err" >&2; return 1; }
	read -r wall user sys <"$work/step.time"
	STEP_WALL=$(awk -v v="$wall" 'BEGIN { printf "%d", v * 1000 }')
	STEP_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1000 }')
	T[$img,$what]+="$STEP_WALL "
	C[$img,$what]+="$STEP_CPU "
}
# total IMAGE WHAT WALL CPU: a line that sums steps
total() { T[$1,$2]+="$3 "; C[$1,$2]+="$4 "; }

gunzip_all() { local d; for d in "$@"; do gzip -dc "$d" >/dev/null; done; }
untar_all() { local d; for d in "$@"; do tar -C "$work/tarx" -xzf "$d"; done; }

# one run of everything for one image, each from a clean state
run_once() {
	local img=$1 ref=docker://$REGISTRY/$1:latest store=$work/store w c
	rm -rf "$store" "$work/b" "$work/skl" "$work/ub" "$work/tarx"

	step "$img" husk-pull "$HUSK_IMAGE" --store "$store" pull -q --tls-verify=false "$ref"
	w=$STEP_WALL c=$STEP_CPU
	step "$img" husk-unpack "$HUSK_IMAGE" --store "$store" unpack "$ref" "$work/b"
	total "$img" husk $((w + STEP_WALL)) $((c + STEP_CPU))
	rm -rf "$work/b"

	step "$img" skopeo-copy skopeo --policy "$work/policy.json" copy -q --src-tls-verify=false \
		"$ref" "oci:$work/skl:$img"
	w=$STEP_WALL c=$STEP_CPU
	step "$img" umoci-unpack umoci unpack --image "$work/skl:$img" "$work/ub"
	total "$img" skopeo+umoci $((w + STEP_WALL)) $((c + STEP_CPU))
	rm -rf "$work/ub"

	# the floor, from the layers skopeo fetched (in the manifest's order)
	local manifest layers=() d
	manifest=$(jq -r '.manifests[0].digest' "$work/skl/index.json")
	for d in $(jq -r '.layers[].digest' "$work/skl/blobs/sha256/${manifest#sha256:}"); do
		layers+=("$work/skl/blobs/sha256/${d#sha256:}")
	done
	step "$img" "gzip -dc" gunzip_all "${layers[@]}"
	mkdir "$work/tarx"
	step "$img" "tar -xzf" untar_all "${layers[@]}"
	rm -rf "$work/tarx" "$work/skl" "$store"
}

echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$work/policy.json"
describe() { # IMAGE: layers, compressed and uncompressed size, entries
	local ref=docker://$REGISTRY/$1:latest store=$work/desc m n=0 z=0 u=0 e=0 d blob
	"$HUSK_IMAGE" --store "$store" pull -q --tls-verify=false "$ref" >"$work/digest"
	m=$store/blobs/sha256/$(cut -c8- "$work/digest")
	for d in $(jq -r '.layers[].digest' "$m"); do
		blob=$store/blobs/sha256/${d#sha256:}
		n=$((n + 1))
		z=$((z + $(stat -c %s "$blob")))
		u=$((u + $(gzip -dc "$blob" | wc -c)))
		e=$((e + $(tar -tzf "$blob" | wc -l)))
	done
	rm -rf "$store"
	printf '%-6s %d layers, %d MB compressed, %d MB uncompressed, %d tar entries\n' \
		"$1" "$n" $((z / 1000000)) $((u / 1000000)) "$e"
}
describe small
describe large

for i in $(seq "$N"); do
	for img in small large; do run_once "$img"; done
done

med() { tr ' ' '\n' <<<"${T[$1,$2]}" | grep . | median; }
cmed() { tr ' ' '\n' <<<"${C[$1,$2]}" | grep . | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
printf '%-6s %-14s %9s %9s %12s %12s\n' image what "wall ms" "CPU ms" "husk/this" "husk/this"
printf '%-6s %-14s %9s %9s %12s %12s\n' "" "" "" "" "(wall)" "(CPU)"
for img in small large; do
	h=$(med "$img" husk) hc=$(cmed "$img" husk)
	for what in husk-pull husk-unpack husk skopeo-copy umoci-unpack skopeo+umoci "gzip -dc" "tar -xzf"; do
		v=$(med "$img" "$what") vc=$(cmed "$img" "$what") r='' rc=
		case $what in
		skopeo+umoci | "gzip -dc" | "tar -xzf") r=$(ratio "$h" "$v") rc=$(ratio "$hc" "$vc") ;;
		esac
		printf '%-6s %-14s %9s %9s %12s %12s\n' "$img" "$what" "$v" "$vc" "$r" "$rc"
	done
done
echo "(medians of $N runs on tmpfs, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;"
echo " husk = husk-image pull + unpack; husk/this = husk's total over that line)"
