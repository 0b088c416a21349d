#!/usr/bin/env bats
# The whole story: an image unpacked by husk-image runs under husk as the
# image config says (args, env, working dir, user), with no edits.

load helpers
load image-helpers

setup_file() {
	[ -x "$HUSK_IMAGE_BIN" ] || skip "husk-image is not built (configure --disable-image)"
	export FIX=$BATS_FILE_TMPDIR
	local L=$FIX/layout tpl
	tpl=$(busybox_rootfs_template)
	oci_init "$L"
	mkdir -p "$FIX/app/srv/app" "$FIX/app/etc"
	cp "$tpl/etc/passwd" "$tpl/etc/group" "$FIX/app/etc/"
	echo 'alice:x:1000:1001:Alice:/home/alice:/bin/sh' >>"$FIX/app/etc/passwd"
	echo 'staff:x:1001:' >>"$FIX/app/etc/group"
	img_begin
	img_layer_dir "$L" "$tpl" gzip
	img_layer_dir "$L" "$FIX/app" gzip
	img_commit "$L" app '{"Entrypoint":["/bin/sh","-c"],
		"Cmd":["echo \"$(id -u):$(id -g) $(pwd) $GREETING\"; exit 7"],
		"Env":["GREETING=hello from the image","PATH=/bin"],
		"WorkingDir":"/srv/app","User":"alice"}'
}

setup() {
	require_root
	setup_common
	STORE=$TEST_TMP/store
}

teardown() {
	teardown_common
}

@test "an unpacked image runs under husk as its config says" {
	husk_image pull "oci:$FIX/layout:app" >/dev/null
	husk_image unpack "oci:$FIX/layout:app" "$TEST_TMP/b"
	run husk run -b "$TEST_TMP/b" "$(ctr_id img)"
	[ "$status" -eq 7 ]
	[ "$output" = "1000:1001 /srv/app hello from the image" ]
	assert_nothing_left "$(ctr_id img)"
}
