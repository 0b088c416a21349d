#!/bin/sh
# The main job: build husk and show it on this machine.
set -e
cd "$(dirname "$0")/.."
contrib/deps.sh demo
[ -x configure ] || ./autogen.sh >/dev/null
[ -f Makefile ] || ./configure -q
make -s -j"$(nproc)"
./husk --version
./husk features
