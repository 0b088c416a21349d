#!/usr/bin/env bats
# husk-image against a hostile registry (hostile-registry.py on 127.0.0.1),
# a store damaged by hand, SIGKILL at random points of a pull and a full
# disk. Every test checks that the error names the cause, that nothing
# outside changed and that the store still lists, removes, gc's and passes
# fsck with nothing left behind.

load helpers
load image-helpers

setup_file() {
	[ -x "$HUSK_IMAGE_BIN" ] || skip "husk-image is not built (configure --disable-image)"
	command -v python3 >/dev/null || skip "python3 is not installed"
}

setup() {
	setup_common
	STORE=$TEST_TMP/store
	HOSTILE_PID=
}

teardown() {
	stop_hostile
	if [ -n "${FULL_MNT:-}" ] && mountpoint -q "$FULL_MNT"; then
		umount "$FULL_MNT"
	fi
	teardown_common
}

# start_hostile CONFIG-JSON: the hostile registry with CONFIG (see
# hostile-registry.py) plus its port file and log. Sets HOSTILE
# (127.0.0.1:PORT, the main listener), SIDE_PORT and HLOG.
start_hostile() {
	stop_hostile
	HLOG=$TEST_TMP/hostile.log
	local conf=$TEST_TMP/hostile.json i
	rm -f "$TEST_TMP/hostile-ports"
	jq -n --argjson c "$1" --arg p "$TEST_TMP/hostile-ports" --arg l "$HLOG" \
		'$c + {portfile: $p, log: $l}' >"$conf"
	: >"$HLOG"
	python3 "$BATS_TEST_DIRNAME/hostile-registry.py" "$conf" 3>&- &
	HOSTILE_PID=$!
	for i in $(seq 100); do
		[ -e "$TEST_TMP/hostile-ports" ] && break
		sleep 0.1
	done
	read -r main SIDE_PORT <"$TEST_TMP/hostile-ports"
	HOSTILE=127.0.0.1:$main
}

stop_hostile() {
	if [ -n "${HOSTILE_PID:-}" ]; then
		kill "$HOSTILE_PID" 2>/dev/null || true
		wait "$HOSTILE_PID" 2>/dev/null || true
		HOSTILE_PID=
	fi
}

# the store works and holds nothing stray: list, gc, fsck
assert_store_usable() {
	run husk_image list
	[ "$status" -eq 0 ]
	run husk_image gc
	[ "$status" -eq 0 ]
	run husk_image fsck
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"no problems"* ]]
	[ -z "$(find "$STORE" -name '.tmp-*' -o -name '.partial-*' -o -name '.index.json.tmp.*')" ]
}

blob_file() {
	echo "$STORE/blobs/sha256/${1#sha256:}"
}

@test "TLS: a bearer challenge whose realm is plain HTTP does not get the credentials" {
	command -v openssl >/dev/null || skip "openssl is not installed"
	make_test_ca "$TEST_TMP/ca"
	start_hostile "{\"mode\":\"bearer-http-realm\",\"cert\":\"$TEST_TMP/ca/server.crt\",\"key\":\"$TEST_TMP/ca/server.key\",\"images\":{\"app:latest\":{}}}"
	run husk_image pull -q --cert-dir "$TEST_TMP/ca" --creds alice:s3cret "docker://$HOSTILE/app:latest"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$HOSTILE: the registry (HTTPS) sends for tokens to the plain-HTTP realm http://127.0.0.1:$SIDE_PORT/token: refused"* ]]
	# the plain-HTTP side never saw a request, let alone the password
	[ "$(grep -c '^SIDE' "$HLOG")" = 0 ]
	run husk_image list -q
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	assert_store_usable
	# what tells the check apart: with verification off, the realm is used
	run husk_image pull -q --tls-verify=false --creds alice:s3cret "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	grep -q '^SIDE GET /token.* auth=Basic ' "$HLOG"
}

