#!/usr/bin/env bats
# LSM labels. Where the host does not run an LSM, every field that asks for
# its labels is refused before anything exists, naming the field, and husk
# features reports it as unsupported. Where the host runs AppArmor (the v2
# test guest's Debian kernel does; this build host's kernel does not), a
# profile loaded by the test confines the container's process and exec'd
# processes: /proc/self/attr/current names it and its deny rule holds.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	HOST_SELINUX= HOST_APPARMOR= LOADED_PROFILES=()
	[ -e /sys/fs/selinux/enforce ] && HOST_SELINUX=1
	[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] && HOST_APPARMOR=1
	return 0
}

teardown() {
	teardown_common_lsm
}

# refused VERB NAME JQ-FILTER TEXT: `husk VERB` of the bundle changed by
# JQ-FILTER, under the id ctr_id NAME, fails with TEXT in its output and
# leaves no state dir, no cgroup, no process
refused() {
	local id
	id=$(ctr_id "$2")
	update_config "$BUNDLE" "$3 | .process.args = [\"sleep\", \"lsm-marker-$id\"]"
	run husk "$1" -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$4"* ]]
	assert_nothing_left "$id" "lsm-marker-$id"
	[ -z "$(husk list -q)" ]
}

# refused_at_create JQ-FILTER FIELD: on a host without the LSM, create fails
# naming FIELD and saying so, and leaves nothing
refused_at_create() {
	refused create lsm "$1" "$2: "
	[[ "$output" == *"which this host does not run"* ]]
}

@test "process.selinuxLabel is refused at create, naming the field, and nothing is left" {
	[ -z "$HOST_SELINUX" ] || skip "the host runs SELinux"
	refused_at_create '.process.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"' process.selinuxLabel
	[[ "$output" == *'\"system_u:system_r:container_t:s0:c1,c2\" asks for SELinux'* ]]
}

@test "linux.mountLabel is refused at create, naming the field, and nothing is left" {
	[ -z "$HOST_SELINUX" ] || skip "the host runs SELinux"
	refused_at_create '.linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"' linux.mountLabel
	[[ "$output" == *SELinux* ]]
}

@test "process.apparmorProfile is refused at create, naming the field, and nothing is left" {
	[ -z "$HOST_APPARMOR" ] || skip "the host runs AppArmor (its own tests are below)"
	refused_at_create '.process.apparmorProfile = "husk-test-profile"' process.apparmorProfile
	[[ "$output" == *'\"husk-test-profile\" asks for AppArmor'* ]]
}

@test "run refuses a label the same way" {
	[ -z "$HOST_APPARMOR" ] || skip "the host runs AppArmor (its own tests are below)"
	refused run lsmrun '.process.apparmorProfile = "husk-test-profile"' "process.apparmorProfile: "
}

@test "empty label fields ask for nothing and are accepted" {
	update_config "$BUNDLE" '.process.selinuxLabel = "" | .process.apparmorProfile = "" | .linux.mountLabel = ""'
	run husk run -b "$BUNDLE" "$(ctr_id lsmempty)"
	[ "$status" -eq 0 ]
}

@test "exec --process-label, --apparmor and a process.json label are refused; the container is untouched" {
	[ -z "$HOST_SELINUX$HOST_APPARMOR" ] || skip "the host runs an LSM"
	local id
	id=$(ctr_id lsmexec)
	update_config "$BUNDLE" '.process.args = ["sleep", "100"]'
	husk_nowait run -d -b "$BUNDLE" "$id"
	run husk exec --process-label system_u:system_r:container_t:s0 "$id" true
	[ "$status" -eq 255 ]
	[[ "$output" == *"--process-label: process.selinuxLabel: "* ]]
	run husk exec --apparmor husk-test-profile "$id" true
	[ "$status" -eq 255 ]
	[[ "$output" == *"--apparmor: process.apparmorProfile: "* ]]
	cat >"$TEST_TMP/process.json" <<-'JSON'
	{"args": ["true"], "cwd": "/", "apparmorProfile": "from-file"}
	JSON
	run husk exec --process "$TEST_TMP/process.json" "$id"
	[ "$status" -eq 255 ]
	[[ "$output" == *'process.apparmorProfile: \"from-file\"'* ]]
	[ "$(container_status "$id")" = running ]
	# only the init: no exec'd process was started
	[ "$(husk ps --format json "$id" | jq length)" -eq 1 ]
}

@test "husk features reports an LSM as enabled exactly where the host runs it" {
	run husk features
	[ "$status" -eq 0 ]
	[ "$(jq -r .linux.selinux.enabled <<<"$output")" = "$([ -n "$HOST_SELINUX" ] && echo true || echo false)" ]
	[ "$(jq -r .linux.apparmor.enabled <<<"$output")" = "$([ -n "$HOST_APPARMOR" ] && echo true || echo false)" ]
}

