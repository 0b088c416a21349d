/* The candidate ways for husk to run from a binary a container cannot
 * overwrite (runtime/linux/cloned-exe.c), for bench/exec-protect.sh to
 * time side by side. exe-view HOW BINARY ARG... makes BINARY's view the
 * HOW way, then executes it with ARG... (ARG[0] first):
 *   direct    BINARY itself (the script passes one on a read-only bind, so
 *             husk skips its own step): what the ways below cost on top
 *   memfd     a copy in a memfd sealed against every change, made now
 *             (of the loaded part of the file, as husk did)
 *   reuse     fd 9, a sealed copy the script made once: a copy made once
 *             and reused, with the cost of finding it left out
 *   bind      a detached read-only bind of the file (open_tree +
 *             mount_setattr), husk's way
 *   overlay   the file on a detached overlayfs of its directory with no
 *             upper layer (runc 1.2's way; the second, empty lower layer
 *             overlayfs then wants is $EXE_VIEW_EMPTY)
 * husk then finds itself sealed or on a read-only mount and goes on
 * without a step of its own, so each way costs this program's exec plus
 * its step, and "direct" is that exec alone. Built by the script. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* up to the end of BINARY's last loaded segment, as husk copies */
static off_t loaded_extent(int fd)
{
	Elf64_Ehdr eh;
	off_t end = 0;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh))
		return 0;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (size_t)i * eh.e_phentsize)) != sizeof(ph))
			return 0;
		if (ph.p_type == PT_LOAD && (off_t)(ph.p_offset + ph.p_filesz) > end)
			end = (off_t)(ph.p_offset + ph.p_filesz);
	}
	return end;
}

static int die(const char *what)
{
	fprintf(stderr, "exe-view: %s: %s\n", what, strerror(errno));
	return 127;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: exe-view direct|memfd|reuse|bind|overlay BINARY ARG0 ARG...\n");
		return 2;
	}
	const char *how = argv[1], *bin = argv[2];
	char **args = argv + 3;
	int fd;
	if (strcmp(how, "direct") == 0) {
		execv(bin, args);
		return die("execv");
	} else if (strcmp(how, "memfd") == 0) {
		int src = open(bin, O_RDONLY | O_CLOEXEC);
		fd = memfd_create("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (src < 0 || fd < 0)
			return die("open/memfd_create");
		off_t left = loaded_extent(src);
		ssize_t n = 1;
		while (left > 0 && (n = sendfile(fd, src, NULL, (size_t)left)) > 0)
			left -= n;
		if (n <= 0 || fcntl(fd, F_ADD_SEALS, SEALS) < 0)
			return die("copy/seal");
	} else if (strcmp(how, "reuse") == 0) {
		fd = 9;
	} else if (strcmp(how, "bind") == 0) {
		fd = (int)syscall(SYS_open_tree, AT_FDCWD, bin, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
		if (fd < 0 || syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
			return die("open_tree/mount_setattr");
	} else if (strcmp(how, "overlay") == 0) {
		/* with no upper layer overlayfs wants two lower ones: the
		 * binary's directory on top of an empty one ($EXE_VIEW_EMPTY) */
		char dirbuf[4096], basebuf[4096], lower[8200];
		const char *empty = getenv("EXE_VIEW_EMPTY");
		snprintf(dirbuf, sizeof(dirbuf), "%s", bin);
		snprintf(basebuf, sizeof(basebuf), "%s", bin);
		snprintf(lower, sizeof(lower), "%s:%s", dirname(dirbuf), empty ? empty : "/nonexistent");
		int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
		if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 ||
		    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
			return die("fsopen/fsconfig overlay");
		int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
		if (mnt < 0)
			return die("fsmount");
		fd = openat(mnt, basename(basebuf), O_PATH | O_CLOEXEC);
		if (fd < 0)
			return die("open the binary on the overlay");
		close(mnt);
		close(fs);
	} else {
		fprintf(stderr, "exe-view: unknown way '%s'\n", how);
		return 2;
	}
	syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
	return die("execveat");
}
