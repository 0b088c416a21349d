#!/usr/bin/env bats
# husk-image unpack against hand-made layers (tests/bats/make-layers.py):
# bundle permissions, the recursive remover (any depth, never across a
# mount point), concurrent unpacks, directory modes and mtimes, xattrs,
# owners, opaque markers, rootless owner records, a comparison with umoci
# on a realistic image, and faults (SIGKILL, a full disk).

load helpers
load image-helpers

IMAGES="realistic realistic-nodev modes-symlink mtimes implicit bad-xattr uid-big uid-max uid-negative
	gid-big opaque-many deep devices bulk"

setup_file() {
	[ -x "$HUSK_IMAGE_BIN" ] || skip "husk-image is not built (configure --disable-image)"
	export FIX=$BATS_FILE_TMPDIR
	# shellcheck disable=SC2086
	python3 "$BATS_TEST_DIRNAME/make-layers.py" "$FIX/L" $IMAGES
}

setup() {
	setup_common
	STORE=$TEST_TMP/store
	L=$FIX/L
}

teardown() {
	teardown_common
}

# listing DIR: type, mode, owner, size, mtime and link target of everything
# under DIR, the way two unpacks of one image must agree
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%p %y %m %U:%G %s %T@ %l\n' | sort)
}

# layout_state: what is in the image layout (nothing may be added there)
layout_state() {
	(cd "$L" && find . -printf '%p %y %s %T@\n' | sort)
}

# in_mount_ns SCRIPT: run bash SCRIPT in a private mount namespace (its
# mounts go away with it, whatever the test does)
in_mount_ns() {
	unshare --mount --propagation private bash -euc "$1"
}

require_overlay() {
	require_root
	grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
		skip "overlayfs is not available"
}

@test "the bundle directory is made 0700 (also for --overlay): others cannot reach its rootfs" {
	run husk_image unpack "oci:$L:realistic" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$TEST_TMP/b")" = 700 ]
	[ -f "$TEST_TMP/b/rootfs/bin/su" ]
	require_overlay
	cp -a "$L" "$TEST_TMP/L"
	export H="$HUSK_IMAGE_BIN --store $STORE" T=$TEST_TMP
	run in_mount_ns '$H unpack --overlay "oci:$T/L:realistic" "$T/ov"
		stat -c %a "$T/ov"
		$H umount --rm "$T/ov"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 700 ]
	[ ! -e "$TEST_TMP/ov" ]
}

@test "a failed unpack removes a 1500-deep tree it made, with few fds" {
	before=$(layout_state)
	run bash -c 'ulimit -n 128; "$0" unpack "oci:$1:deep" "$2"' "$HUSK_IMAGE_BIN" "$L" "$TEST_TMP/b"
	[ "$status" -ne 0 ]
	[[ "$output" == *'entry "../escape"'*'would leave the root'* ]]
	# nothing left behind: not the rootfs, not the bundle directory
	[ ! -e "$TEST_TMP/b" ]
	[ "$(layout_state)" = "$before" ]
}

