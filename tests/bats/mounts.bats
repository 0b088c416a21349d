#!/usr/bin/env bats
# Mounts as the container sees them in /proc/self/mountinfo, the default
# /dev, masked and readonly paths, devices.

load helpers

setup() {
	require_root
	setup_common
	make_bundle "$BUNDLE"
	SRC=$TEST_TMP/src
	mkdir -p "$SRC/sub"
	echo data >"$SRC/file"
}

teardown() {
	[ -n "${ROOTFS_BUNDLE:-}" ] && rm -rf "$ROOTFS_BUNDLE"
	teardown_common
}

# add_mount JSON: append a mount to the config
add_mount() {
	update_config "$BUNDLE" ".mounts += [$1]"
}

# mount_line DEST: the container's mountinfo line for DEST (the last one)
mount_line_of() {
	awk -v d="$1" '$5 == d' <<<"$output" | tail -n 1
}

@test "a bind mount with ro, nosuid, nodev, noexec" {
	add_mount '{"destination": "/mnt", "type": "bind", "source": "'"$SRC"'", "options": ["bind", "ro", "nosuid", "nodev", "noexec"]}'
	run_sh "$BUNDLE" 'cat /mnt/file; touch /mnt/new 2>/dev/null && echo writable; cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = data ]
	[ "${lines[1]}" != writable ]
	local line
	line=$(mount_line_of /mnt)
	[[ "$line" =~ \ ro,nosuid,nodev,noexec ]]
	[ ! -e "$SRC/new" ]
}

@test "a read-write bind mount writes through to the source" {
	add_mount '{"destination": "/mnt", "type": "bind", "source": "'"$SRC"'", "options": ["rbind", "rw"]}'
	run_sh "$BUNDLE" 'echo hello >/mnt/new'
	[ "$status" -eq 0 ]
	[ "$(cat "$SRC/new")" = hello ]
}

@test "rro makes a recursive bind mount read-only all the way down" {
	mkdir -p "$SRC/sub"
	add_mount '{"destination": "/mnt", "type": "bind", "source": "'"$SRC"'", "options": ["rbind", "rro"]}'
	add_mount '{"destination": "/mnt/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	run_sh "$BUNDLE" 'touch /mnt/x 2>/dev/null && echo writable; cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" != writable ]
	[[ "$(mount_line_of /mnt)" =~ \ ro[,\ ] ]]
}

@test "tmpfs with size and mode" {
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m", "mode=1770", "nosuid"]}'
	run_sh "$BUNDLE" 'stat -c %a /scratch; cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1770 ]
	local line
	line=$(mount_line_of /scratch)
	[[ "$line" == *" - tmpfs tmpfs "*size=2048k* ]]
	[[ "$line" == *nosuid* ]]
}

@test "proc, sysfs, mqueue, devpts and cgroup of the default config" {
	run_sh "$BUNDLE" 'cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[[ "$(mount_line_of /proc)" == *" - proc "* ]]
	[[ "$(mount_line_of /sys)" == *" - sysfs "* ]]
	[[ "$(mount_line_of /sys)" =~ \ ro, ]]
	[[ "$(mount_line_of /dev/mqueue)" == *" - mqueue "* ]]
	[[ "$(mount_line_of /dev/pts)" == *" - devpts "*ptmxmode=666* ]]
	[[ "$(mount_line_of /dev/shm)" == *" - tmpfs "* ]]
	grep -q " /sys/fs/cgroup" <<<"$output"
	grep " /sys/fs/cgroup" <<<"$output" | grep -q " - cgroup\(2\)\? "
}

@test "propagation options are applied" {
	add_mount '{"destination": "/s", "type": "tmpfs", "source": "tmpfs", "options": ["shared"]}'
	add_mount '{"destination": "/p", "type": "tmpfs", "source": "tmpfs", "options": ["private"]}'
	run_sh "$BUNDLE" 'cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[[ "$(mount_line_of /s)" == *" shared:"* ]]
	[[ "$(mount_line_of /p)" != *" shared:"* ]]
}

