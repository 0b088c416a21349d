# Helpers for the husk-image suite on top of fixtures.bash (the registry
# and the OCI layouts, loaded by helpers.bash): the store, TLS, auth and
# hand-crafted tars.

husk_image() {
	"$HUSK_IMAGE_BIN" --store "$STORE" "$@"
}

# make_test_ca DIR: a CA (DIR/ca.crt) and a certificate for 127.0.0.1
# signed by it (DIR/server.crt, DIR/server.key)
make_test_ca() {
	local d=$1
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=husk-test-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext" -out "$d/server.crt" 2>/dev/null
}

# start_token_registry [LIFETIME]: a registry that wants bearer tokens from
# token-server.py (user alice:s3cret, tokens signed by a test CA, good for
# LIFETIME seconds when given; requests logged in $TEST_TMP/token.log).
# The test's teardown becomes stop_token_registry + teardown_common.
start_token_registry() {
	command -v openssl >/dev/null || skip "openssl is not installed"
	make_test_ca "$TEST_TMP/ca"
	python3 "$BATS_TEST_DIRNAME/token-server.py" "$TEST_TMP/token-port" "$TEST_TMP/ca/ca.key" \
		"$TEST_TMP/ca/ca.crt" "$TEST_TMP/token.log" alice:s3cret ${1:+"$1"} 3>&- &
	TOKEN_PID=$!
	teardown() {
		stop_token_registry
		teardown_common
	}
	local i
	for i in $(seq 100); do
		[ -e "$TEST_TMP/token-port" ] && break
		sleep 0.1
	done
	start_registry "$TEST_TMP/tokreg" "" "auth:
  token:
    realm: http://127.0.0.1:$(cat "$TEST_TMP/token-port")/token
    service: husk-registry
    issuer: husk-test-issuer
    rootcertbundle: $TEST_TMP/ca/ca.crt"
}

stop_token_registry() {
	stop_registry
	kill "$TOKEN_PID" 2>/dev/null || true
	wait "$TOKEN_PID" 2>/dev/null || true
}

# htpasswd_line USER PASS: a bcrypt entry as the registry's htpasswd wants
htpasswd_line() {
	python3 -W ignore -c 'import crypt, sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$1" "$2"
}

# tar_from_python OUT PYTHON-CODE: craft a tar with python's tarfile, for
# entries no honest tool writes. The code sees `tar`, `tarfile`,
# `add_file(name, data, mode)`, `entry(name, type, linkname, mode)`,
# `add(info)` and OUT (the environment's $OUT).
tar_from_python() {
	python3 - "$1" "$2" <<-'PY'
		import io, os, sys, tarfile
		out, code = sys.argv[1], sys.argv[2]
		OUT = os.environ.get("OUT", "")
		with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
		    def add_file(name, data=b"x", mode=0o644):
		        info = tarfile.TarInfo(name)
		        info.size = len(data)
		        info.mode = mode
		        tar.addfile(info, io.BytesIO(data))
		    def add(info):
		        tar.addfile(info)
		    def entry(name, type, linkname="", mode=0o755):
		        info = tarfile.TarInfo(name)
		        info.type = type
		        info.linkname = linkname
		        info.mode = mode
		        tar.addfile(info)
		    exec(code)
	PY
}