@test "TLS: a redirect to plain HTTP is not followed" {
	command -v openssl >/dev/null || skip "openssl is not installed"
	make_test_ca "$TEST_TMP/ca"
	start_hostile "{\"mode\":\"redirect-http\",\"cert\":\"$TEST_TMP/ca/server.crt\",\"key\":\"$TEST_TMP/ca/server.key\",\"images\":{\"app:latest\":{}}}"
	run husk_image pull -q --cert-dir "$TEST_TMP/ca" "docker://$HOSTILE/app:latest"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"GET https://$HOSTILE/v2/app/manifests/latest: the registry redirects to http://127.0.0.1:$SIDE_PORT/v2/app/manifests/latest: refused"* ]]
	[ "$(grep -c '^SIDE' "$HLOG")" = 0 ]
	run husk_image list -q
	[ "$output" = "" ]
	assert_store_usable
	# a blob's redirect neither (a CDN may be elsewhere, but on HTTPS)
	start_hostile "{\"mode\":\"redirect-http\",\"redirect\":\"blobs\",\"cert\":\"$TEST_TMP/ca/server.crt\",\"key\":\"$TEST_TMP/ca/server.key\",\"images\":{\"app:latest\":{}}}"
	run husk_image pull -q --cert-dir "$TEST_TMP/ca" "docker://$HOSTILE/app:latest"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"blob sha256:"*": GET https://$HOSTILE/v2/app/blobs/sha256:"*": the registry redirects to http://127.0.0.1:$SIDE_PORT/v2/app/blobs/sha256:"*": refused"* ]]
	[ "$(grep -c '^SIDE' "$HLOG")" = 0 ]
	assert_store_usable
	# a plain-HTTP registry may redirect to plain HTTP
	start_hostile '{"mode":"redirect-http","images":{"app:latest":{}}}'
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	grep -q '^SIDE GET /v2/app/manifests/latest' "$HLOG"
}

@test "a token holding CR LF is refused naming the token server, and never sent" {
	start_hostile '{"mode":"token","token":"abc\r\nX-Injected: yes","images":{"app:latest":{}}}'
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$HOSTILE: the token server http://$HOSTILE/token?scope=repository%3Aapp%3Apull&service=hostile: token response: the token holds a control character (byte 0x0d at offset 3): refused"* ]]
	# the raw CR never reaches the terminal either
	[[ "$output" != *$'\r'* ]]
	[ "$(grep -c 'auth=Bearer' "$HLOG")" = 0 ]
	assert_store_usable
	# a realm too long to hold is refused, not cut short
	start_hostile "{\"mode\":\"token\",\"token\":\"t\",\"realm_suffix\":\"?$(printf 'a%.0s' $(seq 3000))\",\"images\":{\"app:latest\":{}}}"
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$HOSTILE: WWW-Authenticate: a value longer than 2047 bytes: refused"* ]]
	[ "$(grep -c '/token' "$HLOG")" = 0 ]
	# a realm with a control character or a space is not asked
	start_hostile '{"mode":"token","token":"t","realm_suffix":"?x=a\u001b b","images":{"app:latest":{}}}'
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$HOSTILE: the registry's token realm or service holds control characters or spaces: refused"* ]]
	[ "$(grep -c '/token' "$HLOG")" = 0 ]
	# the same server with an honest token: the pull works
	start_hostile '{"mode":"token","token":"good.token-_~+/=","images":{"app:latest":{}}}'
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	grep -q 'auth=Bearer good.token-_~+/=' "$HLOG"
}

@test "--timeout: a registry that drips 2 bytes a second cannot keep a pull running" {
	start_hostile '{"mode":"drip","drip":"blob","images":{"app:latest":{"random":4096}}}'
	run timeout 60 "$HUSK_IMAGE_BIN" --store "$STORE" pull -q --tls-verify=false --timeout 3 "docker://$HOSTILE/app:latest"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"blob sha256:"*": GET http://$HOSTILE/v2/app/blobs/sha256:"*": no complete answer within 3 seconds (--timeout)"* ]]
	run husk_image list -q
	[ "$output" = "" ]
	assert_store_usable

	start_hostile '{"mode":"drip","drip":"manifest","images":{"app:latest":{}}}'
	run timeout 60 "$HUSK_IMAGE_BIN" --store "$STORE" pull -q --tls-verify=false --timeout 2 "docker://$HOSTILE/app:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *"GET http://$HOSTILE/v2/app/manifests/latest: no complete answer within 2 seconds (--timeout)"* ]]
	assert_store_usable

	run husk_image pull --timeout 0 "docker://$HOSTILE/app:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *'--timeout: "0" is not 1..604800 seconds'* ]]
	# a name longer than any URL buffer is refused, not cut
	long=$(printf 'a%.0s' $(seq 300))
	run husk_image pull --tls-verify=false "docker://$HOSTILE/$long:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *"HOST/NAME is $((${#HOSTILE} + 301)) characters long (the limit is 255)"* ]]
	[ "$(grep -c "$long" "$HLOG")" = 0 ]
	# so is an auth file path that would not fit
	HOME=/$(printf 'h%.0s' $(seq 5000)) REGISTRY_AUTH_FILE= XDG_RUNTIME_DIR= run husk_image pull --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *'$HOME: too long (over 4096 bytes)'* ]]
}