@test "rootfsPropagation" {
	update_config "$BUNDLE" '.linux.rootfsPropagation = "shared"'
	run_sh "$BUNDLE" 'cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[[ "$(mount_line_of /)" == *" shared:"* ]]
	update_config "$BUNDLE" '.linux.rootfsPropagation = "private"'
	run_sh "$BUNDLE" 'cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[[ "$(mount_line_of /)" != *" shared:"* ]]
}

@test "rootfsPropagation unbindable and runbindable with the bundle on the host's root filesystem" {
	# the bundle's rootfs on the same mount as the host's "/" (not a
	# mount of its own, as under a tmpfs /tmp): binding it must still work
	local dir prop
	[ "$(stat -c %m /var/tmp)" = / ] || skip "/var/tmp is not on the root filesystem here"
	dir=$(mktemp -d /var/tmp/husk-unbindable.XXXXXX)
	ROOTFS_BUNDLE=$dir
	make_bundle "$dir"
	for prop in unbindable runbindable; do
		update_config "$dir" ".linux.rootfsPropagation = \"$prop\""
		run_sh "$dir" 'cat /proc/self/mountinfo'
		echo "$prop: $output"
		[ "$status" -eq 0 ]
		[[ "$(mount_line_of /)" == *" unbindable"* ]]
	done
}

@test "a read-only /dev tmpfs is populated first and read-only in the container" {
	update_config "$BUNDLE" '(.mounts[] | select(.destination == "/dev") | .options) += ["ro"]'
	run_sh "$BUNDLE" 'ls /dev/pts/ptmx /dev/shm /dev/null >/dev/null && echo populated;
		touch /dev/x 2>/dev/null || echo ro; echo ok >/dev/shm/x && cat /dev/shm/x;
		awk "\$5 == \"/dev\" {print \$6}" /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = populated ]
	[ "${lines[1]}" = ro ]
	# its submounts keep their own options
	[ "${lines[2]}" = ok ]
	[[ "${lines[3]}" == ro,* ]]
}

@test "root.readonly" {
	update_config "$BUNDLE" '.root.readonly = true'
	run_sh "$BUNDLE" 'touch /x 2>/dev/null && echo writable; cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" != writable ]
	[[ "$(mount_line_of /)" =~ \ ro[,\ ] ]]
	update_config "$BUNDLE" '.root.readonly = false'
	run_sh "$BUNDLE" 'touch /x && echo writable'
	[ "$output" = writable ]
	[ -e "$BUNDLE/rootfs/x" ]
}

@test "masked paths read empty; readonly paths cannot be written" {
	mkdir -p "$BUNDLE/rootfs/secretdir"
	echo secret >"$BUNDLE/rootfs/secretdir/f"
	echo secret >"$BUNDLE/rootfs/secretfile"
	mkdir -p "$BUNDLE/rootfs/rodir"
	update_config "$BUNDLE" '.root.readonly = false
		| .linux.maskedPaths = ["/secretfile", "/secretdir", "/no/such/path"]
		| .linux.readonlyPaths = ["/rodir", "/proc/sys"]'
	run_sh "$BUNDLE" 'echo "[$(cat /secretfile)]"; echo "[$(ls -A /secretdir)]"
		(touch /rodir/x && echo writable) 2>/dev/null
		(touch /secretdir/x && echo masked-writable) 2>/dev/null
		(echo 1 >/proc/sys/kernel/domainname && echo procsys-writable) 2>/dev/null; echo done'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '[]\n[]\ndone')" ]
	[ ! -e "$BUNDLE/rootfs/rodir/x" ]
}

