#!/usr/bin/env bats
# husk-image against a real registry (Debian's docker-registry on
# 127.0.0.1, fed with skopeo) and against hand-made OCI layouts: pull by tag
# and digest, OCI and Docker schema2, platform selection, digest checking,
# the store, layer semantics, a hostile-tar corpus and config conversion.

load helpers
load image-helpers

host_arch() {
	case $(uname -m) in
	x86_64) echo amd64 ;;
	aarch64) echo arm64 ;;
	*) uname -m ;;
	esac
}

setup_file() {
	[ -x "$HUSK_IMAGE_BIN" ] || skip "husk-image is not built (configure --disable-image)"
	command -v skopeo >/dev/null || skip "skopeo is not installed"
	export FIX=$BATS_FILE_TMPDIR
	start_registry "$FIX/registry"
	export REGISTRY REGISTRY_PID

	local tpl L=$FIX/layout
	tpl=$(busybox_rootfs_template)
	oci_init "$L"

	# busybox: one gzip layer, a config that exercises the conversion
	mkdir -p "$FIX/bb"
	cp -a "$tpl/." "$FIX/bb/"
	echo 'alice:x:1000:1001:Alice:/home/alice:/bin/sh' >>"$FIX/bb/etc/passwd"
	printf 'staff:x:1001:\nwheel:x:10:root,alice\naudio:x:29:alice\n' >>"$FIX/bb/etc/group"
	img_begin
	img_layer_dir "$L" "$FIX/bb" gzip
	img_commit "$L" latest '{"Entrypoint":["/bin/echo"],"Cmd":["hello","world"],
		"Env":["FOO=bar","PATH=/custom/bin:/bin"],"WorkingDir":"/srv/app","User":"alice",
		"Volumes":{"/data":{}},"Labels":{"org.example.team":"images"},
		"ExposedPorts":{"80/tcp":{},"53/udp":{}},"StopSignal":"SIGINT"}'
	export BB_LAYER_COUNT=1
	skopeo_copy "oci:$L:latest" "docker://$REGISTRY/busybox:latest"
	skopeo_copy --format v2s2 "oci:$L:latest" "docker://$REGISTRY/busybox:docker"

	# an index with two platforms, each with a file saying which it is
	local other=arm64 other_variant=v8 host
	host=$(host_arch)
	[ "$host" = arm64 ] && other=amd64 other_variant=
	export HOST_ARCH=$host OTHER_ARCH=$other
	local p idx_entries=()
	for p in "$host" "$other"; do
		mkdir -p "$FIX/plat-$p"
		echo "$p" >"$FIX/plat-$p/platform"
		img_begin
		img_layer_dir "$L" "$FIX/plat-$p" gzip
		if [ "$p" = "$other" ]; then
			img_manifest "$L" '{"Cmd":["/platform"]}' "$p" "$other_variant"
			idx_entries+=("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$IMG_MANIFEST\",\"size\":$IMG_MANIFEST_SIZE,\"platform\":{\"os\":\"linux\",\"architecture\":\"$p\",\"variant\":\"$other_variant\"}}")
		else
			img_manifest "$L" '{"Cmd":["/platform"]}' "$p"
			idx_entries+=("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$IMG_MANIFEST\",\"size\":$IMG_MANIFEST_SIZE,\"platform\":{\"os\":\"linux\",\"architecture\":\"$p\"}}")
		fi
	done
	local idx=$FIX/index.json.blob
	(IFS=,; echo "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[${idx_entries[*]}]}") >"$idx"
	img_tag "$L" multi "$(oci_put "$L" "$idx")" "$(stat -c %s "$idx")" application/vnd.oci.image.index.v1+json
	skopeo_copy --all "oci:$L:multi" "docker://$REGISTRY/multi:latest"

	# eight layers of 1 MiB of noise each, for parallel downloads
	img_begin
	for i in 1 2 3 4 5 6 7 8; do
		mkdir -p "$FIX/many-$i"
		head -c 1048576 /dev/urandom >"$FIX/many-$i/file-$i"
		img_layer_dir "$L" "$FIX/many-$i" gzip
	done
	img_commit "$L" many '{"Cmd":["/bin/true"]}'
	skopeo_copy "oci:$L:many" "docker://$REGISTRY/many:latest"

	# an image whose layer the registry will serve corrupted
	mkdir -p "$FIX/victim"
	head -c 4096 /dev/urandom >"$FIX/victim/random"
	img_begin
	img_layer_dir "$L" "$FIX/victim" gzip
	img_commit "$L" corrupt '{}'
	export CORRUPT_LAYER
	CORRUPT_LAYER=$(jq -r '.layers[0].digest' "$L/blobs/sha256/${IMG_MANIFEST#sha256:}")
	skopeo_copy "oci:$L:corrupt" "docker://$REGISTRY/corrupt:latest"
	local data=$FIX/registry/storage/docker/registry/v2/blobs/sha256/${CORRUPT_LAYER:7:2}/${CORRUPT_LAYER#sha256:}/data
	[ -f "$data" ]
	# same size, other bytes: only the digest can tell
	printf 'CORRUPTED' | dd of="$data" bs=1 seek=100 conv=notrunc status=none
}

teardown_file() {
	stop_registry
}

setup() {
	setup_common
	STORE=$TEST_TMP/store
}

teardown() {
	teardown_common
}

# digest of a store blob, recomputed
blob_digest() {
	echo "sha256:$(sha256sum "$STORE/blobs/sha256/${1#sha256:}" | cut -d' ' -f1)"
}

@test "pull by tag: prints the manifest digest and fills an OCI image layout" {
	run husk_image pull --tls-verify=false "docker://$REGISTRY/busybox:latest"
	[ "$status" -eq 0 ]
	digest=${lines[-1]}
	[[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]]
	[ "$(jq -r .imageLayoutVersion "$STORE/oci-layout")" = 1.0.0 ]
	run jq -r --arg n "$REGISTRY/busybox:latest" \
		'.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $n) | .digest' \
		"$STORE/index.json"
	[ "$output" = "$digest" ]
	# every blob is content-addressed, the manifest and all it references are in
	[ "$(blob_digest "$digest")" = "$digest" ]
	for d in $(jq -r '.config.digest, .layers[].digest' "$STORE/blobs/sha256/${digest#sha256:}"); do
		[ "$(blob_digest "$d")" = "$d" ]
	done
	[ -z "$(find "$STORE/blobs" -name '.tmp-*')" ]
	run husk_image list
	[ "$status" -eq 0 ]
	[[ "$output" == *"$REGISTRY/busybox:latest"*"linux/$HOST_ARCH"* ]]
	# the same digest skopeo computed for what it pushed
	[ "$digest" = "$(skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/busybox:latest" | sha256sum | sed 's/^/sha256:/; s/ .*//')" ]
}

@test "pull by digest; a digest the registry does not have fails" {
	run husk_image pull --tls-verify=false "docker://$REGISTRY/busybox:latest"
	[ "$status" -eq 0 ]
	digest=${lines[-1]}
	run husk_image --store "$TEST_TMP/store2" pull --tls-verify=false "docker://$REGISTRY/busybox@$digest"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$digest" ]
	run "$HUSK_IMAGE_BIN" --store "$TEST_TMP/store2" list -q
	[ "$output" = "$REGISTRY/busybox@$digest" ]
	run husk_image pull --tls-verify=false "docker://$REGISTRY/busybox@sha256:$(printf '%064d' 0)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"manifest sha256:$(printf '%064d' 0) not found (HTTP 404)"* ]]
}

@test "pull a Docker schema2 image and unpack it" {
	run husk_image pull --tls-verify=false "docker://$REGISTRY/busybox:docker"
	[ "$status" -eq 0 ]
	digest=${lines[-1]}
	manifest=$STORE/blobs/sha256/${digest#sha256:}
	[ "$(jq -r .mediaType "$manifest")" = application/vnd.docker.distribution.manifest.v2+json ]
	[ "$(jq -r .layers[0].mediaType "$manifest")" = application/vnd.docker.image.rootfs.diff.tar.gzip ]
	[ "$(jq -r --arg n "$REGISTRY/busybox:docker" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $n) | .mediaType' "$STORE/index.json")" = application/vnd.docker.distribution.manifest.v2+json ]
	run husk_image unpack "docker://$REGISTRY/busybox:docker" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	cmp "$TEST_TMP/b/rootfs/bin/busybox" "$(command -v busybox)"
}

@test "an index: the host's platform by default, --platform picks another, a missing one fails" {
	run husk_image pull --tls-verify=false "docker://$REGISTRY/multi:latest"
	[ "$status" -eq 0 ]
	run husk_image unpack "docker://$REGISTRY/multi:latest" "$TEST_TMP/host"
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/host/rootfs/platform")" = "$HOST_ARCH" ]

	run husk_image --store "$TEST_TMP/other" pull --tls-verify=false --platform "linux/$OTHER_ARCH" "docker://$REGISTRY/multi:latest"
	[ "$status" -eq 0 ]
	run "$HUSK_IMAGE_BIN" --store "$TEST_TMP/other" unpack "docker://$REGISTRY/multi:latest" "$TEST_TMP/o"
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/o/rootfs/platform")" = "$OTHER_ARCH" ]

	run husk_image pull --tls-verify=false --platform linux/s390x "docker://$REGISTRY/multi:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no manifest for platform linux/s390x (the index has: linux/"* ]]
	run husk_image pull --platform linux "docker://$REGISTRY/multi:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *'--platform "linux": expected OS/ARCH[/VARIANT]'* ]]
}