# --- SELinux, through a fake selinuxfs ---
# husk asks selinuxfs (/sys/fs/selinux) whether SELinux runs and whether a
# label is valid. On a host without SELinux, husk runs in a mount
# namespace of the test's whose /sys/fs/selinux is a directory the test
# made: enforce and context files answer as the kernel would (context as a
# link to /proc/thread-self/attr/exec, which refuses a label no LSM knows
# with EINVAL, as selinuxfs refuses an invalid context).

# fake_selinuxfs DIR: an empty directory to fill
fake_selinuxfs() {
	[ ! -e /sys/fs/selinux ] || skip "the host has /sys/fs/selinux (a fake one is for hosts without)"
	mkdir -p "$1"
}

# in_fake_selinuxfs DIR CMD...: CMD in a private mount namespace whose
# /sys/fs is a tmpfs holding the host's /sys/fs mounts again and DIR
# bound at /sys/fs/selinux
in_fake_selinuxfs() {
	local dir=$1
	shift
	mkdir -p "$TEST_TMP/sysfs-keep"
	unshare --mount --propagation private sh -c '
		set -e
		keep=$1 dir=$2
		shift 2
		mount --rbind /sys/fs "$keep"
		mount -t tmpfs -o mode=0755 husk-test-sysfs /sys/fs
		for d in "$keep"/*; do
			[ -d "$d" ] || continue
			mkdir "/sys/fs/${d##*/}"
			mount --rbind "$d" "/sys/fs/${d##*/}"
		done
		mkdir /sys/fs/selinux
		mount --bind "$dir" /sys/fs/selinux
		exec "$@"' sh "$TEST_TMP/sysfs-keep" "$dir" "$@"
}

@test "SELinux (fake selinuxfs): a label the kernel refuses is refused at create, naming it, and nothing is left" {
	local fake=$TEST_TMP/selinuxfs id
	fake_selinuxfs "$fake"
	echo 1 >"$fake/enforce"
	ln -s /proc/thread-self/attr/exec "$fake/context"
	id=$(ctr_id sebad)
	update_config "$BUNDLE" ".process.selinuxLabel = \"husk_bogus_label\" | .process.args = [\"sleep\", \"lsm-marker-$id\"]"
	run in_fake_selinuxfs "$fake" "$HUSK_BIN" --root "$HUSK_ROOT" create -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *'process.selinuxLabel: \"husk_bogus_label\" is not a valid SELinux context here'* ]]
	assert_nothing_left "$id" "lsm-marker-$id"
	# and husk features, there, reports SELinux as enabled
	run in_fake_selinuxfs "$fake" "$HUSK_BIN" features
	[ "$status" -eq 0 ]
	[ "$(jq -r .linux.selinux.enabled <<<"$output")" = true ]
}

@test "SELinux (fake selinuxfs): a selinuxfs husk cannot read fails naming the file, not as a host without SELinux" {
	local fake=$TEST_TMP/selinuxfs id
	fake_selinuxfs "$fake"
	mkdir "$fake/enforce"
	id=$(ctr_id seunreach)
	update_config "$BUNDLE" '.linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"'
	run in_fake_selinuxfs "$fake" "$HUSK_BIN" --root "$HUSK_ROOT" create -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *'linux.mountLabel: \"system_u:object_r:container_file_t:s0:c1,c2\": cannot reach SELinux: read /sys/fs/selinux/enforce: Is a directory'* ]]
	[[ "$output" != *"does not run"* ]]
	assert_nothing_left "$id"
	# features cannot tell either: it says so and reports SELinux off
	run in_fake_selinuxfs "$fake" "$HUSK_BIN" features
	[ "$status" -eq 0 ]
	[[ "$output" == *"cannot reach SELinux: read /sys/fs/selinux/enforce: Is a directory"* ]]
}

@test "SELinux (fake selinuxfs): a label selinuxfs takes is written to the process's attr/exec" {
	local fake=$TEST_TMP/selinuxfs id
	fake_selinuxfs "$fake"
	echo 0 >"$fake/enforce"
	: >"$fake/context"
	id=$(ctr_id seexec)
	update_config "$BUNDLE" '.process.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"'
	run in_fake_selinuxfs "$fake" "$HUSK_BIN" --root "$HUSK_ROOT" run -b "$BUNDLE" "$id"
	echo "$output"
	# selinuxfs was asked (the context, NUL included) ...
	[ "$(tr '\0' '|' <"$fake/context")" = "system_u:system_r:container_t:s0:c1,c2|" ]
	# ... and the label went on to the init's attr/exec, which this kernel,
	# running no SELinux, refuses: the run fails saying where
	[ "$status" -eq 1 ]
	[[ "$output" == *'process.selinuxLabel: write \"system_u:system_r:container_t:s0:c1,c2\" to /proc/thread-self/attr/exec'* ]]
	assert_nothing_left "$id"
}