@test "the default /dev" {
	run_sh "$BUNDLE" 'for d in null zero full random urandom tty; do stat -c "%n %F %t,%T %a" /dev/$d; done
		for l in fd stdin stdout stderr; do readlink /dev/$l; done
		stat -c "%F" /dev/pts/ptmx; readlink /dev/ptmx; test -d /dev/shm && echo shm
		echo x >/dev/null && head -c 3 /dev/zero | wc -c'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/dev/null character special file 1,3 666" ]
	[ "${lines[1]}" = "/dev/zero character special file 1,5 666" ]
	[ "${lines[2]}" = "/dev/full character special file 1,7 666" ]
	[ "${lines[3]}" = "/dev/random character special file 1,8 666" ]
	[ "${lines[4]}" = "/dev/urandom character special file 1,9 666" ]
	[ "${lines[5]}" = "/dev/tty character special file 5,0 666" ]
	[ "${lines[6]}" = /proc/self/fd ]
	[ "${lines[7]}" = /proc/self/fd/0 ]
	[ "${lines[8]}" = /proc/self/fd/1 ]
	[ "${lines[9]}" = /proc/self/fd/2 ]
	[ "${lines[10]}" = "character special file" ]
	[ "${lines[11]}" = pts/ptmx ]
	[ "${lines[12]}" = shm ]
	[ "${lines[13]}" = 3 ]
}

@test "stdio on the host's /dev/null is reopened on the container's own (as runc, so CRIU can dump it)" {
	# stdin is the host's /dev/null, stdout a pipe (bats' run): fd 0 ends
	# up on the container's /dev mount, fd 1 stays the pipe
	set_args "$BUNDLE" /bin/sh -c 'dev=$(awk '"'"'$5 == "/dev" { print $1 }'"'"' /proc/1/mountinfo)
		echo "dev $dev"; grep mnt_id /proc/1/fdinfo/0; readlink /proc/1/fd/0; readlink /proc/1/fd/1'
	run husk run -b "$BUNDLE" "$(ctr_id devnull)" </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "mnt_id:	${lines[0]#dev }" ]
	[ "${lines[2]}" = /dev/null ]
	[[ "${lines[3]}" == "pipe:["* ]]
}

@test "linux.devices are created with their numbers, mode and owner" {
	update_config "$BUNDLE" '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 432, "uid": 1000, "gid": 1001},
		{"path": "/dev/sub/blk", "type": "b", "major": 7, "minor": 200, "fileMode": 384}]'
	run_sh "$BUNDLE" 'stat -c "%F %t,%T %a %u:%g" /dev/fuse /dev/sub/blk'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "character special file a,e5 660 1000:1001" ]
	[ "${lines[1]}" = "block special file 7,c8 600 0:0" ]
}

@test "a linux.devices node replaces a file at its path; a directory there fails create and leaves nothing" {
	local id
	mkdir -p "$BUNDLE/rootfs/opt/dir"
	echo plain >"$BUNDLE/rootfs/opt/node"
	update_config "$BUNDLE" '.linux.devices = [{"path": "/opt/node", "type": "c", "major": 1, "minor": 3}]'
	run_sh "$BUNDLE" 'stat -c "%F %t,%T" /opt/node'
	[ "$status" -eq 0 ]
	[ "$output" = "character special file 1,3" ]
	id=$(ctr_id devdir)
	update_config "$BUNDLE" '.linux.devices = [{"path": "/opt/dir", "type": "c", "major": 1, "minor": 3}]'
	run husk run -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.devices[0]: mknod /opt/dir: File exists"* ]]
	assert_nothing_left "$id"
}

@test "a mount destination that escapes through a symlink stays in the rootfs" {
	ln -s /../../../../.. "$BUNDLE/rootfs/escape"
	add_mount '{"destination": "/escape/husk-escape-test", "type": "tmpfs", "source": "tmpfs"}'
	run_sh "$BUNDLE" 'test -d /husk-escape-test && echo inside'
	[ "$status" -eq 0 ]
	[ "$output" = inside ]
	[ ! -e /husk-escape-test ]
}

@test "--no-pivot runs the container in its rootfs too" {
	touch "$BUNDLE/rootfs/in-rootfs"
	set_args "$BUNDLE" /bin/sh -c 'test -e /in-rootfs && echo inside; grep -c . /proc/self/mountinfo'
	run husk run --no-pivot -b "$BUNDLE" "$(ctr_id nopivot)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = inside ]
}

