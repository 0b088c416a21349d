# Image fixtures shared by the bats suites and contrib/demo.sh. Plain bash:
# nothing here needs bats. A busybox rootfs from Debian's busybox-static,
# OCI image layouts written with tar, jq and sha256sum (so every byte of
# every test image is known), and a local registry (Debian's
# docker-registry on 127.0.0.1) fed with skopeo.
# Scratch files go to FIXTURE_TMP (default: the bats file's temp dir).

fixture_tmp() {
	echo "${FIXTURE_TMP:-${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}}"
}

# fixture_missing MESSAGE: a tool is not installed. Under bats the test is
# skipped (saying why); anywhere else it is an error.
fixture_missing() {
	if declare -F skip >/dev/null; then
		skip "$1"
	fi
	echo "$1" >&2
	return 1
}

# busybox_rootfs DIR: a root filesystem with Debian's static busybox, a
# link per applet, and root/nobody in /etc/passwd and /etc/group.
busybox_rootfs() {
	local dir=$1 busybox applet
	busybox=$(command -v busybox) || { fixture_missing "busybox-static is not installed"; return 1; }
	file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
		[ -x /bin/busybox ] || { fixture_missing "no static busybox"; return 1; }
	mkdir -p "$dir"/{bin,etc,tmp,proc,sys,dev,root,var,run}
	cp "$busybox" "$dir/bin/busybox"
	for applet in $("$busybox" --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
	echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$dir/etc/passwd"
	printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$dir/etc/group"
	chmod 1777 "$dir/tmp"
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}


# start_registry DIR [HTTP-YAML] [TOP-YAML]: serve a registry with its
# storage in DIR; HTTP-YAML goes under http: (indented by two spaces),
# TOP-YAML at the top. Sets REGISTRY (host:port) and REGISTRY_PID.
start_registry() {
	local dir=$1 http=${2:-} top=${3:-} port i
	command -v docker-registry >/dev/null || { fixture_missing "docker-registry is not installed"; return 1; }
	mkdir -p "$dir/storage"
	port=$(free_port)
	{
		printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n'
		printf '    rootdirectory: %s\n' "$dir/storage"
		printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
		[ -z "$http" ] || printf '%s\n' "$http"
		[ -z "$top" ] || printf '%s\n' "$top"
	} >"$dir/config.yml"
	docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
	REGISTRY_PID=$!
	REGISTRY=127.0.0.1:$port
	for i in $(seq 100); do
		if curl -s -o /dev/null "http://$REGISTRY/v2/" || curl -s -k -o /dev/null "https://$REGISTRY/v2/"; then
			return 0
		fi
		kill -0 "$REGISTRY_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir/log" >&2
	return 1
}


stop_registry() {
	if [ -n "${REGISTRY_PID:-}" ]; then
		kill "$REGISTRY_PID" 2>/dev/null || true
		wait "$REGISTRY_PID" 2>/dev/null || true
	fi
}


# skopeo with a policy of our own, so the host's policy.json does not matter
skopeo_copy() {
	local policy
	command -v skopeo >/dev/null || { fixture_missing "skopeo is not installed"; return 1; }
	policy=$(fixture_tmp)/policy.json
	[ -e "$policy" ] || echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"
	skopeo --policy "$policy" copy -q --dest-tls-verify=false "$@"
}


oci_init() {
	mkdir -p "$1/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$1/oci-layout"
	[ -e "$1/index.json" ] || echo '{"schemaVersion":2,"manifests":[]}' >"$1/index.json"
}


# oci_put LAYOUT FILE: store FILE as a blob; prints its digest
oci_put() {
	local hex
	hex=$(sha256sum "$2" | cut -d' ' -f1)
	cp "$2" "$1/blobs/sha256/$hex"
	echo "sha256:$hex"
}


# img_begin: start a new image; img_layer adds layers, img_commit writes it
img_begin() {
	IMG_LAYERS=()
	IMG_DIFFIDS=()
}


# img_layer LAYOUT TARFILE [gzip|zstd|none]
img_layer() {
	local layout=$1 tarfile=$2 comp=${3:-gzip} mt blob digest size diff
	diff=sha256:$(sha256sum "$tarfile" | cut -d' ' -f1)
	blob=$tarfile.blob
	case $comp in
	gzip) gzip -n -c "$tarfile" >"$blob"; mt=application/vnd.oci.image.layer.v1.tar+gzip ;;
	zstd) zstd -q -c "$tarfile" >"$blob"; mt=application/vnd.oci.image.layer.v1.tar+zstd ;;
	none) cp "$tarfile" "$blob"; mt=application/vnd.oci.image.layer.v1.tar ;;
	esac
	digest=$(oci_put "$layout" "$blob")
	size=$(stat -c %s "$blob")
	rm -f "$blob"
	IMG_LAYERS+=("{\"mediaType\":\"$mt\",\"digest\":\"$digest\",\"size\":$size}")
	IMG_DIFFIDS+=("\"$diff\"")
}