@test "a multi-megabyte string in an image config is refused naming the field; the store stays usable" {
	start_hostile '{"images":{"app:huge":{"config_huge":{"variant":3000000}},"app:ok":{}}}'
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:huge"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$HOSTILE/app:huge: platform.variant is 3000000 bytes long (the store keeps at most 255): refused"* ]]
	[ "$(stat -c %s "$STORE/index.json")" -lt 1000 ]
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:ok"
	[ "$status" -eq 0 ]
	run husk_image list -q
	[ "$output" = "$HOSTILE/app:ok" ]
	assert_store_usable
	# gc freed the refused image's blobs: the store holds one image's three
	[ "$(ls "$STORE/blobs/sha256" | wc -l)" -eq 3 ]
}

@test "a damaged index.json (huge, truncated, hand-edited) locks nobody out of list, rm, tag and gc" {
	start_hostile '{"images":{"app:latest":{},"app:other":{"file":"other\n"}}}'
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	digest=${lines[-1]}
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:other"
	[ "$status" -eq 0 ]
	other=${lines[-1]}

	# an entry with a 6 MB variant, as a hand edit (or an older tool) leaves it
	python3 - "$STORE/index.json" <<-'PY'
		import json, sys
		idx = json.load(open(sys.argv[1]))
		bad = dict(idx["manifests"][0])
		bad["platform"] = {"os": "linux", "architecture": "amd64", "variant": "v" * 6000000}
		bad["annotations"] = {"org.opencontainers.image.ref.name": "huge"}
		idx["manifests"].insert(0, bad)
		idx["manifests"][2]["artifactType"] = "application/x-kept"
		json.dump(idx, open(sys.argv[1], "w"))
	PY
	[ "$(stat -c %s "$STORE/index.json")" -gt 6000000 ]
	run husk_image list -q
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"index.json: 1 unreadable entries dropped (manifests[0]: platform.variant is 6000000 bytes long (the limit is 255))"* ]]
	[[ "$output" == *"$HOSTILE/app:latest"* ]]
	run husk_image fsck
	[ "$status" -eq 1 ]
	[[ "$output" == *"damaged: store $STORE: index.json: 1 unreadable entries dropped"* ]]
	run husk_image rm "$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$STORE/index.json")" -lt 1000 ]
	# what the store does not use of an entry it keeps survives the rewrite
	[ "$(jq -r '.manifests[0].artifactType' "$STORE/index.json")" = application/x-kept ]
	run husk_image list -q
	[ "$output" = "$HOSTILE/app:other" ]

	# truncated in the middle of the second entry: the first is kept
	run husk_image tag "$HOSTILE/app:other" again
	[ "$status" -eq 0 ]
	size=$(stat -c %s "$STORE/index.json")
	truncate -s $((size - 40)) "$STORE/index.json"
	run husk_image list -q
	[ "$status" -eq 0 ]
	[[ "$output" == *"index.json is not valid JSON after byte"*"(1 entries read before that)"* ]]
	[[ "${lines[-1]}" = "$HOSTILE/app:other" ]]
	run husk_image rm "$other"
	[ "$status" -eq 0 ]
	run husk_image list -q
	[ "$output" = "" ]

	# not JSON at all, then not even a file
	echo 'garbage{' >"$STORE/index.json"
	run husk_image gc
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: store $STORE: index.json is not valid JSON after byte"*"index.json rewritten"* ]]
	rm "$STORE/index.json"
	mkdir "$STORE/index.json"
	run husk_image list
	[ "$status" -eq 0 ]
	rmdir "$STORE/index.json"
	# nor does a lost or garbled oci-layout file
	rm "$STORE/oci-layout"
	run husk_image list
	[ "$status" -eq 0 ]
	[[ "$output" == *"store $STORE: oci-layout: No such file or directory; 'husk-image gc' rewrites it"* ]]
	echo '{"imageLayout' >"$STORE/oci-layout"
	run husk_image fsck
	[ "$status" -eq 1 ]
	[[ "$output" == *"damaged: oci-layout is missing or not a valid OCI layout file"* ]]
	assert_store_usable
	[ "$(jq -r .imageLayoutVersion "$STORE/oci-layout")" = 1.0.0 ]
	[ -z "$(ls "$STORE/blobs/sha256")" ]
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$digest" ]
}