@test "linux.devices in a user namespace are the host's devices bound in" {
	[ -c /dev/fuse ] || skip "the host has no /dev/fuse"
	update_config "$BUNDLE" '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]'
	chown -R 100000:100000 "$BUNDLE/rootfs"
	chmod 755 "$TEST_TMP" "$BUNDLE"
	run_sh "$BUNDLE" 'stat -c "%F %t,%T" /dev/fuse /dev/null; grep " /dev/fuse " /proc/self/mountinfo | wc -l'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "character special file a,e5" ]
	[ "${lines[1]}" = "character special file 1,3" ]
	[ "${lines[2]}" = 1 ]
}

# cgroup_v1_host: the host mounts cgroup v1 hierarchies (memory among them)
require_cgroup_v1() {
	[ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ] || skip "the host has no cgroup v1 memory hierarchy"
}

@test "a v1 cgroup mount shows the container's own cgroups, with and without a cgroup namespace" {
	require_cgroup_v1
	local hierarchies
	# every v1 hierarchy the host mounts under /sys/fs/cgroup
	hierarchies=$(awk -F: '$2 != "" {sub(/^name=/, "", $2); print $2}' /proc/self/cgroup |
		while read -r h; do [ -d "/sys/fs/cgroup/$h" ] && echo "$h"; done | sort | xargs)
	update_config "$BUNDLE" '.linux.resources.memory = {"limit": 33554432} | (if any(.linux.namespaces[]; .type == "cgroup") then . else .linux.namespaces += [{"type": "cgroup"}] end)'
	local script='ls /sys/fs/cgroup | xargs; cat /sys/fs/cgroup/memory/memory.limit_in_bytes;
		cat /sys/fs/cgroup/pids/cgroup.procs | wc -l'
	run_sh "$BUNDLE" "$script"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$hierarchies" ]
	[ "${lines[1]}" = 33554432 ]
	# the container's processes only: sh, cat and wc
	[ "${lines[2]}" -le 3 ]
	update_config "$BUNDLE" 'del(.linux.namespaces[] | select(.type == "cgroup"))'
	run_sh "$BUNDLE" "$script; grep ' /sys/fs/cgroup/memory ' /proc/self/mountinfo; grep :memory: /proc/self/cgroup"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$hierarchies" ]
	[ "${lines[1]}" = 33554432 ]
	[ "${lines[2]}" -le 3 ]
	# a bind of the container's cgroup directory, not the hierarchy's root
	local root=${lines[4]#*:memory:}
	[ "$root" != / ]
	[ "$(awk '{print $4}' <<<"${lines[3]}")" = "$root" ]
	[[ "${lines[3]}" == *" /sys/fs/cgroup/memory ro,nosuid,nodev,noexec"*" - cgroup "* ]]
}

@test "a v1 cgroup mount without a cgroup namespace is read-only with ro and writable without" {
	require_cgroup_v1
	local id
	update_config "$BUNDLE" 'del(.linux.namespaces[] | select(.type == "cgroup")) |
		.linux.resources.memory = {"limit": 33554432}'
	run_sh "$BUNDLE" 'echo 67108864 >/sys/fs/cgroup/memory/memory.limit_in_bytes; mkdir /sys/fs/cgroup/x'
	[ "$status" -ne 0 ]
	[ "$(grep -c 'Read-only file system' <<<"$output")" -eq 2 ]
	update_config "$BUNDLE" '(.mounts[] | select(.type == "cgroup") | .options) |= map(select(. != "ro"))'
	id=$(ctr_id cgrw)
	set_args "$BUNDLE" /bin/sh -c 'echo 67108864 >/sys/fs/cgroup/memory/memory.limit_in_bytes && sleep 100'
	husk_nowait run --detach -b "$BUNDLE" "$id"
	# the write went to the container's cgroup on the host
	local i
	for i in $(seq 50); do
		[ "$(cat "/sys/fs/cgroup/memory/$id/memory.limit_in_bytes")" = 67108864 ] && break
		sleep 0.1
	done
	[ "$(cat "/sys/fs/cgroup/memory/$id/memory.limit_in_bytes")" = 67108864 ]
	[ "$(container_status "$id")" = running ]
}

@test "after pivot_root only the container's own mounts are visible, with the rootfs as /" {
	local opt
	for opt in "" --no-pivot; do
		set_args "$BUNDLE" cat /proc/self/mountinfo
		run husk run $opt -b "$BUNDLE" "$(ctr_id pivot$opt)"
		[ "$status" -eq 0 ]
		# the root is the bundle's rootfs (its path inside the filesystem
		# that holds it, which is the end of its real path)
		local root
		root=$(awk '$5 == "/" {print $4}' <<<"$output")
		[ -n "$root" ]
		[[ "$(realpath "$BUNDLE/rootfs")" == *"$root" ]]
		[[ "$root" == */rootfs ]]
		# every other mount is one the config or the runtime made
		[ -z "$(awk '$5 != "/" && $5 !~ "^/(proc|dev|sys)(/|$)"' <<<"$output")" ]
	done
}

@test "rbind carries submounts; ro stops at the top, rro reaches them" {
	command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
	local opts want
	for opts in '"rbind", "ro"|writable' '"rbind", "rro"|'; do
		want=${opts#*|}
		update_config "$BUNDLE" '.mounts = [.mounts[] | select(.destination != "/mnt")]'
		add_mount '{"destination": "/mnt", "type": "bind", "source": "'"$SRC"'", "options": ['"${opts%%|*}"']}'
		set_args "$BUNDLE" /bin/sh -c '(touch /mnt/x && echo top-writable) 2>/dev/null
			(touch /mnt/sub/x && echo writable) 2>/dev/null; grep -c " /mnt/sub " /proc/self/mountinfo'
		# the submount lives in a private mount namespace of the test only
		run unshare -m --propagation private sh -c \
			'mount -t tmpfs -o size=1m tmpfs "$1/sub" && exec "$2" --root "$3" run -b "$4" "$5"' \
			sh "$SRC" "$HUSK_BIN" "$HUSK_ROOT" "$BUNDLE" "$(ctr_id rro)"
		echo "$opts: $output"
		[ "$status" -eq 0 ]
		# ro: the submount stays writable; rro: nothing is
		if [ -n "$want" ]; then
			[ "${lines[0]}" = "$want" ]
		else
			[[ "$output" != *writable* ]]
		fi
		[ "${lines[-1]}" = 1 ]
		[[ "$output" != *top-writable* ]]
	done
	# nothing was mounted on the host
	run mountpoint -q "$SRC/sub"
	[ "$status" -ne 0 ]
}

@test "atime options on a bind mount" {
	local opt want
	for opt in noatime:noatime strictatime:"" relatime:relatime nodiratime:nodiratime; do
		want=${opt#*:}
		opt=${opt%%:*}
		update_config "$BUNDLE" '.mounts = [.mounts[] | select(.destination != "/mnt")]'
		add_mount '{"destination": "/mnt", "type": "bind", "source": "'"$SRC"'", "options": ["bind", "'"$opt"'"]}'
		run_sh "$BUNDLE" 'cat /proc/self/mountinfo'
		[ "$status" -eq 0 ]
		local flags
		flags=$(mount_line_of /mnt | awk '{print $6}')
		echo "$opt: $flags"
		if [ -n "$want" ]; then
			[[ ",$flags," == *",$want,"* ]]
		else
			# strictatime: neither noatime nor relatime
			[[ ",$flags," != *",noatime,"* && ",$flags," != *",relatime,"* ]]
		fi
	done
}

@test "rootfsPropagation private, slave or unbindable under a shared parent mount: the pivot works and no mount leaks back" {
	command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
	local prop
	set_args "$BUNDLE" /bin/sh -c 'cat /proc/self/mountinfo'
	for prop in private slave unbindable rprivate; do
		update_config "$BUNDLE" ".linux.rootfsPropagation = \"$prop\""
		# in a private mount namespace of the test: the bundle's parent
		# is a shared mount, as /tmp is on many hosts
		run unshare -m --propagation private sh -c '
			mount --bind "$1" "$1" && mount --make-shared "$1" &&
			"$2" --root "$3" run -b "$1" "$4" && echo "rc=$?" &&
			echo "leaked $(grep -c " $1/rootfs/" /proc/self/mountinfo)"' \
			sh "$BUNDLE" "$HUSK_BIN" "$HUSK_ROOT" "$(ctr_id "prop$prop")"
		echo "$prop: $output"
		[ "$status" -eq 0 ]
		[ "${lines[-2]}" = rc=0 ]
		[ "${lines[-1]}" = "leaked 0" ]
		# private and unbindable roots have no peer group
		case $prop in
		private | rprivate | unbindable) [[ "$(awk '$5 == "/"' <<<"$output")" != *shared:* ]] ;;
		esac
	done
}

# tmpcopy_tree: a rootfs directory /data with entries of several owners,
# modes, a symlink, a hard link, a fifo, an xattr and a nested directory
tmpcopy_tree() {
	local d=$BUNDLE/rootfs/data
	mkdir -p "$d/sub/deeper"
	echo one >"$d/plain"
	echo secret >"$d/private"
	chown 1000:2000 "$d/private"
	chmod 0604 "$d/private"
	echo tool >"$d/sub/setuid"
	chmod 4755 "$d/sub/setuid"
	echo deep >"$d/sub/deeper/file"
	chown 33:33 "$d/sub/deeper"
	chmod 0711 "$d/sub/deeper"
	ln -s plain "$d/link"
	chown -h 7:8 "$d/link"
	ln "$d/plain" "$d/hardlink"
	mkfifo -m 0640 "$d/fifo"
	touch -h -d @1600000000 "$d/sub/deeper/file"
	chown 5:6 "$d"
	chmod 0750 "$d"
}

@test "tmpcopyup fills a tmpfs with the image directory's contents, owners, modes, links and times kept" {
	tmpcopy_tree
	add_mount '{"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "size=1m", "mode=755"]}'
	run_sh "$BUNDLE" 'cd /data && stat -c "%n %u:%g %a %F" plain private sub/setuid sub/deeper sub/deeper/file link fifo;
		readlink link; stat -c %Y sub/deeper/file; stat -c "%i" plain hardlink | uniq | wc -l;
		cat private sub/deeper/file; awk "\$5 == \"/data\" {print \$9}" /proc/self/mountinfo;
		echo new >plain && cat plain'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "plain 0:0 644 regular file" ]
	[ "${lines[1]}" = "private 1000:2000 604 regular file" ]
	[ "${lines[2]}" = "sub/setuid 0:0 4755 regular file" ]
	[ "${lines[3]}" = "sub/deeper 33:33 711 directory" ]
	[ "${lines[4]}" = "sub/deeper/file 0:0 644 regular file" ]
	[ "${lines[5]}" = "link 7:8 777 symbolic link" ]
	[ "${lines[6]}" = "fifo 0:0 640 fifo" ]
	[ "${lines[7]}" = plain ]
	[ "${lines[8]}" = 1600000000 ]
	# plain and hardlink are one inode in the copy too
	[ "${lines[9]}" = 1 ]
	[ "${lines[10]}" = secret ]
	[ "${lines[11]}" = deep ]
	[ "${lines[12]}" = tmpfs ]
	# the tmpfs is writable, and the image's file is untouched
	[ "${lines[13]}" = new ]
	[ "$(cat "$BUNDLE/rootfs/data/plain")" = one ]
}

@test "tmpcopyup keeps extended attributes" {
	tmpcopy_tree
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.color", b"blue")' "$BUNDLE/rootfs/data/plain" ||
		skip "the bundle's filesystem has no user xattrs"
	# a file capability: cap_net_bind_service, permitted and effective
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "security.capability", bytes.fromhex("0100000200040000000000000000000000000000"))' \
		"$BUNDLE/rootfs/data/sub/setuid"
	add_mount '{"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}'
	# busybox cannot read xattrs: look at the copy from the host through
	# the init's root while the container waits
	set_args "$BUNDLE" /bin/sleep 100
	husk run -d -b "$BUNDLE" xattr
	local pid
	pid=$(husk state xattr | jq .pid)
	run python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.color").decode()); print(os.getxattr(sys.argv[2], "security.capability").hex()); print(oct(os.stat(sys.argv[2]).st_mode))' \
		"/proc/$pid/root/data/plain" "/proc/$pid/root/data/sub/setuid"
	husk kill xattr KILL
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = blue ]
	[ "${lines[1]}" = 0100000200040000000000000000000000000000 ]
	# the owner, set first, did not clear the setuid bit
	[ "${lines[2]}" = 0o104755 ]
}