@test "umount --rm removes a 4096-deep tree a container made in the bundle" {
	require_overlay
	cp -a "$L" "$TEST_TMP/L"
	export H="$HUSK_IMAGE_BIN --store $STORE" T=$TEST_TMP
	run in_mount_ns '$H unpack --overlay "oci:$T/L:realistic" "$T/ov" >/dev/null
		# as a container would: 4096 levels, far past PATH_MAX
		python3 -c "
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
for i in range(4096):
    os.mkdir(\"d\", dir_fd=fd)
    nfd = os.open(\"d\", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
os.close(os.open(\"bottom\", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
" "$T/ov/rootfs"
		ulimit -n 128
		$H umount --rm "$T/ov"'
	[ "$status" -eq 0 ]
	[ ! -e "$TEST_TMP/ov" ]
}

@test "umount --rm never crosses a mount point: a tmpfs mounted in the bundle keeps its files" {
	require_overlay
	cp -a "$L" "$TEST_TMP/L"
	export H="$HUSK_IMAGE_BIN --store $STORE" T=$TEST_TMP
	run in_mount_ns '$H unpack --overlay "oci:$T/L:realistic" "$T/ov" >/dev/null
		mkdir "$T/ov/overlay/mnt"
		mount -t tmpfs husk-test "$T/ov/overlay/mnt"
		mkdir "$T/ov/overlay/mnt/sub"
		echo precious >"$T/ov/overlay/mnt/sub/marker"
		rc=0
		$H umount --rm "$T/ov" || rc=$?
		echo "rc=$rc"
		cat "$T/ov/overlay/mnt/sub/marker"
		umount "$T/ov/overlay/mnt"
		rmdir "$T/ov/overlay/mnt"
		$H umount --rm "$T/ov"'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$TEST_TMP/ov/overlay/mnt is a mount point"* ]]
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *precious* ]]
	[ ! -e "$TEST_TMP/ov" ]
}

@test "mount: an overlay directory swapped for a symlink to another bundle's is refused, its upper untouched" {
	require_overlay
	cp -a "$L" "$TEST_TMP/L"
	# the layout is the store: its layer cache holds the lower layers
	export H="$HUSK_IMAGE_BIN --store $TEST_TMP/L" T=$TEST_TMP
	run in_mount_ns '$H unpack --overlay "oci:$T/L:realistic" "$T/a" >/dev/null
		$H unpack --overlay "oci:$T/L:realistic" "$T/b" >/dev/null
		$H umount "$T/a"
		$H umount "$T/b"
		# a: its overlay directory now points at b'"'"'s
		mv "$T/a/overlay" "$T/a-overlay"
		ln -s ../b/overlay "$T/a/overlay"
		rc=0
		$H mount "$T/a" || rc=$?
		echo "rc=$rc"
		if [ "$rc" -eq 0 ]; then echo written >"$T/a/rootfs/planted"; $H umount "$T/a"; fi
		ls "$T/b/overlay/upper"'
	echo "$output"
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *"$TEST_TMP/a/overlay"* ]]
	[[ "$output" != *planted* ]]
}

@test "a failed unpack never removes what is mounted in its rootfs meanwhile" {
	require_root
	command -v strace >/dev/null || skip "strace is not installed"
	export H="$HUSK_IMAGE_BIN --store $STORE" T=$TEST_TMP L
	run in_mount_ns '# the xattr of "tagged" fails the unpack; strace holds it back
		# long enough to mount a tmpfs in the rootfs first
		strace -f -qq -o /dev/null -e trace=fsetxattr -e inject=fsetxattr:delay_enter=5000000 \
			$H unpack "oci:$L:bad-xattr" "$T/b" >"$T/out" 2>&1 &
		pid=$!
		for i in $(seq 400); do [ -e "$T/b/rootfs/fine" ] && break; sleep 0.05; done
		mkdir "$T/b/rootfs/m"
		mount -t tmpfs husk-test "$T/b/rootfs/m"
		echo precious >"$T/b/rootfs/m/marker"
		rc=0
		wait "$pid" || rc=$?
		echo "rc=$rc"
		cat "$T/out"
		cat "$T/b/rootfs/m/marker"
		umount "$T/b/rootfs/m"'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *rc=1* ]]
	[[ "$output" == *'xattr "bogus.attr" could not be set'* ]]
	[[ "$output" == *"remove $TEST_TMP/b/rootfs: $TEST_TMP/b/rootfs/m is a mount point"* ]]
	[ "${lines[-1]}" = precious ]
}

@test "two unpacks into one bundle: exactly one wins, the loser removes nothing of it" {
	run husk_image unpack "oci:$L:realistic" "$TEST_TMP/ref"
	[ "$status" -eq 0 ]
	ref=$(listing "$TEST_TMP/ref/rootfs")
	# the first rounds widen the window between the check for an existing
	# rootfs and its creation (strace delays the check's return) so both
	# pass it; the others race plainly
	local slow=()
	command -v strace >/dev/null && slow=(strace -f -qq -o /dev/null
		-e trace=faccessat,faccessat2,newfstatat
		-e inject=faccessat,faccessat2:delay_exit=300000)
	for round in $(seq 20); do
		b=$TEST_TMP/race$round
		pre=()
		[ "$round" -le 3 ] && pre=("${slow[@]}")
		"${pre[@]}" "$HUSK_IMAGE_BIN" unpack "oci:$L:realistic" "$b" >"$TEST_TMP/a.log" 2>&1 &
		a=$!
		"${pre[@]}" "$HUSK_IMAGE_BIN" unpack "oci:$L:realistic" "$b" >"$TEST_TMP/b.log" 2>&1 &
		p=$!
		sa=0 sb=0
		wait "$a" || sa=$?
		wait "$p" || sb=$?
		echo "round $round: $sa $sb"
		cat "$TEST_TMP/a.log" "$TEST_TMP/b.log"
		# exactly one wins
		[ $((sa == 0)) -ne $((sb == 0)) ]
		grep -Eq 'is being unpacked by another process|already has a rootfs' \
			"$TEST_TMP/a.log" "$TEST_TMP/b.log"
		# and its bundle is whole
		[ -f "$b/config.json" ]
		diff <(echo "$ref") <(listing "$b/rootfs")
		rm -rf "$b"
	done
}

