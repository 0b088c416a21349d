# Benchmarks: run by hand (never by make check), shipped in the tarball.
EXTRA_DIST += bench/seccomp-cache.c bench/seccomp-cache.sh
EXTRA_DIST += bench/lifecycle.sh bench/exec-protect.sh bench/exe-view.c bench/pull-unpack.sh
EXTRA_DIST += bench/overlay-bundle.sh bench/load.sh bench/scale.sh bench/scale-images.py
# the latest bench/scale.sh run, which the README shows
EXTRA_DIST += bench/results/scale.txt bench/results/scale.svg bench/results/scale-ops.dat \
	bench/results/scale-store.dat bench/results/scale-layers.dat bench/results/scale-entries.dat
