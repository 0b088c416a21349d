#!/usr/bin/env bats
# Attacks from the container-escape CVEs of the last decade. Each test
# names the class it covers; each would fail against a runtime without the
# defence (noted per test).

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	OUTSIDE=$TEST_TMP/outside
	mkdir -p "$OUTSIDE"
}

teardown() {
	# the CVE-2019-5736 tests drive a copy of husk, which a failing test
	# leaves broken: clean up with the real one
	HUSK_BIN=$REAL_HUSK_BIN
	teardown_common
	if [ -n "${HUSK_COPY_RO:-}" ]; then umount "$HUSK_COPY_RO" 2>/dev/null || true; fi
}

REAL_HUSK_BIN=$HUSK_BIN
EXE_ATTACK=${HUSK_BUILDDIR}/tests/tools/exe-attack
RECVTTY=${HUSK_BUILDDIR}/tests/tools/recvtty
SWAP_RACE=${HUSK_BUILDDIR}/tests/tools/swap-race
DENY_SYSCALL=${HUSK_BUILDDIR}/tests/tools/deny-syscall

# bind_dev DIR: the container's /dev is a bind of DIR (a directory the
# attacker controls) instead of a fresh tmpfs.
bind_dev() {
	update_config "$BUNDLE" '.mounts |= map(if .destination == "/dev" then {"destination": "/dev", "type": "bind", "source": "'"$1"'", "options": ["rbind"]} else . end)'
}

# CVE-2019-5736 set-up: husk becomes a copy in the test's temp dir (so a
# failure never damages the build), and $BUNDLE runs tests/tools/exe-attack
# with CAP_SYS_PTRACE and no user namespace, reporting to
# $TEST_TMP/report/log. The copy's path holds "husk", which the attacker
# looks for.
exe_attack_setup() {
	[ -x "$EXE_ATTACK" ] || skip "tests/tools/exe-attack is not built (make check builds it)"
	HUSK_COPY=$TEST_TMP/husk
	cp "$REAL_HUSK_BIN" "$HUSK_COPY"
	HUSK_BIN=$HUSK_COPY
	SUM_BEFORE=$(sha256sum <"$HUSK_COPY")
	cp "$EXE_ATTACK" "$BUNDLE/rootfs/exe-attack"
	mkdir "$TEST_TMP/report"
	update_config "$BUNDLE" '.process.args = ["/exe-attack", "husk", "/report/log", "30"]
		| .process.capabilities |= with_entries(.value += ["CAP_SYS_PTRACE"])
		| .linux.namespaces |= map(select(.type != "user"))
		| .mounts += [{"destination": "/report", "type": "bind", "source": "'"$TEST_TMP/report"'", "options": ["rbind"]}]'
	ATTACKER=$(ctr_id atk)
	husk_nowait run -d -b "$BUNDLE" "$ATTACKER"
}