@test "a corrupted blob is refused naming both digests and leaves nothing behind" {
	run husk_image pull --tls-verify=false "docker://$REGISTRY/corrupt:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *"blob $CORRUPT_LAYER: digest mismatch: expected $CORRUPT_LAYER, got sha256:"* ]]
	got=$(grep -o 'got sha256:[0-9a-f]*' <<<"$output" | cut -d' ' -f2)
	[ "$got" != "$CORRUPT_LAYER" ]
	[ ! -e "$STORE/blobs/sha256/${CORRUPT_LAYER#sha256:}" ]
	[ -z "$(find "$STORE/blobs" -name '.tmp-*' -o -name '.partial-*')" ]
	run husk_image list -q
	[ "$output" = "" ]
}

@test "pull errors: unknown repository, plain HTTP without --tls-verify=false, bad references" {
	run husk_image pull --tls-verify=false "docker://$REGISTRY/nosuch:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$REGISTRY/nosuch: manifest latest not found (HTTP 404)"* ]]
	run husk_image pull "docker://$REGISTRY/busybox:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--tls-verify=false"* ]]
	run husk_image pull "docker://$REGISTRY/Bad_Name:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *'"Bad_Name" is not a valid repository name'* ]]
	run husk_image pull "docker://$REGISTRY/busybox@sha256:abc"
	[ "$status" -eq 1 ]
	[[ "$output" == *'"sha256:abc" is not a sha256 digest'* ]]
	run husk_image pull busybox
	[ "$status" -eq 1 ]
	[[ "$output" == *"pull wants docker://HOST/NAME[:TAG] or oci:DIR[:TAG]"* ]]
}

@test "concurrent pulls into one store both succeed and share the blobs" {
	husk_image pull -q --tls-verify=false "docker://$REGISTRY/busybox:latest" >"$TEST_TMP/1" &
	p1=$!
	husk_image pull -q --tls-verify=false "docker://$REGISTRY/busybox:docker" >"$TEST_TMP/2" &
	p2=$!
	wait $p1
	wait $p2
	run husk_image list -q
	[ "${#lines[@]}" -eq 2 ]
	# both manifests point at the same layer bytes (v2s2 keeps the gzip blob)
	l1=$(jq -r .layers[0].digest "$STORE/blobs/sha256/$(cut -c8- "$TEST_TMP/1")")
	l2=$(jq -r .layers[0].digest "$STORE/blobs/sha256/$(cut -c8- "$TEST_TMP/2")")
	[ "$l1" = "$l2" ]
	# one file per distinct blob, no temp files left
	want=$( (cat "$TEST_TMP/1" "$TEST_TMP/2"
		for m in $(cut -c8- "$TEST_TMP/1" "$TEST_TMP/2"); do
			jq -r '.config.digest, .layers[].digest' "$STORE/blobs/sha256/$m"
		done) | sort -u | wc -l)
	[ "$(find "$STORE/blobs/sha256" -type f | wc -l)" -eq "$want" ]
}

@test "rm drops the name, gc frees exactly the unreferenced blobs" {
	husk_image pull -q --tls-verify=false "docker://$REGISTRY/busybox:latest"
	husk_image pull -q --tls-verify=false "docker://$REGISTRY/multi:latest"
	before=$(find "$STORE/blobs/sha256" -type f | wc -l)
	run husk_image rm "docker://$REGISTRY/multi:latest"
	[ "$status" -eq 0 ]
	run husk_image list -q
	[ "$output" = "$REGISTRY/busybox:latest" ]
	run husk_image gc
	[ "$status" -eq 0 ]
	[[ "$output" == "removed 3 blobs, "* ]]
	[ "$(find "$STORE/blobs/sha256" -type f | wc -l)" -eq $((before - 3)) ]
	run husk_image unpack "$REGISTRY/busybox:latest" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	run husk_image rm "$REGISTRY/busybox:nosuch"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$REGISTRY/busybox:nosuch: no such image in the store"* ]]
}

@test "inspect prints the manifest and the config" {
	husk_image pull -q --tls-verify=false "docker://$REGISTRY/busybox:latest"
	run husk_image inspect "docker://$REGISTRY/busybox:latest"
	[ "$status" -eq 0 ]
	[ "$(jq -r .config.config.WorkingDir <<<"$output")" = /srv/app ]
	[ "$(jq -r '.manifest.layers | length' <<<"$output")" = 1 ]
	[ "$(jq -r .digest <<<"$output")" = "$(jq -r '.manifests[0].digest' "$STORE/index.json")" ]
}

@test "inspect escapes DEL and C1 controls (CSI U+009B) from a hostile config" {
	L=$TEST_TMP/layout
	oci_init "$L"
	img_begin
	tar_from_python "$TEST_TMP/c1.tar" 'add_file("f", b"f")'
	img_layer "$L" "$TEST_TMP/c1.tar" gzip
	img_commit "$L" c1 '{"Cmd":["/bin/true"],"Labels":{"x":"a\u009b31mred\u007fb\u001b"}}'
	run "$HUSK_IMAGE_BIN" inspect "oci:$L:c1"
	[ "$status" -eq 0 ]
	# no raw C1 (UTF-8 c2 80..c2 9f) nor DEL reaches the terminal
	run env LC_ALL=C grep -c $'\xc2[\x80-\x9f]\|\x7f' <<<"$output"
	[ "$output" = 0 ]
	run "$HUSK_IMAGE_BIN" inspect "oci:$L:c1"
	[ "$(jq -r .config.config.Labels.x <<<"$output")" = $'a\xc2\x9b31mred\x7fb\x1b' ]
}

@test "config conversion: args, env, cwd, user and groups from the image's /etc/passwd, volumes, annotations" {
	husk_image pull -q --tls-verify=false "docker://$REGISTRY/busybox:latest"
	run husk_image unpack "docker://$REGISTRY/busybox:latest" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	c=$TEST_TMP/b/config.json
	[ "$(jq -c .process.args "$c")" = '["/bin/echo","hello","world"]' ]
	[ "$(jq -c .process.env "$c")" = '["PATH=/custom/bin:/bin","TERM=xterm","FOO=bar","HOME=/home/alice"]' ]
	[ "$(jq -r .process.cwd "$c")" = /srv/app ]
	[ -d "$TEST_TMP/b/rootfs/srv/app" ]
	[ "$(jq -c .process.user "$c")" = '{"uid":1000,"gid":1001,"additionalGids":[10,29]}' ]
	[ "$(jq -r .process.terminal "$c")" != true ]
	[ "$(jq -c '.mounts[] | select(.destination == "/data")' "$c")" = '{"destination":"/data","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","mode=755"]}' ]
	[ -d "$TEST_TMP/b/rootfs/data" ]
	[ "$(jq -r '.annotations["org.example.team"]' "$c")" = images ]
	[ "$(jq -r '.annotations["org.opencontainers.image.stopSignal"]' "$c")" = SIGINT ]
	[ "$(jq -r '.annotations["org.opencontainers.image.exposedPorts"]' "$c")" = "53/udp,80/tcp" ] ||
		[ "$(jq -r '.annotations["org.opencontainers.image.exposedPorts"]' "$c")" = "80/tcp,53/udp" ]
	[ "$(jq -r '.annotations["org.opencontainers.image.architecture"]' "$c")" = amd64 ]
	# everything else is husk spec's default
	"$HUSK_BIN" spec --bundle "$TEST_TMP"
	[ "$(jq -c '.linux, .root, .hostname' "$c")" = "$(jq -c '.linux, .root, .hostname' "$TEST_TMP/config.json")" ]
	# the owners and modes of the layer
	[ "$(stat -c %a "$TEST_TMP/b/rootfs/tmp")" = 1777 ]
}

# make_user_image TAG USER: the busybox layer with another User
make_user_image() {
	L=$TEST_TMP/layout
	oci_init "$L"
	img_begin
	img_layer_dir "$L" "$FIX/bb" none
	img_commit "$L" "$1" "{\"User\":\"$2\",\"Cmd\":[\"/bin/sh\"]}"
}