# img_layer_dir LAYOUT DIR [COMP]: a layer with DIR's content
img_layer_dir() {
	local tarfile
	tarfile=$(mktemp "$(fixture_tmp)/layer.XXXXXX")
	tar --numeric-owner --sort=name --mtime=@1700000000 -C "$2" -cf "$tarfile" .
	img_layer "$1" "$tarfile" "${3:-gzip}"
	rm -f "$tarfile"
}


# img_manifest LAYOUT EXEC-CONFIG-JSON [ARCH] [VARIANT]: write config and
# manifest blobs; sets IMG_MANIFEST (digest) and IMG_MANIFEST_SIZE
img_manifest() {
	local layout=$1 exec=${2:-'{}'} arch=${3:-amd64} variant=${4:-} tmp cdigest csize layers diffids
	tmp=$(mktemp "$(fixture_tmp)/blob.XXXXXX")
	diffids=$(IFS=,; echo "[${IMG_DIFFIDS[*]}]")
	layers=$(IFS=,; echo "[${IMG_LAYERS[*]}]")
	jq -c -n --argjson cfg "$exec" --arg arch "$arch" --arg variant "$variant" --argjson d "$diffids" \
		'{architecture: $arch, os: "linux", config: $cfg, rootfs: {type: "layers", diff_ids: $d}}
		 + (if $variant != "" then {variant: $variant} else {} end)' >"$tmp"
	cdigest=$(oci_put "$layout" "$tmp")
	csize=$(stat -c %s "$tmp")
	jq -c -n --arg cd "$cdigest" --argjson cs "$csize" --argjson l "$layers" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
		  layers: $l}' >"$tmp"
	IMG_MANIFEST=$(oci_put "$layout" "$tmp")
	IMG_MANIFEST_SIZE=$(stat -c %s "$tmp")
	rm -f "$tmp"
}


# img_tag LAYOUT TAG DIGEST SIZE [MEDIATYPE]: name a manifest or index
img_tag() {
	local layout=$1 tag=$2 digest=$3 size=$4 mt=${5:-application/vnd.oci.image.manifest.v1+json}
	jq -c --arg t "$tag" --arg d "$digest" --argjson s "$size" --arg mt "$mt" \
		'.manifests = [.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] != $t)]
		 + [{mediaType: $mt, digest: $d, size: $s,
		     annotations: {"org.opencontainers.image.ref.name": $t}}]' \
		"$layout/index.json" >"$layout/index.json.new"
	mv "$layout/index.json.new" "$layout/index.json"
}


# img_commit LAYOUT TAG EXEC-CONFIG-JSON: manifest + tag in one go
img_commit() {
	img_manifest "$1" "${3:-'{}'}"
	img_tag "$1" "$2" "$IMG_MANIFEST" "$IMG_MANIFEST_SIZE"
}