# wait_report LINE [SECONDS]: the attacker wrote a line starting with LINE
# (waits 10 s unless told).
wait_report() {
	local i
	for i in $(seq $((${2:-10} * 10))); do
		grep -q "^$1" "$TEST_TMP/report/log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# The attacker caught husk inside the container and finished; it never got
# to write to it, and the binary on disk is unchanged.
assert_exe_attack_failed() {
	# the attacker gives up after 30 s
	wait_report "done" 40
	cat "$TEST_TMP/report/log"
	grep -q '^caught ' "$TEST_TMP/report/log"
	[ "$(grep -c '^write: ok' "$TEST_TMP/report/log")" = 0 ]
	[ "$(sha256sum <"$HUSK_COPY")" = "$SUM_BEFORE" ]
	# and what it caught was not the binary by its path on disk: a view
	# of it with no path (a detached read-only mount shows as "/"), or
	# the sealed copy
	[ "$(grep -c "^caught .* $HUSK_COPY\$" "$TEST_TMP/report/log")" = 0 ]
}

# CVE-2024-21626: a cwd through a leaked runtime fd would put the process
# in a host directory. No cwd under /proc/self/fd may escape.
@test "CVE-2024-21626: a cwd through /proc/self/fd/N never lands outside the root" {
	for n in 3 4 5 6 7 8 9 10; do
		update_config "$BUNDLE" ".process.args = [\"sh\", \"-c\", \"pwd; ls ..\"] | .process.cwd = \"/proc/self/fd/$n\""
		run husk run -b "$BUNDLE" "$(ctr_id "fd$n")"
		# either refused, or somewhere inside the container
		if [ "$status" -eq 0 ]; then
			[[ "${lines[0]}" != *unreachable* ]]
		fi
		[[ "$output" != *"$(basename "$TEST_TMP")"* ]]
	done
}

# CVE-2024-21626 (second half): no runtime fd reaches the container.
@test "no runtime fd reaches the container process" {
	update_config "$BUNDLE" '.process.args = ["ls", "/proc/self/fd"]'
	run husk run -b "$BUNDLE" "$(ctr_id fds)"
	[ "$status" -eq 0 ]
	# 0 1 2, and the fd ls itself opened
	[ "${#lines[@]}" -le 4 ]
	for l in "${lines[@]}"; do [ "$l" -le 3 ]; done
}

# CVE-2021-30465 / CVE-2024-45310: a mount target that is a symlink
# pointing out of the rootfs is resolved inside it.
@test "CVE-2021-30465: a symlinked mount target stays inside the rootfs" {
	mkdir -p "$TEST_TMP/src"
	echo secret >"$TEST_TMP/src/file"
	ln -s "/../../../../../../$OUTSIDE" "$BUNDLE/rootfs/data"
	update_config "$BUNDLE" '.process.args = ["cat", "/data/file"]
		| .mounts += [{"destination": "/data", "type": "bind", "source": "'"$TEST_TMP/src"'", "options": ["rbind"]}]'
	run husk run -b "$BUNDLE" "$(ctr_id sym1)"
	[ "$status" -eq 0 ]
	[ "$output" = secret ]
	# nothing appeared in the real directory outside the rootfs
	[ -z "$(ls -A "$OUTSIDE")" ]
	# the target was created inside the rootfs, where the link points in-root
	[ -d "$BUNDLE/rootfs/$OUTSIDE" ]
}

# CVE-2019-16884 class: /proc must be a real directory, not a symlink
# that would put procfs where the image wants.
@test "CVE-2019-16884: a /proc that is a symlink is refused" {
	rmdir "$BUNDLE/rootfs/proc"
	ln -s /tmp "$BUNDLE/rootfs/proc"
	run husk create -b "$BUNDLE" "$(ctr_id proc1)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"mounts[0]: /proc must be a directory, not a symlink"* ]]
	[ ! -e "$HUSK_ROOT/$(ctr_id proc1)" ]
}

@test "CVE-2019-16884: a /sys that is a file is refused" {
	rmdir "$BUNDLE/rootfs/sys"
	touch "$BUNDLE/rootfs/sys"
	run husk create -b "$BUNDLE" "$(ctr_id sys1)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"/sys must be a directory, not a file"* ]]
}

# CVE-2025-31133: masking binds the runtime's verified /dev/null. A /dev
# whose null is a symlink to a procfs file must not turn masking into a
# bind of that file.
@test "CVE-2025-31133: a /dev/null that is not the null device stops masking" {
	mkdir -p "$TEST_TMP/dev"
	ln -s /proc/sys/kernel/core_pattern "$TEST_TMP/dev/null"
	bind_dev "$TEST_TMP/dev"
	update_config "$BUNDLE" '.mounts |= map(select(.destination != "/dev/pts" and .destination != "/dev/shm" and .destination != "/dev/mqueue"))'
	before=$(cat /proc/sys/kernel/core_pattern)
	run husk create -b "$BUNDLE" "$(ctr_id mask1)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"maskedPaths: /dev/null"* ]]
	[ "$(cat /proc/sys/kernel/core_pattern)" = "$before" ]
	[ ! -e "$HUSK_ROOT/$(ctr_id mask1)" ]
}

# sysctl and label writes go through the runtime's private procfs, opened
# by the runtime and checked with fstatfs, with no symlinks followed
# (CVE-2023-27561, CVE-2025-52881 class): a name with .. is refused.
@test "CVE-2025-52881 class: sysctl names cannot walk out of /proc/sys" {
	update_config "$BUNDLE" '.linux.sysctl = {"net/../../../kernel/core_pattern": "|/evil"}'
	before=$(cat /proc/sys/kernel/core_pattern)
	run husk create -b "$BUNDLE" "$(ctr_id sysctl1)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.sysctl"* ]]
	[ "$(cat /proc/sys/kernel/core_pattern)" = "$before" ]
}