@test "config conversion: user:group forms, numeric ids, unknown users" {
	make_user_image named alice:wheel
	run husk_image unpack "oci:$TEST_TMP/layout:named" "$TEST_TMP/b1"
	[ "$status" -eq 0 ]
	[ "$(jq -c .process.user "$TEST_TMP/b1/config.json")" = '{"uid":1000,"gid":10,"additionalGids":[29]}' ]
	make_user_image numeric 1234:5678
	run husk_image unpack "oci:$TEST_TMP/layout:numeric" "$TEST_TMP/b2"
	[ "$status" -eq 0 ]
	[ "$(jq -c .process.user "$TEST_TMP/b2/config.json")" = '{"uid":1234,"gid":5678}' ]
	[ "$(jq -r '.process.env[] | select(startswith("HOME="))' "$TEST_TMP/b2/config.json")" = HOME=/ ]
	make_user_image unknown mallory
	run husk_image unpack "oci:$TEST_TMP/layout:unknown" "$TEST_TMP/b3"
	[ "$status" -eq 1 ]
	[[ "$output" == *'User "mallory": no user "mallory" in the image'"'"'s /etc/passwd'* ]]
	# a failed unpack leaves no bundle behind
	[ ! -e "$TEST_TMP/b3" ]
	make_user_image badgroup alice:nosuchgroup
	run husk_image unpack "oci:$TEST_TMP/layout:badgroup" "$TEST_TMP/b4"
	[ "$status" -eq 1 ]
	[[ "$output" == *'no group "nosuchgroup" in the image'"'"'s /etc/group'* ]]
}

@test "the unpacked bundle runs (with runc, the reference runtime)" {
	require_root
	command -v runc >/dev/null || skip "runc is not installed"
	husk_image pull -q --tls-verify=false "docker://$REGISTRY/busybox:latest"
	husk_image unpack "docker://$REGISTRY/busybox:latest" "$TEST_TMP/b"
	update_config "$TEST_TMP/b" '.process.args = ["/bin/sh", "-c", "id -u; pwd; echo $FOO"]'
	run runc --root "$TEST_TMP/runc" run -b "$TEST_TMP/b" "husk-image-test-$$"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = /srv/app ]
	[ "${lines[2]}" = bar ]
}

@test "unpack: whiteouts, opaque dirs, hardlinks across layers, symlinks, owners, modes, xattrs, gzip/zstd/plain" {
	require_root
	L=$TEST_TMP/layout
	oci_init "$L"
	img_begin
	mkdir -p "$TEST_TMP/l1"/{a,gonedir,opq/sub}
	echo f1 >"$TEST_TMP/l1/a/f1"
	echo f2 >"$TEST_TMP/l1/a/f2"
	echo gone >"$TEST_TMP/l1/gone"
	echo x >"$TEST_TMP/l1/gonedir/x"
	echo old >"$TEST_TMP/l1/opq/old"
	echo deep >"$TEST_TMP/l1/opq/sub/deep"
	echo base >"$TEST_TMP/l1/base"
	echo keep >"$TEST_TMP/l1/keep"
	img_layer_dir "$L" "$TEST_TMP/l1" none
	tar_from_python "$TEST_TMP/l2.tar" '
add_file(".wh.gone", b"")
add_file(".wh.gonedir", b"")
add_file("a/.wh.f1", b"")
entry("opq", tarfile.DIRTYPE)
add_file("opq/.wh..wh..opq", b"")
add_file("opq/new", b"new")
entry("hl", tarfile.LNKTYPE, "base")
entry("sl", tarfile.SYMTYPE, "base")
add_file("fresh", b"fresh")
add_file(".wh.fresh", b"")
entry("pipe", tarfile.FIFOTYPE, mode=0o600)
entry("dev/null0", tarfile.CHRTYPE, mode=0o666)
info = tarfile.TarInfo("suid")
info.size = 2
info.mode = 0o4755
info.uid, info.gid = 1234, 5678
info.mtime = 1234567890
info.pax_headers = {"SCHILY.xattr.user.husk": "hello"}
tar.addfile(info, io.BytesIO(b"#!"))
'
	img_layer "$L" "$TEST_TMP/l2.tar" gzip
	tar_from_python "$TEST_TMP/l3.tar" '
entry("a/f2", tarfile.DIRTYPE)
add_file("a/f2/inner", b"inner")
entry("keep", tarfile.SYMTYPE, "a/f2/inner")
entry("hl2", tarfile.LNKTYPE, "hl")
'
	img_layer "$L" "$TEST_TMP/l3.tar" zstd
	img_commit "$L" layered '{"Cmd":["/bin/true"]}'

	run husk_image unpack "oci:$L:layered" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	r=$TEST_TMP/b/rootfs
	[ ! -e "$r/gone" ] && [ ! -e "$r/gonedir" ] && [ ! -e "$r/a/f1" ]
	[ ! -e "$r/.wh.gone" ] && [ ! -e "$r/a/.wh.f1" ] && [ ! -e "$r/opq/.wh..wh..opq" ]
	[ "$(ls -A "$r/opq")" = new ]
	[ "$(cat "$r/fresh")" = fresh ]
	[ "$(cat "$r/a/f2/inner")" = inner ]
	[ "$(readlink "$r/keep")" = a/f2/inner ]
	[ "$(readlink "$r/sl")" = base ]
	# hardlinks to a lower layer's file, and to a hardlink
	[ "$(stat -c %i "$r/hl")" = "$(stat -c %i "$r/base")" ]
	[ "$(stat -c %i "$r/hl2")" = "$(stat -c %i "$r/base")" ]
	[ "$(stat -c %h "$r/base")" = 3 ]
	[ -p "$r/pipe" ] && [ "$(stat -c %a "$r/pipe")" = 600 ]
	[ -c "$r/dev/null0" ]
	[ "$(stat -c '%a %u %g %Y' "$r/suid")" = "4755 1234 5678 1234567890" ]
	[ "$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.husk").decode())' "$r/suid")" = hello ] ||
		skip "the temp filesystem has no user xattrs"
}

# hostile_image TAG PYTHON-CODE...: a base layer (etc/passwd, tmp/) and one
# crafted layer per argument, in oci:$HL:TAG
hostile_image() {
	local tag=$1 code i=0
	shift
	HL=$TEST_TMP/hostile
	oci_init "$HL"
	img_begin
	if [ ! -e "$TEST_TMP/base/etc/passwd" ]; then
		mkdir -p "$TEST_TMP/base/etc" "$TEST_TMP/base/tmp"
		echo 'root:x:0:0:inside the image:/root:/bin/sh' >"$TEST_TMP/base/etc/passwd"
	fi
	img_layer_dir "$HL" "$TEST_TMP/base" gzip
	for code in "$@"; do
		tar_from_python "$TEST_TMP/h-$tag-$i.tar" "$code"
		img_layer "$HL" "$TEST_TMP/h-$tag-$i.tar" gzip
		i=$((i + 1))
	done
	img_commit "$HL" "$tag" '{"Cmd":["/bin/true"]}'
}

# Everything the test owns except the bundle, the host's passwd and /.
snapshot() {
	(cd "$TEST_TMP" && find . -mindepth 1 -path ./bundle -prune -o -printf '%p %y %s %n %m %l\n' | sort)
	find "$OUT" -type f -exec sha256sum {} +
	sha256sum /etc/passwd
	ls -a /
}

# unpack_hostile TAG: unpack, then check nothing outside the bundle moved
unpack_hostile() {
	snapshot >"$BATS_TEST_TMPDIR/before"
	run husk_image unpack "oci:$HL:$1" "$TEST_TMP/bundle"
	snapshot >"$BATS_TEST_TMPDIR/after"
	diff -u "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	[ -z "$(find "$TEST_TMP" -name 'escape*' -not -path "$TEST_TMP/bundle/rootfs/*")" ]
}

setup_outside() {
	export OUT=$TEST_TMP/outside
	mkdir -p "$OUT/dir"
	echo original >"$OUT/victim"
	echo original >"$OUT/dir/file"
}

@test "unpack: an opaque marker after the layer's own entries still hides the lower ones beneath them" {
	L=$TEST_TMP/layout
	oci_init "$L"
	mkdir -p "$TEST_TMP/low/o/sub"
	echo lower >"$TEST_TMP/low/o/sub/lower"
	echo lower >"$TEST_TMP/low/o/lower"
	img_begin
	img_layer_dir "$L" "$TEST_TMP/low" gzip
	tar_from_python "$TEST_TMP/up.tar" 'entry("o", tarfile.DIRTYPE)
entry("o/sub", tarfile.DIRTYPE)
add_file("o/sub/mine", b"mine")
add_file("o/.wh..wh..opq", b"")'
	img_layer "$L" "$TEST_TMP/up.tar" gzip
	img_commit "$L" late '{"Cmd":["/bin/true"]}'
	run husk_image unpack "oci:$L:late" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	r=$TEST_TMP/b/rootfs
	[ "$(ls -A "$r/o")" = sub ]
	[ "$(ls -A "$r/o/sub")" = mine ]
}

@test "hostile: ../ traversal is refused, naming the entry" {
	setup_outside
	hostile_image dotdot 'add_file("../escape", b"pwned")'
	unpack_hostile dotdot
	[ "$status" -eq 1 ]
	[[ "$output" == *'entry "../escape": ".." would leave the root'* ]]
	[ ! -e "$TEST_TMP/bundle" ]
	hostile_image deep 'add_file("a/b/../../../escape", b"pwned")'
	unpack_hostile deep
	[ "$status" -eq 1 ]
	[[ "$output" == *'entry "a/b/../../../escape"'* ]]
}

@test "hostile: an absolute path is refused, naming the entry" {
	setup_outside
	hostile_image abs 'add_file(OUT + "/victim", b"pwned")'
	unpack_hostile abs
	[ "$status" -eq 1 ]
	[[ "$output" == *"entry \"$OUT/victim\": absolute paths are not allowed"* ]]
}