@test "without tmpcopyup the tmpfs over an image directory is empty" {
	tmpcopy_tree
	add_mount '{"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	run_sh "$BUNDLE" 'ls -A /data | wc -l'
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
}

@test "tmpcopyup copies a symlink pointing out of the rootfs as a symlink, never what it points to" {
	echo host-secret >"$TEST_TMP/outside"
	mkdir -p "$BUNDLE/rootfs/data/dir"
	ln -s "$TEST_TMP/outside" "$BUNDLE/rootfs/data/abs"
	ln -s ../../../../../../../../.."$TEST_TMP/outside" "$BUNDLE/rootfs/data/dir/rel"
	ln -s "$TEST_TMP" "$BUNDLE/rootfs/data/dirlink"
	add_mount '{"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}'
	run_sh "$BUNDLE" 'cd /data; stat -c "%n %F" abs dir/rel dirlink; readlink abs; ls dirlink/ 2>&1; cat abs 2>&1; echo end'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "abs symbolic link" ]
	[ "${lines[1]}" = "dir/rel symbolic link" ]
	[ "${lines[2]}" = "dirlink symbolic link" ]
	[ "${lines[3]}" = "$TEST_TMP/outside" ]
	[[ "$output" != *host-secret* ]]
	[ "${lines[-1]}" = end ]
}

