#!/usr/bin/env python3
"""Compare two unpacked root filesystems, entry by entry.

    compare-trees.py [--ignore PATH]... A B

prints one line per difference (type, mode, owner, size, content hash,
symlink target, device numbers, hardlink groups, xattrs, mtime in
nanoseconds) and exits 1 when there is any, 0 when the trees are the same.
The roots themselves are compared too, except their mtimes (what a tool
gives the rootfs directory is its own business, not the image's). --ignore
PATH leaves out one path (relative, and everything beneath it).
"""
import hashlib
import os
import stat
import sys


def kind(mode):
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "symlink"),
                       (stat.S_ISCHR, "chardev"), (stat.S_ISBLK, "blockdev"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "unknown"


def xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        return {"<error>": str(e)}
    return {n: os.getxattr(path, n, follow_symlinks=False).hex() for n in sorted(names)}


def describe(root, ignore):
    """path -> attributes, and the hardlink groups (sets of paths)."""
    entries, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if os.path.normpath(os.path.join(rel_dir, d)) not in ignore]
        names = [""] if rel_dir == "." else []
        names += dirnames + filenames
        for name in names:
            path = os.path.join(dirpath, name) if name else dirpath
            rel = os.path.normpath(os.path.relpath(path, root))
            if rel in ignore:
                continue
            st = os.lstat(path)
            a = {"type": kind(st.st_mode), "mode": "%04o" % stat.S_IMODE(st.st_mode),
                 "owner": "%d:%d" % (st.st_uid, st.st_gid), "xattrs": xattrs(path)}
            if rel != ".":
                a["mtime"] = st.st_mtime_ns
            if stat.S_ISREG(st.st_mode):
                a["size"] = st.st_size
                with open(path, "rb") as f:
                    a["sha256"] = hashlib.sha256(f.read()).hexdigest()
                if st.st_nlink > 1:
                    inodes.setdefault(st.st_ino, set()).add(rel)
            elif stat.S_ISLNK(st.st_mode):
                a["target"] = os.readlink(path)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                a["rdev"] = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
            entries[rel] = a
    groups = {}
    for paths in inodes.values():
        for p in paths:
            groups[p] = sorted(paths)
    return entries, groups


def main():
    args, ignore = sys.argv[1:], set()
    while len(args) > 2 and args[0] == "--ignore":
        ignore.add(os.path.normpath(args[1]))
        args = args[2:]
    if len(args) != 2:
        sys.exit(__doc__)
    a, b = args
    ea, ga = describe(a, ignore)
    eb, gb = describe(b, ignore)
    diffs = []
    for path in sorted(set(ea) | set(eb)):
        if path not in eb:
            diffs.append("%s: only in %s (%s)" % (path, a, ea[path]["type"]))
            continue
        if path not in ea:
            diffs.append("%s: only in %s (%s)" % (path, b, eb[path]["type"]))
            continue
        for key in sorted(set(ea[path]) | set(eb[path])):
            va, vb = ea[path].get(key), eb[path].get(key)
            if va != vb:
                diffs.append("%s: %s %r != %r" % (path, key, va, vb))
        if ga.get(path) != gb.get(path):
            diffs.append("%s: hardlinks %r != %r" % (path, ga.get(path), gb.get(path)))
    for d in diffs:
        print(d)
    print("%d entries compared, %d differences" % (len(ea), len(diffs)))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
