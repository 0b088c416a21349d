#!/bin/bash
# Instant bundles: `husk-image unpack` (a full extraction) against
# `husk-image unpack --overlay` once the layers are in the store's layer
# cache, for a small image (busybox, one layer) and a large one (five
# layers: busybox, all of the host's /usr/share in three, python, then a
# layer of whiteouts and an opaque directory). Prints the median wall time
# of each over N runs and the ratio full / cached overlay (the target:
# >= 100). The first --overlay bundle, which fills the cache, is shown
# once; "exec-ms" is `husk-image --version`, the floor any command pays to
# start (its shared libraries).
#
# Everything runs on a tmpfs in a private mount namespace (the disk here
# is slow for metadata, and the overlay mounts must not outlive the run).
# Usage: bench/overlay-bundle.sh [N] (default 10). Needs root.
set -euo pipefail
N=${1:-10}
here=$(cd "$(dirname "$0")" && pwd)
HUSK_IMAGE=${HUSK_IMAGE:-$here/../husk-image}

if [ -z "${HUSK_BENCH_INNER:-}" ]; then
	exec unshare --mount --propagation private env HUSK_BENCH_INNER=1 "$0" "$@"
fi
work=$(mktemp -d /tmp/husk-bench.XXXXXX)
mount -t tmpfs -o size=8g tmpfs "$work"
trap 'umount -R "$work"; rmdir "$work"' EXIT
export FIXTURE_TMP=$work
# shellcheck source=tests/bats/fixtures.bash
. "$here/../tests/bats/fixtures.bash"

L=$work/layout
oci_init "$L"

# small: busybox
busybox_rootfs "$work/bb"
img_begin
img_layer_dir "$L" "$work/bb" gzip
img_commit "$L" small '{"Cmd":["/bin/true"]}'

# large: busybox, then three layers of the host's /usr, then changes
layer_of() { # DIR SRC...: a layer DIR holding copies of the SRC paths
	local d=$1 src
	shift
	for src in "$@"; do
		mkdir -p "$d$(dirname "$src")"
		cp -a "$src" "$d$src"
	done
	img_layer_dir "$L" "$d" gzip
}
img_begin
img_layer_dir "$L" "$work/bb" gzip
share=(/usr/share/*)
third=$(((${#share[@]} + 2) / 3))
layer_of "$work/l1" "${share[@]:0:third}"
layer_of "$work/l2" "${share[@]:third:third}"
layer_of "$work/l3" "${share[@]:2*third}" /usr/lib/python3.11
mkdir -p "$work/l4/usr/share/locale" "$work/l4/usr/share/doc"
docs=(/usr/share/doc/*)
for d in "${docs[@]:0:200}"; do : >"$work/l4/usr/share/doc/.wh.${d##*/}"; done
: >"$work/l4/usr/share/locale/.wh..wh..opq"
echo "only this" >"$work/l4/usr/share/locale/README"
img_layer_dir "$L" "$work/l4" gzip
img_commit "$L" large '{"Cmd":["/bin/true"]}'
rm -rf "$work"/bb "$work"/l[1-4]

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { awk -v ns="$1" 'BEGIN {printf "%.1f", ns / 1e6}'; }

exec_ns=$(for i in $(seq "$N"); do
	t0=$(now)
	"$HUSK_IMAGE" --version >/dev/null
	echo $(($(now) - t0))
done | median)
printf '%-6s %6s %7s %6s %9s %8s %11s %11s %7s\n' image layers entries MB full-ms exec-ms \
	overlay1-ms overlay2-ms ratio
for tag in small large; do
	ref=oci:$L:$tag
	full=() warm=()
	for i in $(seq "$N"); do
		t0=$(now)
		"$HUSK_IMAGE" unpack "$ref" "$work/full-$i" >/dev/null
		full+=($(($(now) - t0)))
		rm -rf "$work/full-$i"
	done
	"$HUSK_IMAGE" unpack "$ref" "$work/count" >/dev/null
	entries=$(find "$work/count/rootfs" | wc -l)
	mb=$(du -sm "$work/count/rootfs" | cut -f1)
	rm -rf "$work/count"
	rm -rf "$L/layers"
	t0=$(now)
	"$HUSK_IMAGE" unpack --overlay "$ref" "$work/cold" >/dev/null
	cold=$(($(now) - t0))
	"$HUSK_IMAGE" umount --rm "$work/cold"
	for i in $(seq "$N"); do
		t0=$(now)
		"$HUSK_IMAGE" unpack --overlay "$ref" "$work/ov-$i" >/dev/null
		warm+=($(($(now) - t0)))
		"$HUSK_IMAGE" umount --rm "$work/ov-$i"
	done
	fm=$(printf '%s\n' "${full[@]}" | median)
	wm=$(printf '%s\n' "${warm[@]}" | median)
	layers=$(jq '.layers | length' "$L/blobs/sha256/$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$L/index.json" | cut -d: -f2)")
	printf '%-6s %6s %7s %6s %9s %8s %11s %11s %6.0fx\n' "$tag" "$layers" "$entries" "$mb" \
		"$(ms "$fm")" "$(ms "$exec_ns")" "$(ms "$cold")" "$(ms "$wm")" \
		"$(awk -v a="$fm" -v b="$wm" 'BEGIN {print a / b}')"
done
echo "(medians of $N runs on tmpfs; overlay1 fills the layer cache, overlay2 reuses it)"
