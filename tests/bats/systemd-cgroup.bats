#!/usr/bin/env bats
# The systemd cgroup driver (--systemd-cgroup): a transient scope systemd
# makes for each container, over D-Bus, through husk-systemd. The tests that
# need systemd as PID 1 skip elsewhere; make check-vm runs them in the guest
# booted with systemd (HUSK_VM_INIT=systemd, tests/vm/README.md).

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	set_args "$BUNDLE" sleep 1000
	# the build tree's helper (husk runs from a sealed copy of itself, so
	# it cannot find it next to its binary)
	export HUSK_SYSTEMD_HELPER=$HUSK_BUILDDIR/husk-systemd
	TAG=hk${TEST_TMP##*.}
	TAG=${TAG//[^a-zA-Z0-9]/}
}

teardown() {
	if [ -d "$TEST_TMP/podman/root" ]; then
		pod rm -a -f -t 0 >/dev/null 2>&1 || true
		umount -R "$TEST_TMP/podman/root" "$TEST_TMP/podman/run" 2>/dev/null || true
	fi
	teardown_common
	# a unit a failed test left (never another's: the names hold TAG)
	if systemd_pid1; then
		local u
		for u in $(systemctl list-units --all --no-legend --plain "*$TAG*" 2>/dev/null | awk '{print $1}'); do
			systemctl stop "$u" >/dev/null 2>&1 || true
		done
	fi
}

systemd_pid1() {
	[ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ]
}

require_systemd() {
	systemd_pid1 || skip "systemd is not PID 1 here (PID 1 is $(cat /proc/1/comm)): the driver runs in the guest of make check-vm"
	[ -x "$HUSK_SYSTEMD_HELPER" ] || skip "husk-systemd is not built (configure found no libsystemd-dev)"
	[ -f /sys/fs/cgroup/cgroup.controllers ] ||
		skip "systemd runs a v1 or hybrid hierarchy here: these tests read the scope's v2 files"
}

# prop UNIT NAME: one property of the unit, as systemctl shows it.
prop() {
	systemctl show "$1" -p "$2" --value
}

# unit_gone UNIT: systemd no longer knows the unit (a stopped transient unit
# is unloaded at systemd's next garbage collection: polled, at most 10 s).
unit_gone() {
	local i
	for i in $(seq 100); do
		[ "$(prop "$1" LoadState)" = not-found ] && return 0
		sleep 0.1
	done
	echo "unit $1 is still loaded: $(systemctl show "$1" -p LoadState -p ActiveState)" >&2
	return 1
}

@test "systemd-cgroup: without systemd as PID 1 --systemd-cgroup is a clear error, nothing left" {
	systemd_pid1 && skip "systemd is PID 1 here"
	[ -x "$HUSK_SYSTEMD_HELPER" ] || skip "husk-systemd is not built (configure found no libsystemd-dev)"
	local id
	id=$(ctr_id nosd)
	update_config "$BUNDLE" ".linux.cgroupsPath = \"$TAG.slice:pfx:$id\""
	run husk --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--systemd-cgroup: pfx-$id.scope: start: systemd is not running as PID 1"* ]]
	assert_nothing_left "$id"
	[ ! -e "/sys/fs/cgroup/unified/$TAG.slice" ] && [ ! -e "/sys/fs/cgroup/$TAG.slice" ]
}

@test "systemd-cgroup: a missing helper is named in the error" {
	local id
	id=$(ctr_id nohelper)
	HUSK_SYSTEMD_HELPER=$TEST_TMP/no-such-helper run husk --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--systemd-cgroup: the helper \$HUSK_SYSTEMD_HELPER $TEST_TMP/no-such-helper"* ]]
	assert_nothing_left "$id"
}

@test "systemd-cgroup: malformed, hostile and over-long slice:prefix:name are refused naming linux.cgroupsPath" {
	local id bad long
	id=$(ctr_id sdbad)
	long=$(printf 'a%.0s' $(seq 1 300))
	for bad in "a\$b.slice:pfx:x" "a b.slice:pfx:x" "-a.slice:pfx:x" "a--b.slice:pfx:x" \
		"a-.slice:pfx:x" "notaslice:pfx:x" "$long.slice:pfx:x" "a.slice:p@t:x" \
		"a.slice:pfx:x\\y" "a.slice:$long:x" "a.slice:pfx:sub.slice" "a.slice:pfx:x:y" \
		"a.slice/b:pfx:x"; do
		update_config "$BUNDLE" ".linux.cgroupsPath = $(jq -n --arg p "$bad" '$p')"
		run husk --systemd-cgroup create --bundle "$BUNDLE" "$id"
		echo "$bad -> $status $output"
		[ "$status" -ne 0 ] && [ "$status" -lt 128 ]
		[[ "$output" == *"linux.cgroupsPath: "* ]]
		[[ "$output" == *"(--systemd-cgroup)"* ]]
		assert_nothing_left "$id"
	done
	# a control character is escaped in the message, not printed raw
	update_config "$BUNDLE" '.linux.cgroupsPath = "a\u001b[2Jb.slice:pfx:x"'
	run husk --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" != *$'\e'* ]]
	if systemd_pid1; then
		run systemctl list-units --all --no-legend --plain "*pfx*"
		[ -z "$output" ]
	fi
}

# fake_helper: a stand-in for husk-systemd that records its arguments (one a
# line, in $TEST_TMP/helper-args) and fails: what husk asks of systemd,
# checked where systemd does not run.
fake_helper() {
	cat >"$TEST_TMP/fake-helper" <<EOF
#!/bin/sh
for a in "\$@"; do printf '%s\n' "\$a"; done >"$TEST_TMP/helper-args"
echo "fake helper: not started" >&2
exit 1
EOF
	chmod +x "$TEST_TMP/fake-helper"
}

# The device rules of the device tests: deny all, /dev/full not writable,
# char major 10 readable but 10:200, every block device readable at minor 7,
# a node from linux.devices (kmsg's numbers) that may be made, not opened.
DEVICE_RULES='.linux.resources.devices = [{"allow": false, "access": "rwm"},
		{"allow": false, "type": "c", "major": 1, "minor": 7, "access": "w"},
		{"allow": true, "type": "c", "major": 10, "access": "r"},
		{"allow": false, "type": "c", "major": 10, "minor": 200, "access": "r"},
		{"allow": true, "type": "b", "minor": 7, "access": "r"}]
	| .linux.devices = [{"path": "/dev/denied", "type": "c", "major": 1, "minor": 11, "fileMode": 438}]'