@test "an honest store with 3000 names lists, removes and gc's" {
	start_hostile '{"images":{"app:latest":{}}}'
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	digest=${lines[-1]}
	mapfile -t names < <(seq -f "registry.example/team/app:tag-%g" 3000)
	run husk_image tag "$HOSTILE/app:latest" "${names[@]}"
	[ "$status" -eq 0 ]
	run husk_image list -q
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3001 ]
	[ "${lines[3000]}" = "registry.example/team/app:tag-3000" ]
	run husk_image tag "$digest" "docker://registry.example/other:1"
	[ "$status" -eq 0 ]
	[ "$(husk_image list -q | tail -1)" = "registry.example/other:1" ]
	run husk_image rm registry.example/team/app:tag-1 "docker://registry.example/team/app:tag-2"
	[ "$status" -eq 0 ]
	[ "$(husk_image list -q | wc -l)" -eq 3000 ]
	run husk_image unpack registry.example/team/app:tag-2999 "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/b/rootfs/hello")" = hello ]
	# a digest removes every name of the image
	run husk_image rm "$digest"
	[ "$status" -eq 0 ]
	run husk_image list -q
	[ "$output" = "" ]
	run husk_image gc
	[[ "$output" == "removed 3 blobs,"* ]]
	assert_store_usable
	run husk_image tag nosuch newname
	[ "$status" -eq 1 ]
	[[ "$output" == *"nosuch: no such image in the store"* ]]
	run husk_image tag "$digest" $'bad\033name'
	[ "$status" -eq 1 ]
	[[ "$output" == *'"bad\x1bname": a name holds control characters'* ]]
}

@test "a corrupted blob of the right size is fetched again; fsck names it" {
	start_hostile '{"images":{"app:latest":{"random":65536}}}'
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	run husk_image fsck
	[ "$status" -eq 0 ]
	[[ "$output" == "store $STORE: 3 blobs and 1 names checked, no problems" ]]
	manifest=$(blob_file "${lines[-1]}")
	layer=$(husk_image inspect "$HOSTILE/app:latest" | jq -r '.manifest.layers[0].digest')
	size=$(stat -c %s "$(blob_file "$layer")")
	printf 'X' | dd of="$(blob_file "$layer")" bs=1 seek=1000 conv=notrunc status=none
	[ "$(stat -c %s "$(blob_file "$layer")")" -eq "$size" ]
	run husk_image fsck
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"corrupt: blob $layer: its content hashes to sha256:"* ]]
	[[ "$output" == *"1 problems"* ]]
	: >"$HLOG"
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	grep -q "GET /v2/app/blobs/$layer " "$HLOG"
	[ "sha256:$(sha256sum "$(blob_file "$layer")" | cut -d' ' -f1)" = "$layer" ]
	assert_store_usable
	# an intact store is not fetched again
	: >"$HLOG"
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	[ "$(grep -c "/blobs/" "$HLOG")" = 0 ]
}

@test "a partial download is continued only from its own source, and started over once when it is wrong" {
	start_hostile '{"images":{"app:latest":{"random":200000}}}'
	# the layer's digest, from a pull into another store
	run "$HUSK_IMAGE_BIN" --store "$TEST_TMP/ref" pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	layer=$("$HUSK_IMAGE_BIN" --store "$TEST_TMP/ref" inspect "$HOSTILE/app:latest" | jq -r '.manifest.layers[0].digest')
	mkdir -p "$STORE/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$STORE/oci-layout"
	echo '{"schemaVersion":2,"manifests":[]}' >"$STORE/index.json"
	# another registry's part: left alone, not continued
	foreign=$STORE/blobs/sha256/.partial-${layer#sha256:}-0000000000000000
	head -c 1000 /dev/urandom >"$foreign"
	# a part under our own name holding the wrong bytes
	src=$(printf '%s' "$HOSTILE/app" | sha256sum | cut -c1-16)
	ours=$STORE/blobs/sha256/.partial-${layer#sha256:}-$src
	head -c 5000 /dev/urandom >"$ours"
	: >"$HLOG"
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"blob $layer: the download continued from byte 5000 failed (blob $layer: digest mismatch"*"fetching it again from byte 0"* ]]
	grep -q "GET /v2/app/blobs/$layer auth=- range=bytes=5000-" "$HLOG"
	grep -q "GET /v2/app/blobs/$layer auth=- range=-" "$HLOG"
	[ "sha256:$(sha256sum "$(blob_file "$layer")" | cut -d' ' -f1)" = "$layer" ]
	[ ! -e "$ours" ]
	[ "$(stat -c %s "$foreign")" -eq 1000 ]
	run husk_image fsck
	[ "$status" -eq 1 ]
	[[ "$output" == *"stray: blobs/sha256/.partial-${layer#sha256:}-0000000000000000 (1000 bytes, left by an interrupted pull)"* ]]
	assert_store_usable
	[ ! -e "$foreign" ]
}