# A rootfs /dev that is a symlink out of the root cannot redirect where
# device nodes are created.
@test "a rootfs /dev symlinked outside cannot redirect device creation" {
	rmdir "$BUNDLE/rootfs/dev" 2>/dev/null || rm -rf "$BUNDLE/rootfs/dev"
	ln -s "/../../../../../../$OUTSIDE" "$BUNDLE/rootfs/dev"
	update_config "$BUNDLE" '.mounts |= map(select(.destination | startswith("/dev") | not))
		| .linux.devices = [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229}]
		| .linux.maskedPaths = []
		| .process.args = ["ls", "-l", "/dev/fuse"]'
	run husk run -b "$BUNDLE" "$(ctr_id dev1)"
	[ -z "$(ls -A "$OUTSIDE")" ]
	[ -c "$BUNDLE/rootfs/$OUTSIDE/fuse" ]
}

# CVE-2025-52565 class: the console is the pty opened by fd (TIOCGPTPEER)
# from the container's own devpts, so no /dev/pts path is raced. A
# terminal config without a console socket is refused before anything.
@test "a terminal without a console socket is refused and leaves nothing" {
	update_config "$BUNDLE" '.process.terminal = true'
	run husk create -b "$BUNDLE" "$(ctr_id tty1)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"process.terminal is true but no --console-socket was given"* ]]
	[ ! -e "$HUSK_ROOT/$(ctr_id tty1)" ]
}

# CVE-2019-5736: husk is inside the container between fork and execve of an
# exec'd process. A container with CAP_SYS_PTRACE and no user namespace
# (PR_SET_DUMPABLE does not stop it) pins /proc/PID/exe and reopens it for
# writing once husk exits. husk, started from a writable file (as
# installed), re-seats itself on a detached read-only mount of its binary
# (its mappings and /proc/self/exe, no execve), so the attacker only ever
# holds the file through that mount, and opening it for writing fails
# (EROFS). Against a husk that runs its binary from disk the attacker
# overwrites it.
@test "CVE-2019-5736: a container with CAP_SYS_PTRACE cannot overwrite husk during exec" {
	exe_attack_setup
	local i
	# re-seated, not re-executed
	run husk --debug exec "$ATTACKER" /bin/true
	[ "$status" -eq 0 ]
	[[ "$output" != *"protect the husk binary"* ]]
	for i in $(seq 300); do
		grep -q '^caught' "$TEST_TMP/report/log" 2>/dev/null && break
		husk exec "$ATTACKER" /bin/true
	done
	echo "caught after $i execs"
	assert_exe_attack_failed
	# through the read-only view: the write open was refused as such
	grep -q '^caught .* /$' "$TEST_TMP/report/log"
	grep -q '^open-wr: Read-only file system' "$TEST_TMP/report/log"
}

# Where the process cannot be re-seated on the view (PR_SET_MM refused:
# here by a seccomp filter; a kernel without CONFIG_CHECKPOINT_RESTORE),
# husk executes the view instead: the attacker catches that, and cannot
# write it either.
@test "CVE-2019-5736: when husk cannot re-seat itself it executes its read-only view, as safe" {
	[ -x "$DENY_SYSCALL" ] || skip "tests/tools/deny-syscall is not built (make check builds it)"
	exe_attack_setup
	local i
	for i in $(seq 300); do
		grep -q '^caught' "$TEST_TMP/report/log" 2>/dev/null && break
		"$DENY_SYSCALL" prctl-set-mm 1 "$HUSK_COPY" --root "$HUSK_ROOT" exec "$ATTACKER" /bin/true
	done
	echo "caught after $i execs"
	assert_exe_attack_failed
	grep -q '^caught .* /$' "$TEST_TMP/report/log"
	grep -q '^open-wr: Read-only file system' "$TEST_TMP/report/log"
	# it did go through the execve
	run "$DENY_SYSCALL" prctl-set-mm 1 "$HUSK_COPY" --debug --root "$HUSK_ROOT" exec "$ATTACKER" /bin/true
	[[ "$output" == *"cannot re-seat on the read-only view (Operation not permitted), executing it"* ]]
}