@test "systemd-cgroup: linux.resources.devices become DevicePolicy=strict and DeviceAllow= entries" {
	local id
	id=$(ctr_id sddevargs)
	fake_helper
	update_config "$BUNDLE" ".linux.cgroupsPath = \"system.slice:husktest:$id\" | $DEVICE_RULES"
	HUSK_SYSTEMD_HELPER=$TEST_TMP/fake-helper run husk --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"fake helper: not started"* ]]
	assert_nothing_left "$id"
	cat "$TEST_TMP/helper-args"
	# the list emptied first, then one entry per device or group; /dev/full
	# loses w; 10:200 keeps r through char-10 (systemd cannot take one
	# device out of a group: wider, husk's own filter denies it); the
	# linux.devices node may only be made; any-major rules are the group
	run grep '^Device' "$TEST_TMP/helper-args"
	[ "${lines[0]}" = DevicePolicy=strict ]
	[ "${lines[1]}" = DeviceAllow= ]
	[ "$(printf '%s\n' "${lines[@]:2}" | sort | tr '\n' '|')" = \
		"DeviceAllow=/dev/char/1:11 m|DeviceAllow=/dev/char/1:3 rwm|DeviceAllow=/dev/char/1:5 rwm|DeviceAllow=/dev/char/1:7 rm|DeviceAllow=/dev/char/1:8 rwm|DeviceAllow=/dev/char/1:9 rwm|DeviceAllow=/dev/char/5:0 rwm|DeviceAllow=/dev/char/5:1 rwm|DeviceAllow=/dev/char/5:2 rwm|DeviceAllow=block-* r|DeviceAllow=char-10 r|DeviceAllow=char-136 rwm|" ]
	# an allow-all, even with exceptions, is DevicePolicy=auto and no entries
	update_config "$BUNDLE" '.linux.resources.devices = [{"allow": true, "access": "rwm"},
		{"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"}]'
	HUSK_SYSTEMD_HELPER=$TEST_TMP/fake-helper run husk --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	run grep '^Device' "$TEST_TMP/helper-args"
	[ "$output" = $'DevicePolicy=auto\nDeviceAllow=' ]
	# no device rules: no device policy at all (the cgroup is left open, as without systemd)
	update_config "$BUNDLE" 'del(.linux.resources.devices) | del(.linux.devices)'
	HUSK_SYSTEMD_HELPER=$TEST_TMP/fake-helper run husk --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	run grep -c '^Device' "$TEST_TMP/helper-args"
	[ "$output" = 0 ]
	assert_nothing_left "$id"
}