@test "directory modes and mtimes are not moved by a symlink put in place of a parent" {
	for mode in "" --rootless; do
		rm -rf "$TEST_TMP/b"
		run husk_image unpack $mode "oci:$L:modes-symlink" "$TEST_TMP/b"
		[ "$status" -eq 0 ]
		# b/sub as its own entry made it; a/sub and c/sub (0500, other
		# mtimes) were reached through the symlinks a -> b and c -> b
		[ "$(stat -c '%a %Y' "$TEST_TMP/b/rootfs/b/sub")" = "755 1700000011" ]
		[ "$(stat -c '%a %Y' "$TEST_TMP/b/rootfs/b")" = "755 1700000000" ]
		[ "$(readlink "$TEST_TMP/b/rootfs/a")" = b ]
		[ "$(readlink "$TEST_TMP/b/rootfs/c")" = b ]
	done
}

@test "directory mtimes come from the last layer that listed them; two unpacks give identical trees" {
	run husk_image unpack "oci:$L:mtimes" "$TEST_TMP/m"
	[ "$status" -eq 0 ]
	# layer 2 added and removed files in d and d/e without listing them
	[ "$(stat -c %Y "$TEST_TMP/m/rootfs/d")" = 1700000100 ]
	[ "$(stat -c %Y "$TEST_TMP/m/rootfs/d/e")" = 1700000200 ]
	[ -f "$TEST_TMP/m/rootfs/d/added" ]
	[ ! -e "$TEST_TMP/m/rootfs/d/gone" ]
	# a listed directory whited out, then made again as a later file's
	# parent, is a new directory: the old one's mode and mtime stay away
	# (as with umoci, it has the unpack's time)
	for mode in "" --rootless; do
		run husk_image unpack $mode "oci:$L:implicit" "$TEST_TMP/i$mode"
		[ "$status" -eq 0 ]
		[ "$(stat -c %a "$TEST_TMP/i$mode/rootfs/p")" = 755 ]
		[ "$(stat -c %Y "$TEST_TMP/i$mode/rootfs/p")" -gt $(($(date +%s) - 600)) ]
		[ ! -e "$TEST_TMP/i$mode/rootfs/p/old" ]
	done
	for mode in "" --rootless; do
		run husk_image unpack $mode "oci:$L:realistic" "$TEST_TMP/r1$mode"
		[ "$status" -eq 0 ]
		sleep 1.1
		run husk_image unpack $mode "oci:$L:realistic" "$TEST_TMP/r2$mode"
		[ "$status" -eq 0 ]
		[ "$(listing "$TEST_TMP/r1$mode/rootfs")" = "$(listing "$TEST_TMP/r2$mode/rootfs")" ]
	done
}

@test "an xattr the filesystem refuses fails the unpack naming the file and the xattr, unless --ignore-xattr-errors" {
	run husk_image unpack "oci:$L:bad-xattr" "$TEST_TMP/b"
	[ "$status" -ne 0 ]
	[[ "$output" == *'entry "tagged"'*'xattr "bogus.attr" could not be set'*'--ignore-xattr-errors'* ]]
	[ ! -e "$TEST_TMP/b" ]
	run husk_image unpack --ignore-xattr-errors "oci:$L:bad-xattr" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	[[ "$output" == *"tagged: xattr bogus.attr not set"* ]]
	[ -f "$TEST_TMP/b/rootfs/tagged" ]
	run husk_image unpack --overlay --ignore-xattr-errors "oci:$L:bad-xattr" "$TEST_TMP/ov"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--overlay and --ignore-xattr-errors do not go together"* ]]
	[ ! -e "$TEST_TMP/ov" ]
}