@test "hostile: a symlink out of the root, then a write through it, stays inside" {
	setup_outside
	hostile_image symwrite 'entry("evil", tarfile.SYMTYPE, OUT)
add_file("evil/victim", b"pwned")'
	unpack_hostile symwrite
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/bundle/rootfs/$OUT/victim")" = pwned ]
	[ "$(cat "$OUT/victim")" = original ]
	hostile_image symup 'entry("up", tarfile.SYMTYPE, "../../../../../../../../../..")
add_file("up/" + OUT + "/dir/file", b"pwned")'
	rm -rf "$TEST_TMP/bundle"
	unpack_hostile symup
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/bundle/rootfs/$OUT/dir/file")" = pwned ]
}

@test "hostile: a symlinked parent planted by an earlier layer stays inside" {
	setup_outside
	hostile_image planted 'entry("lib", tarfile.SYMTYPE, OUT + "/dir")' 'add_file("lib/file", b"pwned")
add_file("lib/escape-new", b"pwned")'
	unpack_hostile planted
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/bundle/rootfs/$OUT/dir/file")" = pwned ]
	[ "$(cat "$OUT/dir/file")" = original ]
}

@test "hostile: a directory swapped for a symlink between entries of one layer stays inside" {
	# unpack keeps the last parent directory open for the entries after it:
	# a replaced directory must not be written through that stale handle,
	# and the symlink put in its place resolves inside the root
	setup_outside
	hostile_image swap 'entry("d", tarfile.DIRTYPE)
add_file("d/first", b"first")
entry("d", tarfile.SYMTYPE, OUT + "/dir")
add_file("d/file", b"pwned")
add_file("d/escape-new", b"pwned")' 'entry("e", tarfile.DIRTYPE)
add_file("e/first", b"first")
add_file(".wh.e", b"")
entry("e", tarfile.SYMTYPE, OUT)
add_file("e/victim", b"pwned")'
	unpack_hostile swap
	[ "$status" -eq 0 ]
	r=$TEST_TMP/bundle/rootfs
	[ "$(readlink "$r/d")" = "$OUT/dir" ]
	[ "$(cat "$r/$OUT/dir/file")" = pwned ]
	[ -e "$r/$OUT/dir/escape-new" ]
	[ ! -e "$r/$OUT/dir/first" ]
	[ "$(readlink "$r/e")" = "$OUT" ]
	[ "$(cat "$r/$OUT/victim")" = pwned ]
	[ "$(cat "$OUT/dir/file")" = original ]
	[ "$(cat "$OUT/victim")" = original ]
}

@test "hostile: hardlinks to files outside the root are refused, naming the entry" {
	setup_outside
	hostile_image hlabs 'entry("hl", tarfile.LNKTYPE, "/etc/passwd")'
	unpack_hostile hlabs
	[ "$status" -eq 1 ]
	[[ "$output" == *'entry "hl": hardlink target "/etc/passwd": absolute paths are not allowed'* ]]
	hostile_image hldotdot 'entry("hl", tarfile.LNKTYPE, "../../../../../../etc/passwd")'
	unpack_hostile hldotdot
	[ "$status" -eq 1 ]
	[[ "$output" == *'entry "hl": hardlink target "../../../../../../etc/passwd": ".." would leave the root'* ]]
	# through a symlink: resolved inside the root, where there is no such file
	hostile_image hlsym 'entry("s", tarfile.SYMTYPE, OUT)
entry("h", tarfile.LNKTYPE, "s/victim")'
	unpack_hostile hlsym
	[ "$status" -eq 1 ]
	[[ "$output" == *'entry "h": hardlink target: s: No such file or directory'* ]]
	[ "$(stat -c %h "$OUT/victim")" = 1 ]
	# a hardlink to the image's own /etc/passwd is fine
	hostile_image hlin 'entry("hl", tarfile.LNKTYPE, "etc/passwd")'
	unpack_hostile hlin
	[ "$status" -eq 0 ]
	[ "$(stat -c %i "$TEST_TMP/bundle/rootfs/hl")" = "$(stat -c %i "$TEST_TMP/bundle/rootfs/etc/passwd")" ]
}

@test "hostile: whiteouts cannot remove anything outside the root" {
	setup_outside
	hostile_image whdotdot 'add_file("../.wh.victim", b"")'
	unpack_hostile whdotdot
	[ "$status" -eq 1 ]
	[[ "$output" == *'entry "../.wh.victim": ".." would leave the root'* ]]
	hostile_image whsym 'entry("wl", tarfile.SYMTYPE, OUT)' 'add_file("wl/.wh.victim", b"")
add_file("wl/.wh.dir", b"")'
	unpack_hostile whsym
	[ "$status" -eq 0 ]
	[ -e "$OUT/victim" ] && [ -e "$OUT/dir/file" ]
	rm -rf "$TEST_TMP/bundle"
	hostile_image opqsym 'entry("wo", tarfile.SYMTYPE, OUT)' 'add_file("wo/.wh..wh..opq", b"")'
	unpack_hostile opqsym
	[ "$status" -eq 0 ]
	[ -e "$OUT/victim" ] && [ -e "$OUT/dir/file" ]
	rm -rf "$TEST_TMP/bundle"
	hostile_image whdot 'add_file("tmp/.wh..", b"")'
	unpack_hostile whdot
	[ "$status" -eq 1 ]
	[[ "$output" == *'entry "tmp/.wh..": invalid whiteout name'* ]]
}

@test "hostile: a symlink replaced by a file is not written through" {
	setup_outside
	hostile_image replace 'entry("y", tarfile.SYMTYPE, OUT + "/victim")
add_file("y", b"pwned")'
	unpack_hostile replace
	[ "$status" -eq 0 ]
	[ -f "$TEST_TMP/bundle/rootfs/y" ] && [ ! -L "$TEST_TMP/bundle/rootfs/y" ]
	[ "$(cat "$TEST_TMP/bundle/rootfs/y")" = pwned ]
	rm -rf "$TEST_TMP/bundle"
	# and a magic-link-looking target is just a path inside the root
	hostile_image magic 'entry("m", tarfile.SYMTYPE, "/proc/self/root")
add_file("m" + OUT + "/victim", b"pwned")'
	unpack_hostile magic
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/bundle/rootfs/proc/self/root/$OUT/victim")" = pwned ]
}

@test "hostile: a hardlink to a directory and a corrupted layer fail cleanly" {
	setup_outside
	hostile_image hldir 'entry("hd", tarfile.LNKTYPE, "etc")'
	unpack_hostile hldir
	[ "$status" -eq 1 ]
	[[ "$output" == *'entry "hd": hardlink to "etc": Operation not permitted'* ]]
	# a layer whose content does not match its diff_id
	hostile_image diffid 'add_file("x", b"x")'
	m=$HL/blobs/sha256/$(jq -r '.manifests[-1].digest' "$HL/index.json" | cut -c8-)
	c=$HL/blobs/sha256/$(jq -r .config.digest "$m" | cut -c8-)
	jq -c '.rootfs.diff_ids[1] = "sha256:'"$(printf '%064d' 1)"'"' "$c" >"$TEST_TMP/cfg"
	cd_=$(oci_put "$HL" "$TEST_TMP/cfg")
	jq -c --arg d "$cd_" --argjson s "$(stat -c %s "$TEST_TMP/cfg")" '.config.digest = $d | .config.size = $s' "$m" >"$TEST_TMP/man"
	img_tag "$HL" diffid "$(oci_put "$HL" "$TEST_TMP/man")" "$(stat -c %s "$TEST_TMP/man")"
	unpack_hostile diffid
	[ "$status" -eq 1 ]
	[[ "$output" == *"layer 1 (sha256:"*"): diff_id mismatch: expected sha256:$(printf '%064d' 1), got sha256:"* ]]
	[ ! -e "$TEST_TMP/bundle" ]
}

# A second registry with TLS (a test CA) and basic auth (htpasswd), holding
# the busybox image.
start_secure_registry() {
	make_test_ca "$TEST_TMP/ca"
	mkdir -p "$TEST_TMP/certs"
	cp "$TEST_TMP/ca/ca.crt" "$TEST_TMP/certs/"
	htpasswd_line alice s3cret >"$TEST_TMP/htpasswd"
	start_registry "$TEST_TMP/secure" "  tls:
    certificate: $TEST_TMP/ca/server.crt
    key: $TEST_TMP/ca/server.key" "auth:
  htpasswd:
    realm: husk-test
    path: $TEST_TMP/htpasswd"
	skopeo_copy --dest-cert-dir "$TEST_TMP/certs" --dest-creds alice:s3cret \
		"oci:$FIX/layout:latest" "docker://$REGISTRY/busybox:latest"
}