@test "systemd-cgroup: a hostile number of device rules is a clear error, not a huge command line" {
	local id
	id=$(ctr_id sddevmany)
	fake_helper
	update_config "$BUNDLE" ".linux.cgroupsPath = \"system.slice:husktest:$id\"
		| .linux.resources.devices = [{\"allow\": false, \"access\": \"rwm\"}] +
			[range(3000) | {\"allow\": true, \"type\": \"c\", \"major\": 200, \"minor\": ., \"access\": \"r\"}]"
	HUSK_SYSTEMD_HELPER=$TEST_TMP/fake-helper run husk --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ] && [ "$status" -lt 128 ]
	[[ "$output" == *"linux.resources.devices: the rules allow more than 1024 devices or groups one by one, the most DeviceAllow= entries husk gives systemd"* ]]
	[ ! -e "$TEST_TMP/helper-args" ]
	assert_nothing_left "$id"
	# a deny after them that would leave fewer than 1024 does not make the
	# cut list look whole
	update_config "$BUNDLE" '.linux.resources.devices += [{"allow": false, "type": "c", "major": 200, "minor": 5, "access": "r"}]'
	HUSK_SYSTEMD_HELPER=$TEST_TMP/fake-helper run husk --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"allow more than 1024 devices"* ]]
	# a deny-all after them starts over: that config goes to systemd
	update_config "$BUNDLE" '.linux.resources.devices += [{"allow": false, "access": "rwm"}]'
	HUSK_SYSTEMD_HELPER=$TEST_TMP/fake-helper run husk --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"fake helper: not started"* ]]
	grep -qx 'DeviceAllow=char-136 rwm' "$TEST_TMP/helper-args"
	[ "$(grep -c '^DeviceAllow=' "$TEST_TMP/helper-args")" -lt 20 ]
	assert_nothing_left "$id"
}

@test "systemd-cgroup: org.systemd.property.* annotations are typed as runc types them" {
	local id
	id=$(ctr_id sdannargs)
	fake_helper
	update_config "$BUNDLE" ".linux.cgroupsPath = \"system.slice:husktest:$id\""
	update_config "$BUNDLE" '.annotations = {"org.systemd.property.TimeoutStopUSec": "uint64 123456789",
			"org.systemd.property.CollectMode": "\u0027inactive-or-failed\u0027",
			"org.systemd.property.RuntimeMaxSec": "2",
			"org.systemd.property.TimeoutStartSec": "1.5",
			"org.systemd.property.Description": "\"it\u0027s \\\"quoted\\\"\"",
			"org.systemd.property.SendSIGHUP": "true",
			"org.systemd.property.CPUWeight": "uint64 7",
			"org.systemd.property.Nice": "int32 -5",
			"other.annotation": "not for systemd"}'
	HUSK_SYSTEMD_HELPER=$TEST_TMP/fake-helper run husk --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	assert_nothing_left "$id"
	cat "$TEST_TMP/helper-args"
	run grep '^@' "$TEST_TMP/helper-args"
	# NAMESec in seconds becomes NAMEUSec in microseconds (runc's conversion)
	[ "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' '|')" = \
		"@CPUWeight=t:7|@CollectMode=s:inactive-or-failed|@Description=s:it's \"quoted\"|@Nice=i:-5|@RuntimeMaxUSec=t:2000000|@SendSIGHUP=b:1|@TimeoutStartUSec=t:1500000|@TimeoutStopUSec=t:123456789|" ]
	# after husk's own properties, so that they win (as in runc)
	[ "$(grep -n '^@' "$TEST_TMP/helper-args" | head -1 | cut -d: -f1)" -gt "$(grep -n '^husk container' "$TEST_TMP/helper-args" | cut -d: -f1)" ]
}