# Where the kernel makes no read-only view (before 5.12, or open_tree
# refused: here by a seccomp filter), husk falls back to a copy of its
# binary in a sealed memfd, which the attacker catches and cannot write
# either.
@test "CVE-2019-5736: without a read-only view husk runs from a sealed copy, as safe" {
	[ -x "$DENY_SYSCALL" ] || skip "tests/tools/deny-syscall is not built (make check builds it)"
	exe_attack_setup
	local i
	for i in $(seq 300); do
		grep -q '^caught' "$TEST_TMP/report/log" 2>/dev/null && break
		"$DENY_SYSCALL" open-tree-path 38 "$HUSK_COPY" --root "$HUSK_ROOT" exec "$ATTACKER" /bin/true
	done
	echo "caught after $i execs"
	assert_exe_attack_failed
	grep -q '^caught .* /memfd:husk (deleted)$' "$TEST_TMP/report/log"
}

# The fast path: husk started from a read-only mount skips the sealed copy
# (the attacker catches the file on disk this time), and the write still
# fails, because the mount is read-only for every path to it.
@test "CVE-2019-5736: husk on a read-only mount skips the copy and cannot be overwritten either" {
	exe_attack_setup
	HUSK_COPY_RO=$HUSK_COPY
	mount --bind -o ro "$HUSK_COPY" "$HUSK_COPY"
	local i
	for i in $(seq 300); do
		grep -q '^caught' "$TEST_TMP/report/log" 2>/dev/null && break
		husk exec "$ATTACKER" /bin/true
	done
	echo "caught after $i execs"
	wait_report "done" 40
	cat "$TEST_TMP/report/log"
	# no copy: the process in the container ran the binary on disk
	grep -q "^caught .* $HUSK_COPY\$" "$TEST_TMP/report/log"
	[ "$(grep -c '^write: ok' "$TEST_TMP/report/log")" = 0 ]
	[ "$(sha256sum <"$HUSK_COPY")" = "$SUM_BEFORE" ]
}

# Where executable memfds are refused and no read-only view can be made
# either, husk does not fall back to entering containers from its binary
# on disk: create/run/exec fail, saying why, and leave nothing.
# vm.memfd_noexec is per pid namespace, so the test raises it in a pid
# namespace of its own and the host's value is untouched.
@test "CVE-2019-5736: with vm.memfd_noexec=2 and no read-only view run fails clearly instead of running unprotected" {
	[ -e /proc/sys/vm/memfd_noexec ] || skip "the kernel has no vm.memfd_noexec (before 6.3)"
	[ -x "$DENY_SYSCALL" ] || skip "tests/tools/deny-syscall is not built (make check builds it)"
	local id
	id=$(ctr_id noexec)
	run unshare --pid --fork --mount --mount-proc sh -c \
		'echo 2 >/proc/sys/vm/memfd_noexec && exec "$@"' sh "$DENY_SYSCALL" open-tree-path 38 \
		"$HUSK_BIN" --root "$HUSK_ROOT" run -b "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"protect the husk binary: this host refuses executable memfds (sysctl vm.memfd_noexec is 2)"* ]]
	[ ! -e "$HUSK_ROOT/$id" ]
}

# With the read-only view, refused executable memfds do not matter.
@test "CVE-2019-5736: with vm.memfd_noexec=2 husk runs from its read-only view" {
	[ -e /proc/sys/vm/memfd_noexec ] || skip "the kernel has no vm.memfd_noexec (before 6.3)"
	update_config "$BUNDLE" '.process.args = ["echo", "ran"]'
	run unshare --pid --fork --mount --mount-proc sh -c \
		'echo 2 >/proc/sys/vm/memfd_noexec && exec "$@"' sh \
		"$HUSK_BIN" --root "$HUSK_ROOT" run -b "$BUNDLE" "$(ctr_id noexec)"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = ran ]
}

# CVE-2019-5736 during create: the created init runs husk until start. A
# container that shares its pid namespace (joined by path) sees it for as
# long as it waits, with no race to win.
@test "CVE-2019-5736: a parked init in a shared pid namespace does not expose husk" {
	exe_attack_setup
	local pid
	pid=$(husk state "$ATTACKER" | jq -r .pid)
	make_bundle "$TEST_TMP/victim"
	update_config "$TEST_TMP/victim" '.linux.namespaces |= map(if .type == "pid" then .path = "/proc/'"$pid"'/ns/pid" else . end)'
	husk_nowait create -b "$TEST_TMP/victim" "$(ctr_id victim)"
	wait_report caught
	husk delete --force "$(ctr_id victim)"
	assert_exe_attack_failed
}

