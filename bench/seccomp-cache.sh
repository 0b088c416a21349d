#!/bin/sh
# Time seccomp_prepare for a large profile (tests/unit/data/seccomp-docker-like.json,
# ~370 syscalls, 3 architectures): compiled by libseccomp vs loaded from the
# program cache. Each sample is a fresh process, as every "husk create" is.
#   bench/seccomp-cache.sh [BUILDDIR] [SAMPLES]
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-$srcdir}
samples=${2:-200}
profile=$srcdir/tests/unit/data/seccomp-docker-like.json
work=$(mktemp -d /tmp/husk-bench-seccomp.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

cflags="-std=gnu11 -O2 -Ulinux -include $builddir/config.h -I$srcdir -I$builddir"
# shellcheck disable=SC2086 # word splitting of the flags is intended
cc $cflags $(pkg-config --cflags libseccomp yajl) -o "$work/bench" \
	"$srcdir/bench/seccomp-cache.c" "$srcdir/runtime/linux/seccomp.c" \
	"$builddir/liboci-spec.a" "$builddir/libcommon.a" $(pkg-config --libs libseccomp yajl)

stats() { # label, file of "usec kind len" lines
	sort -n "$2" | awk -v label="$1" '{ v[NR] = $1; sum += $1; kind = $2; len = $3 }
		END { printf "%-26s %5d runs  median %8.1f us  p90 %8.1f us  mean %8.1f us  (%s, %d insns)\n",
			label, NR, v[int((NR + 1) / 2)], v[int(NR * 0.9)], sum / NR, kind, len }'
}

i=0
while [ $i -lt "$samples" ]; do
	"$work/bench" "$profile" - 1 >>"$work/compile"
	i=$((i + 1))
done
"$work/bench" "$profile" "$work/cache" 1 >/dev/null # fill the cache
i=0
while [ $i -lt "$samples" ]; do
	"$work/bench" "$profile" "$work/cache" 1 >>"$work/cached"
	i=$((i + 1))
done
grep -q compile "$work/cached" && { echo "cache missed" >&2; exit 1; }
"$work/bench" "$profile" - "$samples" >"$work/compile-warm"
"$work/bench" "$profile" "$work/cache" "$samples" >"$work/cached-warm"

echo "seccomp_prepare, $(basename "$profile"), libseccomp $(pkg-config --modversion libseccomp), $(uname -r)"
stats "compile (fresh process)" "$work/compile"
stats "cache hit (fresh process)" "$work/cached"
stats "compile (same process)" "$work/compile-warm"
stats "cache hit (same process)" "$work/cached-warm"