@test "systemd-cgroup: features lists org.systemd.property. as an annotation prefix that changes husk's behaviour" {
	run husk features
	[ "$status" -eq 0 ]
	if [ -x "$HUSK_SYSTEMD_HELPER" ]; then
		echo "$output" | jq -e '.linux.cgroup.systemd == true
			and .potentiallyUnsafeConfigAnnotations == ["org.systemd.property."]'
	else
		echo "$output" | jq -e '.linux.cgroup.systemd == false
			and (.potentiallyUnsafeConfigAnnotations // []) == []'
	fi
}

@test "systemd-cgroup: bad org.systemd.property.* annotations are refused naming the annotation, nothing started" {
	local id name value
	id=$(ctr_id sdannbad)
	fake_helper
	update_config "$BUNDLE" ".linux.cgroupsPath = \"system.slice:husktest:$id\""
	while IFS='|' read -r name value; do
		update_config "$BUNDLE" ".annotations = {\"org.systemd.property.$name\": $(jq -n --arg v "$value" '$v')}"
		rm -f "$TEST_TMP/helper-args"
		HUSK_SYSTEMD_HELPER=$TEST_TMP/fake-helper run husk_nowait --systemd-cgroup create --bundle "$BUNDLE" "$id"
		echo "$name=$value -> $status $output"
		[ "$status" -ne 0 ] && [ "$status" -lt 128 ]
		# (the log line escapes the message's quotes)
		[[ "$output" == *'annotations: \"org.systemd.property.'"${name:0:40}"* ]]
		[[ "$output" == *"(--systemd-cgroup)"* ]]
		[ ! -e "$TEST_TMP/helper-args" ]
		assert_nothing_left "$id"
	done <<'EOF'
Time.out|5
Ti|5
Bad-Name|5
Slice|'other.slice'
PIDs|uint32 1
TimeoutStopUSec|[1, 2]
TimeoutStopUSec|'unterminated
TimeoutStopUSec|'a\qb'
Description|'two\nlines'
CPUWeight|uint64 -1
CPUWeight|int32 99999999999
CPUWeight|uint128 5
CPUWeight|5 6
Description|@s 'typed'
RuntimeMaxSec|'two'
RuntimeMaxSec|-2
RuntimeMaxSec|uint64 18446744073709551615
AVeryLongPropertyNameThatGoesOnAndOnAndOnBeyondSixtyCharactersXY|1
EOF
	# a value with a control character is refused, and not echoed raw
	update_config "$BUNDLE" '.annotations = {"org.systemd.property.Description": "\u0027a\u001b[2Jb\u0027"}'
	HUSK_SYSTEMD_HELPER=$TEST_TMP/fake-helper run husk_nowait --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"org.systemd.property.Description"* ]]
	[[ "$output" != *$'\e'* ]]
	# a long value is refused, bounded
	update_config "$BUNDLE" ".annotations = {\"org.systemd.property.Description\": \"'$(printf 'x%.0s' $(seq 5000))'\"}"
	HUSK_SYSTEMD_HELPER=$TEST_TMP/fake-helper run husk_nowait --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"org.systemd.property.Description"* ]]
	[ "${#output}" -lt 1000 ]
	[ ! -e "$TEST_TMP/helper-args" ]
	assert_nothing_left "$id"
}