@test "TLS with a test CA and basic auth: --cert-dir, --creds, auth files, and the failures" {
	command -v openssl >/dev/null || skip "openssl is not installed"
	start_secure_registry
	teardown() {
		stop_registry
		teardown_common
	}
	ref=docker://$REGISTRY/busybox:latest
	# the CA is not trusted by default
	run husk_image pull --creds alice:s3cret "$ref"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$REGISTRY"*"use --tls-verify=false"* ]]
	# no credentials
	run husk_image pull --cert-dir "$TEST_TMP/certs" "$ref"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$REGISTRY: the registry wants a user name and password (use --creds or an auth file)"* ]]
	# wrong credentials
	run husk_image pull --cert-dir "$TEST_TMP/certs" --creds alice:wrong "$ref"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$REGISTRY/busybox: manifest latest: access denied (HTTP 401)"* ]]
	run husk_image pull --creds alice "$ref"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--creds: expected USER:PASSWORD"* ]]
	# verified TLS + --creds
	run husk_image pull -q --cert-dir "$TEST_TMP/certs" --creds alice:s3cret "$ref"
	[ "$status" -eq 0 ]
	digest=${lines[-1]}
	# an auth file (podman's format) and ~/.docker/config.json (docker's)
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$REGISTRY" "$(printf alice:s3cret | base64)" >"$TEST_TMP/auth.json"
	run husk_image --store "$TEST_TMP/s2" pull -q --cert-dir "$TEST_TMP/certs" --authfile "$TEST_TMP/auth.json" "$ref"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$digest" ]
	mkdir -p "$TEST_TMP/home/.docker"
	printf '{"auths":{"https://%s":{"auth":"%s"}}}' "$REGISTRY" "$(printf alice:s3cret | base64)" >"$TEST_TMP/home/.docker/config.json"
	HOME=$TEST_TMP/home XDG_RUNTIME_DIR= REGISTRY_AUTH_FILE= run husk_image --store "$TEST_TMP/s3" pull -q --tls-verify=false "$ref"
	[ "$status" -eq 0 ]
	# (that one went over HTTPS without checking the certificate)
	[ "${lines[-1]}" = "$digest" ]
}

@test "pull from an oci: layout into the store; progress only on a terminal" {
	run husk_image pull "oci:$FIX/layout:latest"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" =~ ^sha256:[0-9a-f]{64}$ ]]
	run husk_image list -q
	[ "$output" = "oci:$FIX/layout:latest" ]
	run husk_image unpack "oci:$FIX/layout:latest" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	command -v script >/dev/null || skip "script (bsdutils) is not installed"
	run script -qec "$HUSK_IMAGE_BIN --store $TEST_TMP/tty pull --tls-verify=false docker://$REGISTRY/busybox:latest" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"Copying blobs: 2/2"* ]]
	run husk_image --store "$TEST_TMP/notty" pull --tls-verify=false "docker://$REGISTRY/busybox:latest"
	[[ "$output" != *"Copying blobs"* ]]
}

@test "bearer tokens: the registry's challenge sends husk-image to the token realm" {
	start_token_registry
	skopeo_copy --dest-creds alice:s3cret "oci:$FIX/layout:latest" "docker://$REGISTRY/team/busybox:latest"
	: >"$TEST_TMP/token.log"

	run husk_image pull -q --tls-verify=false "docker://$REGISTRY/team/busybox:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the token server http://127.0.0.1:"*"/token"*"answered HTTP 401"* ]]
	run husk_image pull -q --tls-verify=false --creds alice:s3cret "docker://$REGISTRY/team/busybox:latest"
	[ "$status" -eq 0 ]
	run husk_image unpack "docker://$REGISTRY/team/busybox:latest" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	grep -q '^scope=repository%3Ateam%2Fbusybox%3Apull&service=husk-registry auth=basic$' "$TEST_TMP/token.log"
}

@test "husk-image CLI: --help, --version, usage errors" {
	run "$HUSK_IMAGE_BIN" --help
	[ "$status" -eq 0 ]
	for c in pull unpack list inspect rm gc; do
		[[ "$output" == *"  $c "* ]]
	done
	run "$HUSK_IMAGE_BIN" --version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^husk-image\ version\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	run "$HUSK_IMAGE_BIN" pull --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--tls-verify=false"* ]]
	run "$HUSK_IMAGE_BIN" frobnicate
	[ "$status" -eq 1 ]
	[[ "$output" == *"'frobnicate' is not a husk-image command"* ]]
	run husk_image unpack "docker://$REGISTRY/busybox:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *"husk-image unpack: missing argument: expected REF BUNDLE"* ]]
	run husk_image pull --parallel 0 "docker://$REGISTRY/busybox:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *'--parallel: "0" is not 1..64'* ]]
	run husk_image unpack "docker://$REGISTRY/busybox:latest" "$TEST_TMP/b"
	[ "$status" -eq 1 ]
	[[ "$output" == *"store $STORE: No such file or directory"* ]]
	run husk_image unpack "oci:$TEST_TMP/nolayout:x" "$TEST_TMP/b"
	[ "$status" -eq 1 ]
	[[ "$output" == *"store $TEST_TMP/nolayout: No such file or directory"* ]]
	# an existing bundle is not overwritten
	husk_image pull -q --tls-verify=false "docker://$REGISTRY/busybox:latest"
	mkdir -p "$TEST_TMP/b/rootfs"
	touch "$TEST_TMP/b/rootfs/mine"
	run husk_image unpack "docker://$REGISTRY/busybox:latest" "$TEST_TMP/b"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bundle $TEST_TMP/b already has a rootfs or config.json"* ]]
	[ -e "$TEST_TMP/b/rootfs/mine" ]
}

@test "unpack without privileges: read-only directories are filled, owners are the caller's, devices empty files" {
	require_root
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	chmod 755 "$TEST_TMP"
	L=$TEST_TMP/layout
	oci_init "$L"
	img_begin
	tar_from_python "$TEST_TMP/ro.tar" '
entry("ro", tarfile.DIRTYPE, mode=0o555)
add_file("ro/f", b"f", mode=0o444)
entry("ro/sub", tarfile.DIRTYPE, mode=0o500)
add_file("ro/sub/g", b"g", mode=0o400)
entry("dev/zero0", tarfile.CHRTYPE, mode=0o666)
info = tarfile.TarInfo("owned")
info.size = 1
info.uid = 1234
tar.addfile(info, io.BytesIO(b"o"))
'
	img_layer "$L" "$TEST_TMP/ro.tar" gzip
	tar_from_python "$TEST_TMP/ro2.tar" 'add_file("ro/later", b"later", mode=0o444)'
	img_layer "$L" "$TEST_TMP/ro2.tar" gzip
	img_commit "$L" ro '{"Cmd":["/bin/true"]}'
	chmod -R a+rX "$L"
	mkdir "$TEST_TMP/nb"
	chown 65534:65534 "$TEST_TMP/nb"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$HUSK_IMAGE_BIN" unpack "oci:$L:ro" "$TEST_TMP/nb/b"
	[ "$status" -eq 0 ]
	r=$TEST_TMP/nb/b/rootfs
	[ "$(stat -c %a "$r/ro")" = 555 ]
	[ "$(stat -c %a "$r/ro/sub")" = 500 ]
	[ "$(cat "$r/ro/sub/g")" = g ]
	[ "$(cat "$r/ro/later")" = later ]
	[ "$(stat -c %u "$r/owned")" = 65534 ]
	# as umoci makes it: an empty file with the device's mode
	[ "$(stat -c '%F %a' "$r/dev/zero0")" = "regular empty file 666" ]
	# rootless: the config has a user namespace
	[ "$(jq -r '.linux.namespaces[] | select(.type == "user") | .type' "$TEST_TMP/nb/b/config.json")" = user ]
}

@test "hostile: an /etc/passwd that is a fifo does not hang the conversion" {
	setup_outside
	hostile_image fifo 'entry("etc/passwd", tarfile.FIFOTYPE, mode=0o644)'
	run timeout 20 "$HUSK_IMAGE_BIN" unpack "oci:$HL:fifo" "$TEST_TMP/bundle"
	[ "$status" -eq 1 ]
	[[ "$output" == *'image config: User "": /etc/passwd in the image is not a regular file'* ]]
	[ ! -e "$TEST_TMP/bundle" ]
}