@test "tmpcopyup through a mount point that is a symlink to a host directory copies from inside the rootfs" {
	# /data -> the host's temp dir: the resolver keeps the target inside
	# the rootfs (a new /tmp/... directory there), so nothing of the host's
	# directory is copied
	mkdir -p "$TEST_TMP/hostdir"
	echo host-secret >"$TEST_TMP/hostdir/file"
	ln -s "$TEST_TMP/hostdir" "$BUNDLE/rootfs/data"
	add_mount '{"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}'
	run_sh "$BUNDLE" 'ls -A /data/ | wc -l; cat /data/file 2>&1; echo end'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[[ "$output" != *host-secret* ]]
	[ -z "$(ls -A "$BUNDLE/rootfs$TEST_TMP/hostdir" 2>/dev/null)" ]
}

@test "tmpcopyup of more than fits in the tmpfs fails create naming the mount and the file" {
	mkdir -p "$BUNDLE/rootfs/data"
	head -c 300000 /dev/zero >"$BUNDLE/rootfs/data/big"
	add_mount '{"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "size=64k"]}'
	set_args "$BUNDLE" /bin/true
	run husk create -b "$BUNDLE" big
	[ "$status" -ne 0 ]
	[[ "$output" == *"tmpcopyup"*"big"*"No space left on device"* ]]
	run husk list -q
	[ -z "$output" ]
}

@test "tmpcopyup of a tree nested deeper than the limit fails naming it" {
	local p=$BUNDLE/rootfs/data i
	for i in $(seq 130); do p=$p/d; done
	mkdir -p "$p"
	add_mount '{"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}'
	set_args "$BUNDLE" /bin/true
	run husk run -b "$BUNDLE" deep
	[ "$status" -ne 0 ]
	[[ "$output" == *"tmpcopyup"*"nested deeper than 128"* ]]
}

@test "features lists tmpcopyup among the mount options" {
	run "$HUSK_BIN" features
	[ "$status" -eq 0 ]
	jq -e '.mountOptions | index("tmpcopyup")' <<<"$output"
}
