#!/bin/bash
# The main job, as root on Debian 12: build husk, make a busybox OCI image
# from busybox-static, serve it from a local registry (docker-registry on
# 127.0.0.1, pushed with skopeo), pull it with husk-image, unpack it into a
# bundle and run it with husk. Everything it starts or creates goes away at
# the end, on failure too; any failed step fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
contrib/deps.sh demo
[ -x configure ] || ./autogen.sh >/dev/null
[ -f Makefile ] || ./configure -q
make -s -j"$(nproc)" >/dev/null
. tests/bats/fixtures.bash

work=$(mktemp -d "${TMPDIR:-/tmp}/husk-demo.XXXXXX")
export FIXTURE_TMP=$work
cleanup() {
	./husk --root "$work/state" delete --force demo >/dev/null 2>&1 || true
	stop_registry
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
step() { printf '\n== %s\n' "$*"; }

step "an OCI image of $(command -v busybox), one layer"
busybox_rootfs "$work/rootfs"
oci_init "$work/layout"
img_begin
img_layer_dir "$work/layout" "$work/rootfs" gzip
img_commit "$work/layout" latest '{"Cmd":["/bin/sh"],"Env":["PATH=/bin"]}'
echo "$IMG_MANIFEST"

start_registry "$work/registry"
ref=docker://$REGISTRY/demo/busybox:latest
step "docker-registry on $REGISTRY (pid $REGISTRY_PID); skopeo pushes $ref"
skopeo_copy "oci:$work/layout:latest" "$ref"

step "husk-image pull $ref"
image() { ./husk-image --store "$work/store" "$@"; }
image pull -q --tls-verify=false "$ref"
image list

step "husk-image unpack into a bundle"
image unpack "$ref" "$work/bundle"
jq '.process.args = ["sh", "-c", "echo hello from husk; uname -a; id"]' \
	"$work/bundle/config.json" >"$work/config.json"
mv "$work/config.json" "$work/bundle/config.json"
jq -c .process.args "$work/bundle/config.json"

step "husk run"
./husk --root "$work/state" run -b "$work/bundle" demo
step "done: the registry stops and the temp dir goes"