@test "blobs are fetched in parallel and each lands intact" {
	run husk_image pull -q --tls-verify=false --parallel 3 "docker://$REGISTRY/many:latest"
	[ "$status" -eq 0 ]
	m=$STORE/blobs/sha256/$(cut -c8- <<<"${lines[-1]}")
	[ "$(jq '.layers | length' "$m")" = 8 ]
	for d in $(jq -r '.config.digest, .layers[].digest' "$m"); do
		[ "$(blob_digest "$d")" = "$d" ]
	done
	run husk_image unpack "docker://$REGISTRY/many:latest" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	for i in 1 2 3 4 5 6 7 8; do
		cmp "$TEST_TMP/b/rootfs/file-$i" "$FIX/many-$i/file-$i"
	done
	# a second pull finds the blobs in the store: nothing is rewritten
	before=$(stat -c '%n %i' "$STORE"/blobs/sha256/*)
	run husk_image pull -q --tls-verify=false "docker://$REGISTRY/many:latest"
	[ "$status" -eq 0 ]
	[ "$(stat -c '%n %i' "$STORE"/blobs/sha256/*)" = "$before" ]
}

# start_slow_proxy TARGET RATE: a proxy to TARGET passing the server's bytes
# on at RATE bytes/s; sets PROXY (host:port) and PROXY_LOG (the requests)
start_slow_proxy() {
	PROXY_LOG=$TEST_TMP/proxy.log
	python3 "$BATS_TEST_DIRNAME/slow-proxy.py" "$TEST_TMP/proxy-port" "$1" "$2" "$PROXY_LOG" ${3:+"$3"} 3>&- &
	PROXY_PID=$!
	for i in $(seq 100); do
		[ -e "$TEST_TMP/proxy-port" ] && break
		sleep 0.1
	done
	PROXY=127.0.0.1:$(cat "$TEST_TMP/proxy-port")
}

stop_slow_proxy() {
	kill "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
}

# noise_image LAYOUT TAG N: N layers of 1 MiB of noise each (not compressible)
noise_image() {
	local L=$1 i
	oci_init "$L"
	img_begin
	for i in $(seq "$3"); do
		mkdir -p "$TEST_TMP/noise-$i"
		head -c 1048576 /dev/urandom >"$TEST_TMP/noise-$i/noise-$i"
		img_layer_dir "$L" "$TEST_TMP/noise-$i" gzip
	done
	img_commit "$L" "$2" '{"Cmd":["/bin/true"]}'
}

@test "an interrupted pull (killed, or its connection broken) leaves no partial blob, and the next pull continues where it broke off" {
	# one 4 MiB layer of noise, fed through a proxy at 512 KiB/s
	L=$TEST_TMP/layout
	oci_init "$L"
	mkdir -p "$TEST_TMP/big"
	head -c 4194304 /dev/urandom >"$TEST_TMP/big/noise"
	img_begin
	img_layer_dir "$L" "$TEST_TMP/big" gzip
	img_commit "$L" big '{"Cmd":["/bin/true"]}'
	skopeo_copy "oci:$L:big" "docker://$REGISTRY/big:latest"
	layer=$(jq -r '.layers[0].digest' "$L/blobs/sha256/${IMG_MANIFEST#sha256:}")
	size=$(jq -r '.layers[0].size' "$L/blobs/sha256/${IMG_MANIFEST#sha256:}")
	start_slow_proxy "$REGISTRY" 524288
	teardown() {
		stop_slow_proxy
		teardown_common
	}

	"$HUSK_IMAGE_BIN" --store "$STORE" pull -q --tls-verify=false "docker://$PROXY/big:latest" 3>&- &
	pid=$!
	# a part is named after its source (registry and repository)
	src=$(printf '%s' "$PROXY/big" | sha256sum | cut -c1-16)
	partial=$STORE/blobs/sha256/.partial-${layer#sha256:}-$src
	for i in $(seq 300); do
		[ "$(stat -c %s "$partial" 2>/dev/null || echo 0)" -gt 1048576 ] && break
		sleep 0.05
	done
	kill -KILL "$pid"
	wait "$pid" || true
	have=$(stat -c %s "$partial")
	[ "$have" -gt 0 ] && [ "$have" -lt "$size" ]
	# nothing under the layer's digest, no image named
	[ ! -e "$STORE/blobs/sha256/${layer#sha256:}" ]
	run husk_image list -q
	[ "$output" = "" ]

	: >"$PROXY_LOG"
	run husk_image pull -q --tls-verify=false "docker://$PROXY/big:latest"
	[ "$status" -eq 0 ]
	[ "$(blob_digest "$layer")" = "$layer" ]
	# continued from the byte it had, not fetched again
	grep -qx "Range: bytes=$have-" "$PROXY_LOG"
	[ -z "$(find "$STORE/blobs" -name '.tmp-*' -o -name '.partial-*')" ]
	run husk_image unpack "docker://$PROXY/big:latest" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	cmp "$TEST_TMP/b/rootfs/noise" "$TEST_TMP/big/noise"

	# a connection that breaks: the pull fails naming the blob, keeps the part
	S2=$TEST_TMP/store2
	"$HUSK_IMAGE_BIN" --store "$S2" pull -q --tls-verify=false "docker://$PROXY/big:latest" \
		>"$TEST_TMP/broken.out" 2>&1 3>&- &
	pid=$!
	partial2=$S2/blobs/sha256/.partial-${layer#sha256:}-$src
	for i in $(seq 300); do
		[ "$(stat -c %s "$partial2" 2>/dev/null || echo 0)" -gt 1048576 ] && break
		sleep 0.05
	done
	stop_slow_proxy
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 1 ]
	grep -q "blob $layer: " "$TEST_TMP/broken.out"
	have=$(stat -c %s "$partial2")
	[ "$have" -gt 0 ] && [ "$have" -lt "$size" ]
	rm -f "$TEST_TMP/proxy-port"
	start_slow_proxy "$REGISTRY" 524288 "${PROXY##*:}"
	run "$HUSK_IMAGE_BIN" --store "$S2" pull -q --tls-verify=false "docker://$PROXY/big:latest"
	[ "$status" -eq 0 ]
	grep -qx "Range: bytes=$have-" "$PROXY_LOG"
	[ "$(sha256sum "$S2/blobs/sha256/${layer#sha256:}" | cut -d' ' -f1)" = "${layer#sha256:}" ]

	# a partial that does not belong to the blob is found out, dropped, and
	# the blob fetched again from byte 0
	run husk_image rm "$(husk_image list -q)"
	[ "$status" -eq 0 ]
	run husk_image gc
	[ ! -e "$STORE/blobs/sha256/${layer#sha256:}" ]
	partial=$STORE/blobs/sha256/.partial-${layer#sha256:}-$(printf '%s' "$REGISTRY/big" | sha256sum | cut -c1-16)
	head -c 100000 /dev/urandom >"$partial"
	run husk_image pull -q --tls-verify=false "docker://$REGISTRY/big:latest"
	[ "$status" -eq 0 ]
	[[ "$output" == *"blob $layer: the download continued from byte 100000 failed (blob $layer: digest mismatch: expected $layer, got sha256:"* ]]
	[ ! -e "$partial" ]
	[ "$(blob_digest "$layer")" = "$layer" ]
}

@test "bearer tokens: a token that expires mid-pull is fetched again" {
	# tokens good for 2 seconds; the pull takes about 4 through the proxy
	start_token_registry 2
	teardown() {
		stop_slow_proxy
		stop_token_registry
		teardown_common
	}
	noise_image "$TEST_TMP/layout" noise 4
	m=$TEST_TMP/layout/blobs/sha256/${IMG_MANIFEST#sha256:}
	skopeo_copy --dest-creds alice:s3cret "oci:$TEST_TMP/layout:noise" "docker://$REGISTRY/team/noise:latest"
	start_slow_proxy "$REGISTRY" 1048576
	: >"$TEST_TMP/token.log"

	run husk_image pull -q --parallel 1 --tls-verify=false --creds alice:s3cret "docker://$PROXY/team/noise:latest"
	[ "$status" -eq 0 ]
	for d in $(jq -r '.config.digest, .layers[].digest' "$m"); do
		[ "$(blob_digest "$d")" = "$d" ]
	done
	# the registry refused the expired token (a blob was asked for twice)
	# and husk-image went back to the token server for a new one
	[ "$(grep -c '^GET /v2/team/noise/blobs/' "$PROXY_LOG")" -gt 5 ]
	[ "$(grep -c 'scope=repository%3Ateam%2Fnoise%3Apull&service=husk-registry auth=basic' "$TEST_TMP/token.log")" -ge 2 ]
}

@test "a decompression bomb is stopped at --max-layer-size, naming the layer" {
	L=$TEST_TMP/layout
	oci_init "$L"
	mkdir -p "$TEST_TMP/base" "$TEST_TMP/bomb" "$TEST_TMP/one"
	echo base >"$TEST_TMP/base/base"
	for i in 1 2 3; do head -c 1048576 /dev/zero >"$TEST_TMP/bomb/zeros-$i"; done
	head -c 3145728 /dev/zero >"$TEST_TMP/one/big"
	img_begin
	img_layer_dir "$L" "$TEST_TMP/base" gzip
	img_layer_dir "$L" "$TEST_TMP/bomb" gzip
	img_commit "$L" bomb '{"Cmd":["/bin/true"]}'
	bomb=$(jq -r '.layers[1].digest' "$L/blobs/sha256/${IMG_MANIFEST#sha256:}")
	[ "$(jq -r '.layers[1].size' "$L/blobs/sha256/${IMG_MANIFEST#sha256:}")" -lt 65536 ]

	# 3 MiB of files that are each below the limit
	run "$HUSK_IMAGE_BIN" unpack --max-layer-size 2M "oci:$L:bomb" "$TEST_TMP/b"
	[ "$status" -eq 1 ]
	[[ "$output" == *"layer 1 ($bomb): the uncompressed layer is larger than the limit of 2M (--max-layer-size raises it)"* ]]
	[ ! -e "$TEST_TMP/b" ]
	# one file above it is refused before its data is read (zstd here)
	img_begin
	img_layer_dir "$L" "$TEST_TMP/one" zstd
	img_commit "$L" zbomb '{"Cmd":["/bin/true"]}'
	run "$HUSK_IMAGE_BIN" unpack --max-layer-size 2097152 "oci:$L:zbomb" "$TEST_TMP/b"
	[ "$status" -eq 1 ]
	[[ "$output" == *"layer 0 (sha256:"*'): entry "./big": a file of 3145728 bytes is larger than the limit of 2M (--max-layer-size raises it)'* ]]
	[ ! -e "$TEST_TMP/b" ]
	# raised, it unpacks; the default (32G) lets it through too
	run "$HUSK_IMAGE_BIN" unpack --max-layer-size 4M "oci:$L:bomb" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP"/b/rootfs/zeros-* | wc -c)" = 3145728 ]
	run "$HUSK_IMAGE_BIN" unpack "oci:$L:zbomb" "$TEST_TMP/b2"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$TEST_TMP/b2/rootfs/big")" = 3145728 ]
	for bad in 0 abc 1Q -5 99999999999T; do
		run "$HUSK_IMAGE_BIN" unpack --max-layer-size "$bad" "oci:$L:bomb" "$TEST_TMP/b3"
		[ "$status" -eq 1 ]
		[[ "$output" == *"--max-layer-size: \"$bad\" is not a size (like 512M or 16G)"* ]]
	done
	[ ! -e "$TEST_TMP/b3" ]
}

# rootless_xattr FILE: user.rootlesscontainers in hex, or "none"
rootless_xattr() {
	python3 -c 'import os, sys
try: print(os.getxattr(sys.argv[1], "user.rootlesscontainers").hex())
except OSError: print("none")' "$1"
}

# rootless_image: owners other than root, a read-only directory, a device
rootless_image() {
	L=$TEST_TMP/layout
	oci_init "$L"
	img_begin
	tar_from_python "$TEST_TMP/owners.tar" '
def owned(name, uid, gid, type=tarfile.REGTYPE, mode=0o644, data=b""):
    info = tarfile.TarInfo(name)
    info.type, info.uid, info.gid, info.mode, info.size = type, uid, gid, mode, len(data)
    tar.addfile(info, io.BytesIO(data) if data else None)
owned("home", 0, 0, tarfile.DIRTYPE, 0o755)
owned("home/alice", 1234, 5678, tarfile.DIRTYPE, 0o700)
owned("home/alice/notes", 1234, 0, data=b"n", mode=0o600)
owned("srv", 0, 5678, tarfile.DIRTYPE, 0o555)
owned("srv/locked", 1234, 5678, data=b"l", mode=0o000)
owned("rootfile", 0, 0, data=b"r")
owned("dev/null0", 0, 0, tarfile.CHRTYPE, 0o666)
'
	img_layer "$L" "$TEST_TMP/owners.tar" gzip
	tar_from_python "$TEST_TMP/later.tar" 'add_file("srv/later", b"later", mode=0o444)'
	img_layer "$L" "$TEST_TMP/later.tar" gzip
	img_commit "$L" owners '{"Cmd":["/bin/true"]}'
	chmod -R a+rX "$L"
}

# check_rootless ROOTFS UID: files are UID's, other owners are recorded
check_rootless() {
	local r=$1 uid=$2
	[ "$(stat -c %u "$r/home/alice/notes")" = "$uid" ]
	[ "$(stat -c %u "$r/srv/locked")" = "$uid" ]
	# protobuf {uid: 1234, gid: 5678}, {uid: 1234}, {gid: 5678} as umoci
	# writes them (a 0 as NoopUser, 2^32 - 1); nothing for root
	[ "$(rootless_xattr "$r/home/alice")" = 08d20910ae2c ]
	[ "$(rootless_xattr "$r/home/alice/notes")" = 08d20910ffffffff0f ]
	[ "$(rootless_xattr "$r/srv")" = 08ffffffff0f10ae2c ]
	[ "$(rootless_xattr "$r/rootfile")" = none ]
	# the modes are the image's, once every layer is in
	[ "$(stat -c %a "$r/srv")" = 555 ]
	[ "$(stat -c %a "$r/srv/locked")" = 0 ]
	[ "$(stat -c %a "$r/home/alice")" = 700 ]
	[ "$(cat "$r/srv/later")" = later ]
	[ "$(stat -c '%F %a' "$r/dev/null0")" = "regular empty file 666" ]
}

@test "--rootless as root: owners recorded in user.rootlesscontainers, devices empty files, modes kept" {
	require_root
	rootless_image
	run "$HUSK_IMAGE_BIN" unpack --rootless "oci:$L:owners" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	check_rootless "$TEST_TMP/b/rootfs" 0
	[ "$(jq -r '.linux.namespaces[] | select(.type == "user") | .type' "$TEST_TMP/b/config.json")" = user ]
	# without --rootless, root gives the owners and makes the device
	run "$HUSK_IMAGE_BIN" unpack "oci:$L:owners" "$TEST_TMP/p"
	[ "$status" -eq 0 ]
	[ "$(stat -c %u:%g "$TEST_TMP/p/rootfs/home/alice")" = 1234:5678 ]
	[ "$(rootless_xattr "$TEST_TMP/p/rootfs/home/alice")" = none ]
	[ -c "$TEST_TMP/p/rootfs/dev/null0" ]
}

@test "unpack as an unprivileged user: owners recorded, locked-out modes handled, the bundle removable" {
	require_root
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	chmod 755 "$TEST_TMP"
	rootless_image
	mkdir "$TEST_TMP/nb"
	chown 65534:65534 "$TEST_TMP/nb"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$HUSK_IMAGE_BIN" unpack "oci:$L:owners" "$TEST_TMP/nb/b"
	[ "$status" -eq 0 ]
	check_rootless "$TEST_TMP/nb/b/rootfs" 65534
	# the user can read back its own files (as root in a user namespace
	# would) once it restores its access, and remove the bundle
	run setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "chmod -R u+rwX '$TEST_TMP/nb/b' && cat '$TEST_TMP/nb/b/rootfs/srv/locked' && rm -rf '$TEST_TMP/nb/b'"
	[ "$status" -eq 0 ]
	[ "$output" = l ]
	[ ! -e "$TEST_TMP/nb/b" ]
}

# overlay_image: a busybox base and two layers of whiteouts, opaque dirs,
# hardlinks and replaced files, pulled into $STORE as $OVL_NAME (built
# and pushed to the registry once per file)
overlay_image() {
	local L=$FIX/ovl
	if [ ! -e "$L/.done" ]; then
		oci_init "$L"
		img_begin
		local l1=$FIX/ovl-l1
		mkdir -p "$l1"
		cp -a "$(busybox_rootfs_template)/." "$l1/"
		mkdir -p "$l1"/{a,gonedir/sub,opq/sub}
		echo f1 >"$l1/a/f1"
		echo f2 >"$l1/a/f2"
		echo gone >"$l1/gone"
		echo x >"$l1/gonedir/sub/x"
		echo old >"$l1/opq/old"
		echo deep >"$l1/opq/sub/deep"
		echo base >"$l1/base"
		echo keep >"$l1/keep"
		img_layer_dir "$L" "$l1" gzip
		tar_from_python "$FIX/ovl-l2.tar" '
add_file(".wh.gone", b"")
add_file(".wh.gonedir", b"")
entry("a", tarfile.DIRTYPE)
add_file("a/.wh.f1", b"")
entry("opq", tarfile.DIRTYPE)
add_file("opq/.wh..wh..opq", b"")
add_file("opq/new", b"new")
entry("hl", tarfile.LNKTYPE, "base")
entry("sl", tarfile.SYMTYPE, "base")
add_file("fresh", b"fresh")
add_file(".wh.fresh", b"")
'
		img_layer "$L" "$FIX/ovl-l2.tar" gzip
		tar_from_python "$FIX/ovl-l3.tar" '
entry("a/f2", tarfile.DIRTYPE)
add_file("a/f2/inner", b"inner")
entry("keep", tarfile.SYMTYPE, "a/f2/inner")
add_file(".wh.base", b"")
add_file("base", b"replaced")
'
		img_layer "$L" "$FIX/ovl-l3.tar" zstd
		img_commit "$L" layered '{"Cmd":["/bin/sh","-c","ls /opq; cat /fresh"]}'
		skopeo_copy "oci:$L:layered" "docker://$REGISTRY/ovl:latest"
		touch "$L/.done"
	fi
	husk_image pull -q --tls-verify=false "docker://$REGISTRY/ovl:latest" >/dev/null
	OVL_NAME=$REGISTRY/ovl:latest
	OVL_LAYERS=3
}

# tree DIR: every path with its type, mode, owner, link target and content
tree() {
	(cd "$1" && find . -mindepth 1 -printf '%p %y %m %u:%g %l\n' | sort &&
		find . -type f -exec sha256sum {} + | sort -k2)
}

# no_mounts_under DIR: nothing in this mount namespace is mounted there
no_mounts_under() {
	! grep -q " $1" /proc/self/mountinfo
}

@test "unpack --overlay: the same tree as a full unpack, husk runs it, writes go to the upper dir, umount --rm cleans up" {
	require_root
	overlay_image
	run husk_image unpack "$OVL_NAME" "$TEST_TMP/full"
	[ "$status" -eq 0 ]
	run husk_image unpack --overlay "$OVL_NAME" "$TEST_TMP/ov"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q " $TEST_TMP/ov/rootfs .* - overlay " /proc/self/mountinfo
	diff -u <(tree "$TEST_TMP/full/rootfs") <(tree "$TEST_TMP/ov/rootfs")
	diff -u "$TEST_TMP/full/config.json" "$TEST_TMP/ov/config.json"
	r=$TEST_TMP/ov/rootfs
	[ ! -e "$r/gone" ] && [ ! -e "$r/gonedir" ] && [ ! -e "$r/a/f1" ] && [ ! -e "$r/opq/old" ]
	[ "$(cat "$r/base")" = replaced ] && [ "$(cat "$r/hl")" = base ]
	# the second layer in the cache, in overlayfs's own terms: whiteouts
	# are 0:0 character devices, the opaque directory is marked
	l2=$STORE/layers/sha256/$(sed -n 2p "$TEST_TMP/ov/overlay/layers" | cut -d: -f2)
	[ -c "$l2/gone" ] && [ "$(stat -c %t:%T "$l2/gone")" = 0:0 ] && [ -c "$l2/gonedir" ]
	[ "$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "trusted.overlay.opaque").decode())' "$l2/opq")" = y ]
	[ "$(ls -A "$l2/opq")" = new ]

	update_config "$TEST_TMP/ov" '.process.terminal = false | .root.readonly = false'
	run_sh "$TEST_TMP/ov" 'ls -A /opq; cat /fresh; echo; ls /gone /gonedir /a/f1 2>&1 | wc -l; echo made >/made; rm /keep'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = new ]
	[ "${lines[1]}" = fresh ]
	[ "${lines[2]}" = 3 ]
	# the container's changes land in the bundle, never in the cache
	[ "$(cat "$TEST_TMP/ov/overlay/upper/made")" = made ]
	[ -c "$TEST_TMP/ov/overlay/upper/keep" ]
	[ -z "$(find "$STORE/layers/sha256" -name made)" ]
	[ "$(find "$STORE/layers/sha256" -mindepth 2 -maxdepth 2 -name keep | wc -l)" = 2 ]

	run husk_image umount "$TEST_TMP/ov"
	[ "$status" -eq 0 ]
	no_mounts_under "$TEST_TMP/ov"
	run husk_image umount "$TEST_TMP/ov"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$TEST_TMP/ov/rootfs is not mounted"* ]]
	# mount brings it back with the container's changes
	run husk_image mount "$TEST_TMP/ov"
	[ "$status" -eq 0 ]
	[ "$(cat "$r/made")" = made ] && [ ! -e "$r/keep" ]
	run husk_image umount --rm "$TEST_TMP/ov"
	[ "$status" -eq 0 ]
	[ ! -e "$TEST_TMP/ov" ]
	no_mounts_under "$TEST_TMP/ov"
}

@test "unpack --overlay: a second bundle reuses the cached layers without unpacking them" {
	require_root
	overlay_image
	run husk_image --debug unpack --overlay "$OVL_NAME" "$TEST_TMP/b1"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'layer cache: unpacking sha256:' <<<"$output")" = "$OVL_LAYERS" ]
	[ "$(find "$STORE/layers/sha256" -mindepth 1 -maxdepth 1 | wc -l)" = "$OVL_LAYERS" ]
	before=$(stat -c '%n %i %Y %Z' "$STORE"/layers/sha256/*)
	run husk_image --debug unpack --overlay "$OVL_NAME" "$TEST_TMP/b2"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'layer cache: sha256:[0-9a-f]* is cached' <<<"$output")" = "$OVL_LAYERS" ]
	[[ "$output" != *"unpacking"* ]]
	[ "$before" = "$(stat -c '%n %i %Y %Z' "$STORE"/layers/sha256/*)" ]
	# two bundles, one cache, independent upper dirs
	echo one >"$TEST_TMP/b1/rootfs/mine"
	[ ! -e "$TEST_TMP/b2/rootfs/mine" ]
	husk_image umount --rm "$TEST_TMP/b1"
	husk_image umount --rm "$TEST_TMP/b2"
	no_mounts_under "$TEST_TMP"
}

@test "unpack --overlay: concurrent unpacks sharing layers cache each layer once" {
	require_root
	overlay_image
	for i in 1 2 3 4; do
		husk_image unpack --overlay "$OVL_NAME" "$TEST_TMP/c$i" >"$TEST_TMP/c$i.log" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	for i in 1 2 3 4; do
		cat "$TEST_TMP/c$i.log"
		[ "$(cat "$TEST_TMP/c$i/rootfs/opq/new")" = new ]
		husk_image umount --rm "$TEST_TMP/c$i"
	done
	[ "$(ls -A "$STORE/layers/sha256" | wc -l)" = "$OVL_LAYERS" ]
	[ -z "$(ls -A "$STORE/layers/sha256" | grep -v '^[0-9a-f]\{64\}$')" ]
}

@test "gc keeps the cached layers an image or a live overlay bundle uses and removes the rest" {
	require_root
	overlay_image
	husk_image unpack --overlay "$OVL_NAME" "$TEST_TMP/b"
	# the image is in the store: nothing to collect
	run husk_image gc
	[ "$status" -eq 0 ]
	[ "$output" = "removed 0 blobs, 0 bytes, 0 cached layers" ]
	# the image is gone but the mounted bundle still stacks the layers
	husk_image rm "$OVL_NAME"
	run husk_image gc
	[ "$status" -eq 0 ]
	[[ "$output" == "removed 5 blobs, "*", 0 cached layers" ]]
	[ "$(ls "$STORE/layers/sha256" | wc -l)" = "$OVL_LAYERS" ]
	[ "$(cat "$TEST_TMP/b/rootfs/opq/new")" = new ]
	# an unmounted bundle that still exists keeps them too (mount brings it back)
	husk_image umount "$TEST_TMP/b"
	run husk_image gc
	[[ "$output" == *", 0 cached layers" ]]
	husk_image umount --rm "$TEST_TMP/b"
	run husk_image gc
	[ "$status" -eq 0 ]
	[ "$output" = "removed 0 blobs, 0 bytes, $OVL_LAYERS cached layers" ]
	[ -z "$(ls -A "$STORE/layers/sha256")" ] && [ -z "$(ls -A "$STORE/layers/bundles")" ]
	# rm and a full unpack of another image are unaffected
	husk_image pull -q --tls-verify=false "docker://$REGISTRY/busybox:latest"
	run husk_image unpack "$REGISTRY/busybox:latest" "$TEST_TMP/full"
	[ "$status" -eq 0 ]
	[ ! -e "$STORE/layers/sha256" ] || [ -z "$(ls -A "$STORE/layers/sha256")" ]
}

@test "unpack --overlay: bad input fails naming the problem and leaves nothing behind" {
	require_root
	overlay_image
	# the cache's directories may appear, but no entry in them
	snap() {
		(cd "$TEST_TMP" && find . -path ./store/layers -prune -o -print | sort)
		find "$STORE/layers" -mindepth 2 2>/dev/null || true
		grep -c " - overlay " /proc/self/mountinfo || true
	}
	before=$(snap)
	# an image the store does not have
	run husk_image unpack --overlay "$REGISTRY/ovl:nosuch" "$TEST_TMP/b"
	[ "$status" -eq 1 ]
	[[ "$output" == *"nosuch"* ]]
	diff -u <(echo "$before") <(snap)
	# a bundle directory that already has something in it
	mkdir "$TEST_TMP/full"
	echo mine >"$TEST_TMP/full/notes"
	before=$(snap)
	run husk_image unpack --overlay "$OVL_NAME" "$TEST_TMP/full"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bundle $TEST_TMP/full is not empty (it has \"notes\")"* ]]
	diff -u <(echo "$before") <(snap)
	# a layer overlayfs cannot represent: a 0:0 character device
	tar_from_python "$TEST_TMP/dev.tar" 'entry("zero", tarfile.CHRTYPE, mode=0o600)'
	L=$TEST_TMP/devimg
	oci_init "$L"
	img_begin
	img_layer "$L" "$TEST_TMP/dev.tar" none
	img_commit "$L" dev '{}'
	skopeo_copy "oci:$L:dev" "docker://$REGISTRY/devzero:latest"
	husk_image pull -q --tls-verify=false "docker://$REGISTRY/devzero:latest"
	before=$(snap)
	run husk_image unpack --overlay "$REGISTRY/devzero:latest" "$TEST_TMP/b"
	[ "$status" -eq 1 ]
	[[ "$output" == *'entry "zero": a 0:0 character device is a whiteout to overlayfs'* ]]
	diff -u <(echo "$before") <(snap)
	# without root there is no overlay mount to make
	chmod 755 "$TEST_TMP"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$HUSK_IMAGE_BIN" --store "$TEST_TMP/nobody" unpack --overlay "$OVL_NAME" "$TEST_TMP/b"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--overlay mounts overlayfs, which needs root"* ]]
	[ ! -e "$TEST_TMP/b" ]
	# umount of something that is not an overlay bundle
	run husk_image umount "$TEST_TMP/full"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$TEST_TMP/full is not an overlay bundle"* ]]
	[ "$(cat "$TEST_TMP/full/notes")" = mine ]
}