# --- where the host runs AppArmor ---

# require_apparmor: skip unless profiles can be loaded here
require_apparmor() {
	[ -n "$HOST_APPARMOR" ] || skip "the host's kernel does not run AppArmor (the v2 guest's does)"
	command -v apparmor_parser >/dev/null || skip "apparmor_parser is not installed (apt-get install apparmor)"
	[ -e /sys/kernel/security/apparmor/profiles ] || skip "securityfs is not mounted"
}

# load_profile NAME: load an enforcing profile NAME that allows everything
# but reading /husk-denied; teardown unloads it
load_profile() {
	local name=$1
	cat >"$TEST_TMP/$name.profile" <<-EOF
	profile $name flags=(attach_disconnected,mediate_deleted) {
	  file,
	  capability,
	  network,
	  mount,
	  umount,
	  pivot_root,
	  signal,
	  ptrace,
	  unix,
	  deny /husk-denied r,
	}
	EOF
	apparmor_parser -r "$TEST_TMP/$name.profile"
	LOADED_PROFILES+=("$TEST_TMP/$name.profile")
	grep -qx "$name (enforce)" /sys/kernel/security/apparmor/profiles
}

teardown_common_lsm() {
	local f id
	for id in $(husk list -q 2>/dev/null); do
		husk delete --force "$id" >/dev/null 2>&1 || true
	done
	for f in "${LOADED_PROFILES[@]}"; do
		apparmor_parser -R "$f" >/dev/null 2>&1 || true
	done
	teardown_common
}

@test "AppArmor: process.apparmorProfile confines the container's process; without it, it is unconfined" {
	require_apparmor
	local prof=husk-test-${TEST_TMP##*.}
	load_profile "$prof"
	echo secret >"$BUNDLE/rootfs/husk-denied"
	update_config "$BUNDLE" ".process.apparmorProfile = \"$prof\""
	run_sh "$BUNDLE" 'cat /proc/self/attr/current; cat /husk-denied'
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "$prof (enforce)" ]
	[[ "$output" == *"can't open '/husk-denied': Permission denied"* ]]
	[[ "$output" != *secret* ]]
	# the same container without the profile reads the file
	update_config "$BUNDLE" 'del(.process.apparmorProfile)'
	run_sh "$BUNDLE" 'cat /proc/self/attr/current; cat /husk-denied'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = unconfined ]
	[ "${lines[1]}" = secret ]
}

@test "AppArmor: exec stays in the container's profile, and --apparmor or process.json pick another" {
	require_apparmor
	local prof=husk-test-${TEST_TMP##*.} other=husk-other-${TEST_TMP##*.} id
	load_profile "$prof"
	load_profile "$other"
	id=$(ctr_id aaexec)
	update_config "$BUNDLE" ".process.apparmorProfile = \"$prof\" | .process.args = [\"sleep\", \"100\"]"
	husk_nowait run -d -b "$BUNDLE" "$id"
	run husk exec "$id" cat /proc/self/attr/current
	[ "$status" -eq 0 ]
	[ "$output" = "$prof (enforce)" ]
	# a process.json without a profile inherits the container's
	cat >"$TEST_TMP/p.json" <<-'JSON'
	{"args": ["cat", "/proc/self/attr/current"], "cwd": "/"}
	JSON
	run husk exec --process "$TEST_TMP/p.json" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "$prof (enforce)" ]
	run husk exec --apparmor "$other" "$id" cat /proc/self/attr/current
	[ "$status" -eq 0 ]
	[ "$output" = "$other (enforce)" ]
	jq --arg p "$other" '.apparmorProfile = $p' "$TEST_TMP/p.json" >"$TEST_TMP/p2.json"
	run husk exec --process "$TEST_TMP/p2.json" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "$other (enforce)" ]
}

@test "AppArmor: a profile that is not loaded fails run and exec naming it, and leaves nothing" {
	require_apparmor
	local missing=husk-missing-${TEST_TMP##*.} id
	refused run aamissing ".process.apparmorProfile = \"$missing\"" \
		"process.apparmorProfile: AppArmor has no profile \"$missing\" loaded"
	id=$(ctr_id aamissing)
	# exec into an unconfined container with it: refused, the container runs on
	update_config "$BUNDLE" 'del(.process.apparmorProfile) | .process.args = ["sleep", "100"]'
	husk_nowait run -d -b "$BUNDLE" "$id"
	run husk exec --apparmor "$missing" "$id" true
	echo "$output"
	[ "$status" -ne 0 ]
	# (the quotes come escaped in the log line)
	[[ "$output" == *"AppArmor has no profile "*"$missing"*" loaded"* ]]
	[ "$(container_status "$id")" = running ]
	[ "$(husk ps --format json "$id" | jq length)" -eq 1 ]
}