@test "systemd-cgroup: create puts the init in a transient scope systemd knows, with the limits as unit properties" {
	require_systemd
	local id unit pid
	id=$(ctr_id sd)
	unit=husktest-$id.scope
	update_config "$BUNDLE" '.linux.cgroupsPath = "system.slice:husktest:'"$id"'"
		| .linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 50},
			"cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0"},
			"unified": {"memory.high": "50331648", "memory.min": "4096"}}'
	husk_nowait --systemd-cgroup create --bundle "$BUNDLE" "$id"
	pid=$(husk state "$id" | jq -r .pid)
	[ "$(husk state "$id" | jq -r .status)" = created ]
	# systemd's unit, in the slice, delegated, holding the init
	[ "$(prop "$unit" ActiveState)" = active ]
	[ "$(prop "$unit" Slice)" = system.slice ]
	[ "$(prop "$unit" Delegate)" = yes ]
	[ "$(prop "$unit" Description)" = "husk container $id" ]
	run systemctl status --no-pager "$unit"
	echo "$output"
	[[ "$output" == *"$pid "* ]]
	grep -qx "0::/system.slice/$unit" "/proc/$pid/cgroup"
	# the properties runc maps, and the files
	[ "$(prop "$unit" MemoryMax)" = 67108864 ]
	[ "$(prop "$unit" TasksMax)" = 50 ]
	[ "$(prop "$unit" CPUWeight)" = 39 ]
	[ "$(prop "$unit" CPUQuotaPerSecUSec)" = 500ms ]
	[ "$(prop "$unit" AllowedCPUs)" = 0 ]
	# unified keys systemd has a property for
	[ "$(prop "$unit" MemoryHigh)" = 50331648 ]
	[ "$(prop "$unit" MemoryMin)" = 4096 ]
	[ "$(cat "/sys/fs/cgroup/system.slice/$unit/memory.high")" = 50331648 ]
	[ "$(cat "/sys/fs/cgroup/system.slice/$unit/memory.max")" = 67108864 ]
	[ "$(cat "/sys/fs/cgroup/system.slice/$unit/pids.max")" = 50 ]
	# the helper that held the scope until the init was in it is gone
	[ "$(wc -l <"/sys/fs/cgroup/system.slice/$unit/cgroup.procs")" = 1 ]
	husk start "$id"
	[ "$(husk state "$id" | jq -r .status)" = running ]
}

@test "systemd-cgroup: update sets the unit's properties and the files" {
	require_systemd
	local id unit
	id=$(ctr_id sdupd)
	unit=husktest-$id.scope
	update_config "$BUNDLE" '.linux.cgroupsPath = "system.slice:husktest:'"$id"'"
		| .linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 50}}'
	husk_nowait --systemd-cgroup run -d --bundle "$BUNDLE" "$id"
	[ "$(prop "$unit" MemoryMax)" = 67108864 ]
	husk --systemd-cgroup update --memory 134217728 --pids-limit 70 "$id"
	[ "$(prop "$unit" MemoryMax)" = 134217728 ]
	[ "$(prop "$unit" TasksMax)" = 70 ]
	[ "$(cat "/sys/fs/cgroup/system.slice/$unit/memory.max")" = 134217728 ]
	[ "$(cat "/sys/fs/cgroup/system.slice/$unit/pids.max")" = 70 ]
	# systemd keeps the new values (a daemon-reload does not undo them)
	systemctl daemon-reload
	[ "$(prop "$unit" MemoryMax)" = 134217728 ]
}

@test "systemd-cgroup: delete stops the unit, and its cgroup goes" {
	require_systemd
	local id unit
	id=$(ctr_id sddel)
	unit=husktest-$id.scope
	update_config "$BUNDLE" '.linux.cgroupsPath = "system.slice:husktest:'"$id"'"'
	husk_nowait --systemd-cgroup run -d --bundle "$BUNDLE" "$id"
	[ "$(prop "$unit" ActiveState)" = active ]
	husk delete --force "$id"
	[ "$(prop "$unit" ActiveState)" != active ]
	unit_gone "$unit"
	[ ! -e "/sys/fs/cgroup/system.slice/$unit" ]
	assert_nothing_left "$id"
}