@test "an image pulled from an oci: layout is removed by the name list shows and by its digest" {
	L=$TEST_TMP/$'lay\033]0;title\007out'
	oci_init "$L"
	mkdir -p "$TEST_TMP/content"
	echo hi >"$TEST_TMP/content/hi"
	img_begin
	img_layer_dir "$L" "$TEST_TMP/content" gzip
	img_commit "$L" latest '{"Cmd":["/hi"]}'
	run husk_image pull -q "oci:$L:latest"
	[ "$status" -eq 0 ]
	digest=${lines[-1]}
	run husk_image list -q
	[ "$output" = "oci:$TEST_TMP/lay\\x1b]0;title\\x07out:latest" ]
	run husk_image rm "oci:$L:latest"
	[ "$status" -eq 0 ]
	run husk_image list -q
	[ "$output" = "" ]
	run husk_image pull -q "oci:$L:latest"
	[ "$status" -eq 0 ]
	run husk_image rm "$digest"
	[ "$status" -eq 0 ]
	run husk_image gc
	[[ "$output" == "removed 3 blobs,"* ]]
	assert_store_usable
	[ -z "$(ls "$STORE/blobs/sha256")" ]
	# the layout itself is untouched
	[ "$(jq '.manifests | length' "$L/index.json")" -eq 1 ]
	run husk_image rm "oci:$L:latest"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no such image in the store"* ]]
}

@test "control characters from registries and images are escaped in list, inspect and errors" {
	start_hostile '{"images":{"app:esc":{"config":{"variant":"v8\u001b[2J\u0007"}},"app:badmt":{"layer_media_type":"application/x\u001b]0;pwned\u0007"}}}'
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:esc"
	[ "$status" -eq 0 ]
	run husk_image list
	[ "$status" -eq 0 ]
	[[ "$output" == *'/v8\x1b[2J\x07 '* ]]
	[[ "$output" != *$'\033'* && "$output" != *$'\007'* ]]
	run husk_image inspect "$HOSTILE/app:esc"
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\033'* && "$output" != *$'\007'* ]]
	[ "$(echo "$output" | jq -r .config.variant)" = $'v8\033[2J\007' ]
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:badmt"
	[ "$status" -eq 1 ]
	[[ "$output" == *'layers[0]: unsupported media type "application/x\x1b]0;pwned\x07"'* ]]
	[[ "$output" != *$'\033'* && "$output" != *$'\007'* ]]
	assert_store_usable
}