@test "owners out of range (>= 2^32 - 1, negative) are refused naming the entry" {
	for img in uid-big uid-max uid-negative gid-big; do
		run husk_image unpack "oci:$L:$img" "$TEST_TMP/$img"
		echo "$img: $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *'entry "setuid": owner '*' is out of range (0 to 4294967294)'* ]]
		[ ! -e "$TEST_TMP/$img" ]
	done
	[[ "$output" == *"owner 0:1099511627776"* ]]
}

@test "an opaque marker repeated 20000 times unpacks quickly and hides the lower layer" {
	run timeout 20 "$HUSK_IMAGE_BIN" --store "$STORE" unpack "oci:$L:opaque-many" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	[ "$(find "$TEST_TMP/b/rootfs/d" -name 'upper-*' | wc -l)" = 1000 ]
	[ "$(find "$TEST_TMP/b/rootfs/d" -name 'lower-*' | wc -l)" = 0 ]
	# and into the layer cache of --overlay (the opaque directory made
	# once, not looked at 20000 times)
	require_overlay
	cp -a "$L" "$TEST_TMP/L"
	export H="$HUSK_IMAGE_BIN --store $STORE" T=$TEST_TMP
	run in_mount_ns 'timeout 20 $H unpack --overlay "oci:$T/L:opaque-many" "$T/ov"
		ls "$T/ov/rootfs/d" | grep -c upper-
		ls "$T/ov/rootfs/d" | grep -c lower- || true
		$H umount --rm "$T/ov"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 0 ]
}

# xattr_hex FILE NAME
xattr_hex() {
	python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex())' "$1" "$2"
}

@test "--rootless: owner records and device nodes as umoci writes them" {
	run husk_image unpack --rootless "oci:$L:devices" "$TEST_TMP/b"
	[ "$status" -eq 0 ]
	r=$TEST_TMP/b/rootfs
	# Resource { uid = 1; gid = 2 }, both fields, 0 written as NoopUser (2^32 - 1)
	[ "$(xattr_hex "$r/owned" user.rootlesscontainers)" = 08e80710e807 ]
	[ "$(xattr_hex "$r/uid-only" user.rootlesscontainers)" = 08e80710ffffffff0f ]
	[ "$(xattr_hex "$r/gid-only" user.rootlesscontainers)" = 08ffffffff0f10e807 ]
	[ "$(xattr_hex "$r/big-ids" user.rootlesscontainers)" = 08feffffff0f108080808008 ]
	[ "$(xattr_hex "$r/owned-dir" user.rootlesscontainers)" = 08ac0210ffffffff0f ]
	# a device node becomes an empty file with its mode and owner record
	[ "$(stat -c '%F %a %s %u:%g' "$r/dev/null")" = "regular empty file 666 0 0:0" ]
	[ "$(stat -c '%F %a' "$r/dev/sda")" = "regular empty file 660" ]
	[ "$(xattr_hex "$r/dev/sda" user.rootlesscontainers)" = 08ffffffff0f1006 ]
	[ -p "$r/dev/fifo" ]
	command -v umoci >/dev/null || skip "umoci is not installed"
	run umoci unpack --rootless --image "$L:devices" "$TEST_TMP/u"
	[ "$status" -eq 0 ]
	run python3 "$BATS_TEST_DIRNAME/compare-trees.py" "$TEST_TMP/u/rootfs" "$r"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "the same tree as umoci for a realistic image, with and without --rootless" {
	command -v umoci >/dev/null || skip "umoci is not installed"
	# Where the two could differ, husk matches umoci (see the man page):
	# directory mtimes from the last layer that listed them, devices made
	# empty files without privileges, no owner record on fifos/symlinks.
	for mode in "" --rootless; do
		run umoci unpack $mode --image "$L:realistic" "$TEST_TMP/u$mode"
		[ "$status" -eq 0 ]
		run husk_image unpack $mode "oci:$L:realistic" "$TEST_TMP/h$mode"
		[ "$status" -eq 0 ]
		run python3 "$BATS_TEST_DIRNAME/compare-trees.py" "$TEST_TMP/u$mode/rootfs" "$TEST_TMP/h$mode/rootfs"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "${lines[-1]}" == *"entries compared, 0 differences" ]]
	done
	# the comparison sees what matters: an old-style owner record differs
	printf '\x10\x2a' >"$TEST_TMP/rec"
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.rootlesscontainers", open(sys.argv[2], "rb").read())' \
		"$TEST_TMP/h--rootless/rootfs/etc/shadow" "$TEST_TMP/rec"
	run python3 "$BATS_TEST_DIRNAME/compare-trees.py" "$TEST_TMP/u--rootless/rootfs" "$TEST_TMP/h--rootless/rootfs"
	[ "$status" -eq 1 ]
	[[ "$output" == *"etc/shadow: xattrs"* ]]
}