# CVE-2025-52565: the pty is bound on /dev/console by fd (the source can
# not be raced: TIOCGPTPEER), and the target is /dev/console itself. A
# /dev/console that is a symlink (here to a file elsewhere in the rootfs;
# it could point at a masked procfs file) must not move the bind there.
# A runtime that resolves the target through the link mounts the pty on
# /etc/hijack.
@test "CVE-2025-52565: a symlinked /dev/console does not redirect the console bind" {
	[ -x "$RECVTTY" ] || skip "tests/tools/recvtty is not built (make check builds it)"
	mkdir -p "$TEST_TMP/dev"
	ln -s /etc/hijack "$TEST_TMP/dev/console"
	echo original >"$BUNDLE/rootfs/etc/hijack"
	bind_dev "$TEST_TMP/dev"
	# (masking needs a /dev/null, which this bare /dev lacks)
	update_config "$BUNDLE" '.linux.maskedPaths = [] | .process.terminal = true
		| .process.args = ["sh", "-c", "grep \" /etc/hijack \" /proc/self/mountinfo; cat /etc/hijack"]'
	"$RECVTTY" "$TEST_TMP/console.sock" >"$TEST_TMP/tty.out" 2>"$TEST_TMP/recv.err" &
	local recv=$! id i
	id=$(ctr_id console)
	for i in $(seq 100); do grep -q ready "$TEST_TMP/recv.err" && break; sleep 0.05; done
	run husk_nowait create -b "$BUNDLE" --console-socket "$TEST_TMP/console.sock" "$id"
	kill "$recv" 2>/dev/null || true
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"terminal: /dev/console in the rootfs is a symlink"* ]]
	[ ! -e "$HUSK_ROOT/$id" ]
	# the link and its target are as they were
	[ "$(readlink "$TEST_TMP/dev/console")" = /etc/hijack ]
	[ "$(cat "$BUNDLE/rootfs/etc/hijack")" = original ]
}

# The console target is created when missing, and is a real file, not a
# symlink followed: the terminal still works with a bound /dev.
@test "CVE-2025-52565: with a bound /dev the console is bound on /dev/console" {
	[ -x "$RECVTTY" ] || skip "tests/tools/recvtty is not built (make check builds it)"
	mkdir -p "$TEST_TMP/dev"
	bind_dev "$TEST_TMP/dev"
	# (masking needs a /dev/null, which this bare /dev lacks)
	update_config "$BUNDLE" '.linux.maskedPaths = [] | .process.terminal = true
		| .process.args = ["sh", "-c", "grep -c \" /dev/console \" /proc/self/mountinfo; tty"]'
	"$RECVTTY" "$TEST_TMP/console.sock" >"$TEST_TMP/tty.out" 2>"$TEST_TMP/recv.err" &
	local recv=$! id i
	id=$(ctr_id console)
	for i in $(seq 100); do grep -q ready "$TEST_TMP/recv.err" && break; sleep 0.05; done
	husk_nowait create -b "$BUNDLE" --console-socket "$TEST_TMP/console.sock" "$id"
	husk start "$id"
	wait_for_status "$id" stopped
	wait "$recv"
	run tr -d '\r' <"$TEST_TMP/tty.out"
	echo "$output"
	[ "${lines[0]}" = 1 ]
	[[ "${lines[1]}" =~ ^/dev/pts/[0-9]+$ ]]
	[ -f "$TEST_TMP/dev/console" ] && [ ! -L "$TEST_TMP/dev/console" ]
}