@test "systemd-cgroup: defaults: an empty slice is system.slice, the name the container id" {
	require_systemd
	local id
	id=$(ctr_id sddef)
	update_config "$BUNDLE" '.linux.cgroupsPath = ":husktest:"'
	husk_nowait --systemd-cgroup run -d --bundle "$BUNDLE" "$id"
	[ "$(prop "husktest-$id.scope" Slice)" = system.slice ]
	[ "$(prop "husktest-$id.scope" ActiveState)" = active ]
	# a slice of levels: systemd makes the parent slices
	husk delete --force "$id"
	update_config "$BUNDLE" ".linux.cgroupsPath = \"$TAG-sub.slice:husktest:$id\""
	husk_nowait --systemd-cgroup run -d --bundle "$BUNDLE" "$id"
	[ "$(prop "husktest-$id.scope" Slice)" = "$TAG-sub.slice" ]
	pid=$(husk state "$id" | jq -r .pid)
	grep -qx "0::/$TAG.slice/$TAG-sub.slice/husktest-$id.scope" "/proc/$pid/cgroup"
	husk delete --force "$id"
	systemctl stop "$TAG-sub.slice" "$TAG.slice"
}

@test "systemd-cgroup: the unit has the device policy, and a denied device stays denied" {
	require_systemd
	local id unit
	id=$(ctr_id sddev)
	unit=husktest-$id.scope
	update_config "$BUNDLE" ".linux.cgroupsPath = \"system.slice:husktest:$id\" | $DEVICE_RULES"
	husk_nowait --systemd-cgroup run -d --bundle "$BUNDLE" "$id"
	[ "$(prop "$unit" DevicePolicy)" = strict ]
	run systemctl show "$unit" -p DeviceAllow
	echo "$output"
	[[ "$output" == *"/dev/char/1:7 rm"* ]]
	[[ "$output" == *"/dev/char/1:3 rwm"* ]]
	[[ "$output" == *"/dev/char/1:11 m"* ]]
	[[ "$output" == *"char-136 rwm"* ]]
	[[ "$output" == *"block-* r"* ]]
	# the container: /dev/null usable, /dev/full not writable, the node it
	# may only make cannot be opened
	local i
	for i in 1 2; do
		run husk exec "$id" sh -c 'echo x >/dev/null && echo null-ok'
		[ "$status" -eq 0 ] && [ "$output" = null-ok ]
		run husk exec "$id" sh -c 'echo x >/dev/full'
		[ "$status" -ne 0 ]
		[[ "$output" == *"Operation not permitted"* ]]
		run husk exec "$id" head -c1 /dev/denied
		[ "$status" -ne 0 ]
		[[ "$output" == *"Operation not permitted"* ]]
		# an update gives systemd the device list again (and systemd
		# rebuilds its filter): still the same devices
		husk --systemd-cgroup update --pids-limit 60 "$id"
		[ "$(prop "$unit" DevicePolicy)" = strict ]
		[ "$(prop "$unit" TasksMax)" = 60 ]
	done
}

@test "systemd-cgroup: org.systemd.property.* annotations set the unit's properties" {
	require_systemd
	local id unit
	id=$(ctr_id sdann)
	unit=husktest-$id.scope
	update_config "$BUNDLE" ".linux.cgroupsPath = \"system.slice:husktest:$id\""
	update_config "$BUNDLE" '.annotations = {"org.systemd.property.TimeoutStopUSec": "uint64 123456789",
		"org.systemd.property.CollectMode": "\u0027inactive-or-failed\u0027",
		"org.systemd.property.RuntimeMaxSec": "3600",
		"org.systemd.property.Description": "\u0027annotated\u0027"}'
	husk_nowait --systemd-cgroup run -d --bundle "$BUNDLE" "$id"
	[ "$(prop "$unit" ActiveState)" = active ]
	[ "$(prop "$unit" TimeoutStopUSec)" = "2min 3.456789s" ]
	[ "$(prop "$unit" CollectMode)" = inactive-or-failed ]
	[ "$(prop "$unit" RuntimeMaxUSec)" = 1h ]
	# the annotation wins over husk's own description, as in runc
	[ "$(prop "$unit" Description)" = annotated ]
	husk delete --force "$id"
	unit_gone "$unit"
	# a property systemd does not have: systemd's refusal, nothing left
	update_config "$BUNDLE" '.annotations = {"org.systemd.property.NoSuchProperty": "true"}'
	run husk_nowait --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"$unit"*"NoSuchProperty"* ]]
	assert_nothing_left "$id"
	[ "$(prop "$unit" LoadState)" = not-found ]
}

