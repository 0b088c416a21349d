#!/usr/bin/env bats
# husk-image copy: images written into an OCI image layout that the other
# OCI tools (skopeo, umoci) read, and back.

load helpers
load image-helpers

setup_file() {
	[ -x "$HUSK_IMAGE_BIN" ] || skip "husk-image is not built (configure --disable-image)"
	export FIX=$BATS_FILE_TMPDIR
	local L=$FIX/layout tpl
	tpl=$(busybox_rootfs_template)
	oci_init "$L"
	mkdir -p "$FIX/extra"
	echo "copied" >"$FIX/extra/marker"
	img_begin
	img_layer_dir "$L" "$tpl" gzip
	img_layer_dir "$L" "$FIX/extra" gzip
	img_commit "$L" src '{"Cmd":["/bin/cat","/marker"]}'
	export SRC_MANIFEST=$IMG_MANIFEST
}

setup() {
	setup_common
	STORE=$TEST_TMP/store
}

teardown() {
	teardown_common
}

blob_count() {
	find "$1/blobs/sha256" -type f | wc -l
}

@test "copy from the store into a new layout: skopeo and umoci read it, the image is the same" {
	husk_image pull "oci:$FIX/layout:src" >/dev/null
	run husk_image copy "oci:$FIX/layout:src" "oci:$TEST_TMP/out:v1"
	[ "$status" -eq 0 ]
	[ "$output" = "$SRC_MANIFEST" ]
	# the layout is complete and names the image v1
	[ "$(jq -r .imageLayoutVersion "$TEST_TMP/out/oci-layout")" = 1.0.0 ]
	[ "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v1") | .digest' \
		"$TEST_TMP/out/index.json")" = "$SRC_MANIFEST" ]
	[ "$(blob_count "$TEST_TMP/out")" -eq 4 ] # config, manifest, two layers
	if command -v skopeo >/dev/null; then
		run skopeo inspect --raw "oci:$TEST_TMP/out:v1"
		[ "$status" -eq 0 ]
		[ "$(jq -r '.layers | length' <<<"$output")" -eq 2 ]
	fi
	if command -v umoci >/dev/null && [ "$(id -u)" -eq 0 ]; then
		umoci unpack --image "$TEST_TMP/out:v1" "$TEST_TMP/umoci-bundle" >/dev/null
		[ "$(cat "$TEST_TMP/umoci-bundle/rootfs/marker")" = copied ]
		[ -x "$TEST_TMP/umoci-bundle/rootfs/bin/busybox" ]
	fi
}

@test "copy between layouts directly; a second tag shares the blobs" {
	husk_image copy "oci:$FIX/layout:src" "oci:$TEST_TMP/out:a" >/dev/null
	local before
	before=$(blob_count "$TEST_TMP/out")
	run husk_image copy "oci:$FIX/layout:src" "oci:$TEST_TMP/out:b"
	[ "$status" -eq 0 ]
	[ "$(blob_count "$TEST_TMP/out")" -eq "$before" ]
	[ "$(jq '.manifests | length' "$TEST_TMP/out/index.json")" -eq 2 ]
	# and back into a store: husk-image unpacks what it wrote
	husk_image pull "oci:$TEST_TMP/out:b" >/dev/null
	husk_image unpack "oci:$TEST_TMP/out:b" "$TEST_TMP/bundle"
	[ "$(cat "$TEST_TMP/bundle/rootfs/marker")" = copied ]
}

@test "copy errors: a destination that is not oci:, a missing image, and nothing written" {
	run husk_image copy "oci:$FIX/layout:src" "docker://localhost/x:y"
	[ "$status" -eq 1 ]
	[[ "$output" == *'"docker://localhost/x:y": the destination must be oci:DIR[:TAG]'* ]]
	run husk_image copy "oci:$FIX/layout:nosuchtag" "oci:$TEST_TMP/out:v1"
	[ "$status" -ne 0 ]
	[[ "$output" == *nosuchtag* ]]
	# the layout may exist, but names nothing and holds no blob
	if [ -e "$TEST_TMP/out/index.json" ]; then
		[ "$(jq '.manifests | length' "$TEST_TMP/out/index.json")" -eq 0 ]
		[ "$(blob_count "$TEST_TMP/out")" -eq 0 ]
	fi
	run husk_image copy "oci:$FIX/layout:src"
	[[ "$output" == *"missing argument: expected SRC and oci:DIR[:TAG]"* ]]
	[ "$status" -eq 1 ]
}