# CVE-2023-27561 (and CVE-2019-19921): a /proc that is not procfs (here a
# bind of a directory the image controls, with decoy files) must not
# receive the runtime's procfs writes. husk writes sysctls and
# oom_score_adj through a procfs it mounted privately and checked with
# fstatfs (exec: the host procfs, checked, opened before joining), so the
# decoys stay untouched and the real values land. (LSM
# label writes take the same path; this host has no LSM to observe.) A
# runtime that writes through the container's /proc fills the decoys.
@test "CVE-2023-27561: a fake /proc does not receive sysctl and oom_score_adj writes" {
	local fake=$TEST_TMP/fakeproc id pid
	mkdir -p "$fake/sys/net/ipv4" "$fake/self" "$fake/thread-self/attr"
	echo decoy >"$fake/sys/net/ipv4/ip_forward"
	echo decoy >"$fake/self/oom_score_adj"
	echo decoy >"$fake/thread-self/attr/exec"
	update_config "$BUNDLE" '.mounts |= map(if .destination == "/proc" then {"destination": "/proc", "type": "bind", "source": "'"$fake"'", "options": ["rbind"]} else . end)
		| .linux.maskedPaths = [] | .linux.readonlyPaths = []
		| .linux.sysctl = {"net.ipv4.ip_forward": "1"}
		| .process.oomScoreAdj = 500
		| .process.args = ["sleep", "100"]'
	id=$(ctr_id fakeproc)
	husk_nowait run -d -b "$BUNDLE" "$id"
	pid=$(husk state "$id" | jq -r .pid)
	# the decoys are untouched
	for f in sys/net/ipv4/ip_forward self/oom_score_adj thread-self/attr/exec; do
		[ "$(cat "$fake/$f")" = decoy ]
	done
	# and the real settings reached the container
	[ "$(cat "/proc/$pid/oom_score_adj")" = 500 ]
	[ "$(nsenter --net="/proc/$pid/ns/net" cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
	# exec writes through the host's procfs, checked, never the container's
	cat >"$TEST_TMP/p.json" <<-'JSON'
	{"args": ["sleep", "100"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "oomScoreAdj": 600}
	JSON
	husk_nowait exec -d --pid-file "$TEST_TMP/exec.pid" --process "$TEST_TMP/p.json" "$id"
	[ "$(cat "/proc/$(cat "$TEST_TMP/exec.pid")/oom_score_adj")" = 600 ]
	[ "$(cat "$fake/self/oom_score_adj")" = decoy ]
}

# CVE-2021-30465 / CVE-2024-45310 races: a process sharing a volume with a
# starting container swaps a mount target's parent between a directory and
# a symlink out of the rootfs (tests/tools/swap-race, as fast as it can)
# while containers that bind and create targets below it start. Whatever
# the timing, nothing is created or mounted outside the rootfs: each start
# either mounts inside it or fails cleanly. A runtime that follows the
# link from the host creates the targets in $OUTSIDE.
@test "CVE-2024-45310: a mount target swapped with a symlink in a race stays inside the rootfs" {
	[ -x "$SWAP_RACE" ] || skip "tests/tools/swap-race is not built (make check builds it)"
	mkdir -p "$TEST_TMP/src" "$BUNDLE/rootfs/vol"
	echo secret >"$TEST_TMP/src/file"
	# (what the process sees depends on the swapper too: it only runs)
	update_config "$BUNDLE" '.process.args = ["true"]
		| .mounts += [{"destination": "/vol/x/sub/mnt", "type": "bind", "source": "'"$TEST_TMP/src"'", "options": ["rbind"]},
			{"destination": "/vol/x/t/deep", "type": "tmpfs", "source": "tmpfs"}]'
	"$SWAP_RACE" "$BUNDLE/rootfs/vol" x "/../../../../../../../..$OUTSIDE" "$TEST_TMP/stop" \
		>"$TEST_TMP/swaps" &
	local swapper=$! i id ok=0
	for i in $(seq 30); do
		id=$(ctr_id "race$i")
		run husk run -b "$BUNDLE" "$id"
		if [ "$status" -eq 0 ]; then
			ok=$((ok + 1))
		else
			# a clean failure: an error, no state left
			[ "$status" -eq 1 ] || [ "$status" -eq 2 ] || { echo "$output"; false; }
			[ ! -e "$HUSK_ROOT/$id" ]
		fi
	done
	touch "$TEST_TMP/stop"
	wait "$swapper"
	echo "$ok of 30 started; $(cat "$TEST_TMP/swaps") swaps"
	[ "$(cat "$TEST_TMP/swaps")" -gt 1000 ]
	[ "$ok" -gt 0 ]
	# nothing appeared in the real directory outside the rootfs
	[ -z "$(ls -A "$OUTSIDE")" ]
}