@test "SIGKILL at random points of unpack: the bundle is whole or removable, the layout untouched" {
	run husk_image unpack "oci:$L:bulk" "$TEST_TMP/ref"
	[ "$status" -eq 0 ]
	ref=$(listing "$TEST_TMP/ref/rootfs")
	before=$(layout_state)
	local complete=0 killed=0
	for round in $(seq 8); do
		b=$TEST_TMP/k$round
		# the binary itself, so that the kill reaches it
		"$HUSK_IMAGE_BIN" --store "$STORE" unpack "oci:$L:bulk" "$b" >/dev/null 2>&1 &
		pid=$!
		sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" || true
		if [ -f "$b/config.json" ]; then
			complete=$((complete + 1))
			[ "$(listing "$b/rootfs")" = "$ref" ]
		else
			killed=$((killed + 1))
			# a bundle cut short: another unpack refuses it (never
			# mixes into it), and it is removable
			if [ -e "$b/rootfs" ]; then
				run husk_image unpack "oci:$L:bulk" "$b"
				[ "$status" -ne 0 ]
				[[ "$output" == *"already has a rootfs"* ]]
			fi
			rm -rf "$b"
			[ ! -e "$b" ]
		fi
		[ "$(layout_state)" = "$before" ]
	done
	echo "complete=$complete killed=$killed"
	# after the kills, an unpack into a fresh bundle still works
	run husk_image unpack "oci:$L:bulk" "$TEST_TMP/after"
	[ "$status" -eq 0 ]
	[ "$(listing "$TEST_TMP/after/rootfs")" = "$ref" ]
}

@test "SIGKILL at random points of unpack --overlay: umount --rm cleans each bundle, gc leaves no temp dirs" {
	require_overlay
	cp -a "$L" "$TEST_TMP/L"
	export H=$HUSK_IMAGE_BIN T=$TEST_TMP
	run in_mount_ns 'for round in 1 2 3 4 5 6; do
			b=$T/k$round
			# the cache is emptied each round, so the kill can land in it
			$H --store "$T/L" gc >/dev/null
			$H --store "$T/L" unpack --overlay "oci:$T/L:bulk" "$b" >/dev/null 2>&1 &
			pid=$!
			sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" || true
			if [ -f "$b/overlay/layers" ]; then
				$H umount --rm "$b"
			elif [ -e "$b" ]; then
				# killed before the mount: plain directories only
				if grep -q " $b" /proc/self/mountinfo; then echo "mounted: $b"; exit 1; fi
				rm -r "$b"
			fi
			[ ! -e "$b" ] || { echo "left: $b"; exit 1; }
		done
		$H --store "$T/L" gc
		$H --store "$T/L" unpack --overlay "oci:$T/L:bulk" "$T/after" >/dev/null
		ls "$T/after/rootfs/d0" | wc -l
		$H umount --rm "$T/after"
		$H --store "$T/L" gc >/dev/null
		find "$T/L/layers" -name ".tmp*"
		grep " $T" /proc/self/mountinfo || true'
	echo "$output"
	[ "$status" -eq 0 ]
	# 3 layers of 50 files in d0, 2 of them whited out by the next layer
	[ "${lines[-1]}" = 148 ]
}

@test "a full disk: the unpack fails naming the entry and the cause, and leaves nothing" {
	require_root
	export H="$HUSK_IMAGE_BIN --store $STORE" T=$TEST_TMP L
	mkdir "$TEST_TMP/small"
	run in_mount_ns 'mount -t tmpfs -o size=2m husk-test "$T/small"
		rc=0
		$H unpack "oci:$L:bulk" "$T/small/b" || rc=$?
		echo "rc=$rc"
		ls -A "$T/small"
		df --output=used "$T/small" | tail -1'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'entry "'*'": write: No space left on device'* ]]
	[ "${lines[-2]}" = rc=1 ]
	# nothing half-left: the tmpfs is empty again
	[ "$(echo "${lines[-1]}" | tr -d ' ')" = 0 ]
}