@test "fsck: a clean store passes; stray temp files fail it until gc removes them" {
	start_hostile '{"images":{"app:latest":{}}}'
	run husk_image fsck
	[ "$status" -eq 1 ]
	[[ "$output" == *"$STORE"* ]]
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	run husk_image fsck
	[ "$status" -eq 0 ]
	# what a SIGKILL during an index.json write leaves, a blob temp, and an
	# unknown file
	head -c 3000000 /dev/zero >"$STORE/.index.json.tmp.4242"
	head -c 10 /dev/zero >"$STORE/blobs/sha256/.tmp-4242-0-1"
	echo x >"$STORE/blobs/sha256/notablob"
	mkdir -p "$STORE/layers/sha256/.tmp-0123456789abcdef/sub"
	run husk_image fsck
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"stray: layers/sha256/.tmp-0123456789abcdef (left by an interrupted unpack)"* ]]
	[[ "$output" == *"stray: .index.json.tmp.4242 (3000000 bytes, a temp file of an interrupted write)"* ]]
	[[ "$output" == *"stray: blobs/sha256/.tmp-4242-0-1 (10 bytes, left by an interrupted pull)"* ]]
	[[ "$output" == *"stray: blobs/sha256/notablob (a file, not a blob)"* ]]
	[[ "$output" == *"4 problems"* ]]
	run husk_image gc
	[ "$status" -eq 0 ]
	[[ "$output" == "removed 3 blobs, 3000012 bytes, 0 cached layers" ]]
	run husk_image list -q
	[ "$output" = "$HOSTILE/app:latest" ]
	assert_store_usable
	# a blob named in index.json that is gone
	rm "$(blob_file "$(husk_image inspect "$HOSTILE/app:latest" | jq -r .manifest.config.digest)")"
	run husk_image fsck
	[ "$status" -eq 1 ]
	[[ "$output" == *"missing: config sha256:"*" of $HOSTILE/app:latest"* ]]
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	assert_store_usable
	# every blob gone, directory and all
	rm -r "$STORE/blobs"
	run husk_image list -q
	[ "$status" -eq 1 ]
	[[ "$output" == *"store $STORE: blobs/sha256 is missing ('husk-image gc' makes it again)"* ]]
	run husk_image fsck
	[ "$status" -eq 1 ]
	[[ "$output" == *"missing: manifest sha256:"*" of $HOSTILE/app:latest"* ]]
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	assert_store_usable
}

@test "SIGKILL at random points of a pull: gc and fsck pass afterwards, and the next pull works" {
	# 2 MB of noise at 4 MB/s, and 1500 names of another image so that
	# index.json writes take a while
	start_hostile '{"rate":4000000,"images":{"app:latest":{"random":2000000},"app:pad":{}}}'
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:pad"
	[ "$status" -eq 0 ]
	mapfile -t names < <(seq -f "example.org/padding/name:t%g" 1500)
	husk_image tag "$HOSTILE/app:pad" "${names[@]}"
	for round in $(seq 10); do
		husk_image rm "docker://$HOSTILE/app:latest" >/dev/null 2>&1 || true
		husk_image gc >/dev/null
		"$HUSK_IMAGE_BIN" --store "$STORE" pull -q --tls-verify=false "docker://$HOSTILE/app:latest" >/dev/null 2>&1 3>&- &
		pid=$!
		sleep "0.$((RANDOM % 7))$((RANDOM % 10))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" || true
		run husk_image gc
		[ "$status" -eq 0 ]
		run husk_image fsck
		echo "round $round: $output"
		[ "$status" -eq 0 ]
	done
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:latest"
	[ "$status" -eq 0 ]
	[ "$(husk_image list -q | wc -l)" -ge 1500 ]
	assert_store_usable
}

@test "a full disk: the pull fails naming it, gc and fsck pass, a pull that fits works" {
	require_root
	FULL_MNT=$TEST_TMP/full
	mkdir -p "$FULL_MNT"
	mount -t tmpfs -o size=1m tmpfs "$FULL_MNT" || skip "cannot mount a tmpfs"
	STORE=$FULL_MNT/store
	start_hostile '{"images":{"app:big":{"random":2000000},"app:small":{"file":"small\n"},"app:small2":{"file":"small2\n"}}}'
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:big"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"No space left on device"* ]]
	run husk_image list -q
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	assert_store_usable
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:small"
	[ "$status" -eq 0 ]
	# full to the last byte: the next pull fails at a blob or at index.json
	dd if=/dev/zero of="$FULL_MNT/filler" bs=4k status=none 2>/dev/null || true
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:small2"
	[ "$status" -eq 1 ]
	[[ "$output" == *"No space left on device"* ]]
	run husk_image list -q
	[ "$output" = "$HOSTILE/app:small" ]
	# and a damaged index.json on the full disk: gc still frees the space
	printf "X" | dd of="$STORE/index.json" bs=1 seek=0 conv=notrunc status=none
	run husk_image gc
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"index.json could not be rewritten ("*"No space left on device): collecting from what could be read all the same"* ]]
	[[ "$output" == *"removed 3 blobs, "* ]]
	rm "$FULL_MNT/filler"
	assert_store_usable
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:small2"
	[ "$status" -eq 0 ]
	run husk_image pull -q --tls-verify=false "docker://$HOSTILE/app:small"
	[ "$status" -eq 0 ]
	assert_store_usable
	run husk_image unpack "$HOSTILE/app:small" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/b/rootfs/hello")" = small ]
}