@test "systemd-cgroup: a create that fails after the scope started leaves no unit" {
	require_systemd
	local id unit
	id=$(ctr_id sdfail)
	unit=husktest-$id.scope
	update_config "$BUNDLE" '.linux.cgroupsPath = "system.slice:husktest:'"$id"'"
		| .hooks.createRuntime = [{"path": "/bin/false"}]'
	run husk_nowait --systemd-cgroup create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *createRuntime* ]]
	unit_gone "$unit"
	[ ! -e "/sys/fs/cgroup/system.slice/$unit" ]
	assert_nothing_left "$id"
}

@test "systemd-cgroup: a unit name already in use is a clear error, the other container untouched" {
	require_systemd
	local id unit
	id=$(ctr_id sddup)
	unit=husktest-dup$TAG.scope
	update_config "$BUNDLE" ".linux.cgroupsPath = \"system.slice:husktest:dup$TAG\""
	husk_nowait --systemd-cgroup run -d --bundle "$BUNDLE" "$id"
	run husk_nowait --systemd-cgroup create --bundle "$BUNDLE" "$id-2"
	[ "$status" -ne 0 ]
	[[ "$output" == *"the unit $unit already exists"* ]]
	assert_nothing_left "$id-2"
	[ "$(prop "$unit" ActiveState)" = active ]
	[ "$(husk state "$id" | jq -r .status)" = running ]
}

# pod ARGS: podman with the test's private storage and state, driving husk
# (through a wrapper: podman gives conmon, and so husk, a filtered
# environment without HUSK_SYSTEMD_HELPER) with the systemd cgroup manager
pod() {
	local p=$TEST_TMP/podman
	CONTAINERS_REGISTRIES_CONF=$p/registries.conf \
		podman --root "$p/root" --runroot "$p/run" --tmpdir "$p/tmp" --storage-driver vfs \
		--events-backend file --cgroup-manager systemd --runtime "$p/husk" "$@"
}

@test "systemd-cgroup: podman --cgroup-manager systemd with husk: the container is in its libpod scope, with its limits" {
	require_systemd
	command -v podman >/dev/null && command -v conmon >/dev/null ||
		skip "podman and conmon are not installed (contrib/deps.sh test)"
	local p=$TEST_TMP/podman cid unit pid
	mkdir -p "$p/tmp"
	echo 'unqualified-search-registries = []' >"$p/registries.conf"
	printf '#!/bin/sh\nHUSK_SYSTEMD_HELPER=%q exec %q "$@"\n' "$HUSK_SYSTEMD_HELPER" "$HUSK_BIN" >"$p/husk"
	chmod +x "$p/husk"
	tar -C "$BUNDLE/rootfs" -cf "$TEST_TMP/rootfs.tar" .
	pod import "$TEST_TMP/rootfs.tar" localhost/husk-sd:test >/dev/null
	cid=$(pod run -d --network none --memory 64m --pids-limit 40 localhost/husk-sd:test sleep 1000)
	unit=libpod-$cid.scope
	# husk was asked for systemd: podman passed --systemd-cgroup and machine.slice:libpod:ID
	[ "$(prop "$unit" ActiveState)" = active ]
	[ "$(prop "$unit" Slice)" = machine.slice ]
	[ "$(prop "$unit" Description)" = "husk container $cid" ]
	[ "$(prop "$unit" MemoryMax)" = 67108864 ]
	[ "$(prop "$unit" TasksMax)" = 40 ]
	pid=$(pod inspect -f '{{.State.Pid}}' "$cid")
	grep -qx "0::/machine.slice/$unit" "/proc/$pid/cgroup"
	run systemctl status --no-pager "$unit"
	[[ "$output" == *"$pid "* ]]
	pod rm -f -t 0 "$cid"
	unit_gone "$unit"
	[ ! -e "/sys/fs/cgroup/machine.slice/$unit" ]
	pod rmi -f localhost/husk-sd:test >/dev/null
}
