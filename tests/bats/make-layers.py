#!/usr/bin/env python3
"""Hand-made layer tars in an OCI image layout, for image-layers.bats.

    make-layers.py LAYOUT NAME...

writes each named image (its layers, config and manifest, sha256-addressed)
into the OCI layout LAYOUT and tags it NAME in LAYOUT/index.json. The
images hold what honest tools never write (hostile owners, xattrs the
filesystem refuses, thousands of repeated opaque markers, a symlink put in
place of a directory the same layer filled) and one realistic multi-layer
image for the umoci comparison. Layers are gzip'd with a fixed mtime, so
the same NAME gives the same digests every time.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

T0 = 1700000000  # a fixed time for everything that does not care


class Layer:
    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)

    def _info(self, name, type, mode, uid=0, gid=0, mtime=T0, xattrs=None, pax=None):
        info = tarfile.TarInfo(name)
        info.type = type
        info.mode = mode
        info.uid, info.gid = uid, gid
        info.uname = info.gname = ""
        if isinstance(mtime, str):  # "SECONDS.NANOSECONDS": exact, via PAX
            info.mtime = int(mtime.split(".")[0])
            info.pax_headers["mtime"] = mtime
        else:
            info.mtime = mtime
        for k, v in (xattrs or {}).items():
            info.pax_headers["SCHILY.xattr." + k] = v
        for k, v in (pax or {}).items():
            info.pax_headers[k] = v
        return info

    def dir(self, name, mode=0o755, **kw):
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode, **kw))

    def file(self, name, data=b"", mode=0o644, **kw):
        if isinstance(data, str):
            data = data.encode()
        info = self._info(name, tarfile.REGTYPE, mode, **kw)
        info.size = len(data)
        self.tar.addfile(info, io.BytesIO(data))

    def symlink(self, name, target, **kw):
        info = self._info(name, tarfile.SYMTYPE, 0o777, **kw)
        info.linkname = target
        self.tar.addfile(info)

    def hardlink(self, name, target, **kw):
        info = self._info(name, tarfile.LNKTYPE, 0o644, **kw)
        info.linkname = target
        self.tar.addfile(info)

    def node(self, name, type, major=0, minor=0, mode=0o666, **kw):
        info = self._info(name, type, mode, **kw)
        info.devmajor, info.devminor = major, minor
        self.tar.addfile(info)

    def whiteout(self, path):
        d, _, base = path.rpartition("/")
        self.file((d + "/" if d else "") + ".wh." + base)

    def opaque(self, d):
        self.file(d + "/.wh..wh..opq")

    def bytes(self):
        self.tar.close()
        return self.buf.getvalue()


def put_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)


def write_image(layout, tag, layers):
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    descs, diff_ids = [], []
    for layer in layers:
        raw = layer.bytes()
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        gz = io.BytesIO()
        with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as z:
            z.write(raw)
        digest, size = put_blob(layout, gz.getvalue())
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                      "digest": digest, "size": size})
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    config = {"architecture": arch, "os": "linux", "config": {"Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cdigest, csize = put_blob(layout, json.dumps(config).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": cdigest, "size": csize},
                "layers": descs}
    mdigest, msize = put_blob(layout, json.dumps(manifest).encode())
    index_path = os.path.join(layout, "index.json")
    index = {"schemaVersion": 2, "manifests": []}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    ref = "org.opencontainers.image.ref.name"
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get(ref) != tag]
    index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "digest": mdigest, "size": msize,
                               "annotations": {ref: tag}})
    with open(index_path + ".new", "w") as f:
        json.dump(index, f)
    os.rename(index_path + ".new", index_path)


# ---- the images ----

def realistic(with_devices=True):
    """Three layers with what real images have, and type changes."""
    l1 = Layer()
    for d in ("bin", "etc", "usr", "usr/lib", "usr/bin", "usr/share", "var", "var/cache"):
        l1.dir(d, mtime=T0 + 1)
    l1.dir("opt", mode=0o750, uid=1000, gid=1000, mtime="1700000100.123456789")
    l1.dir("tmp", mode=0o1777)
    l1.dir("srv", mode=0o2775, gid=50)
    l1.dir("ro", mode=0o555, mtime=T0 - 1000)
    l1.file("ro/inside", "locked in\n", mode=0o444)
    l1.file("bin/sh", "#!shell\n" * 100, mode=0o755)
    l1.file("bin/su", "setuid\n", mode=0o4755)
    l1.file("bin/wall", "setgid\n", mode=0o2755, gid=5)
    l1.symlink("bin/ls", "sh")
    l1.symlink("lib", "usr/lib")
    l1.file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
    l1.file("etc/shadow", "root:*:1::::::\n", mode=0o640, gid=42)
    l1.file("etc/odd", "x", mode=0o000, uid=123456, gid=654321)
    l1.file("etc/exec-only", "x", mode=0o111)
    l1.file("etc/everyone", "x", mode=0o777, uid=65534, gid=65534)
    l1.file("etc/future", "from 2100\n", mtime=4102444800)
    l1.file("etc/fraction", "x", mtime="1600000000.000000001")
    l1.file("etc/old", "x", mtime=1)
    l1.file("usr/lib/libfoo.so.1", "ELF" * 500, mode=0o755)
    l1.hardlink("usr/lib/libfoo.so.1.0", "usr/lib/libfoo.so.1")
    l1.file("usr/share/tagged", "x", xattrs={"user.comment": "hello", "user.mime_type": "text/plain"})
    l1.dir("usr/share/tagdir", xattrs={"user.dir": "yes"})
    l1.file("usr/share/sparse-ish", b"\0" * 8192)
    l1.file("x", "x was a file\n")
    l1.dir("y")
    l1.file("y/child", "in y\n")
    l1.dir("y/sub")
    l1.file("z", "z was a file\n")
    l1.symlink("w", "etc")
    l1.dir("opq")
    l1.file("opq/a", "a\n")
    l1.dir("opq/deep")
    l1.file("opq/deep/b", "b\n")
    l1.file("gone", "gone\n")
    l1.dir("gonedir")
    l1.file("gonedir/f", "f\n")
    l1.file("var/cache/keep", "keep\n")
    l1.node("var/fifo", tarfile.FIFOTYPE, mode=0o620, uid=7, gid=7)
    if with_devices:
        l1.dir("dev")
        l1.node("dev/null", tarfile.CHRTYPE, 1, 3, mode=0o666)
        l1.node("dev/loop9", tarfile.BLKTYPE, 7, 9, mode=0o660, gid=6)

    l2 = Layer()
    l2.whiteout("gone")
    l2.whiteout("gonedir")
    l2.opaque("opq")
    l2.file("opq/c", "c\n")
    l2.dir("x", mode=0o700, mtime=T0 + 2)  # file -> dir
    l2.file("x/inner", "inner\n")
    l2.file("y", "y is a file now\n", mode=0o600)  # dir -> file
    l2.symlink("z", "/bin/sh")  # file -> symlink
    l2.dir("w", mtime=T0 + 3)  # symlink -> dir
    l2.file("w/in-w", "in w\n")
    l2.hardlink("usr/bin/foo", "usr/lib/libfoo.so.1")  # a link to a lower layer's file
    l2.file("etc/hostname", "husk\n")  # etc is not listed: its mtime stays layer 1's
    l2.file("bin/su", "setuid again\n", mode=0o4750, gid=10)
    l2.dir("usr/share/tagdir", mode=0o751, xattrs={"user.dir": "changed", "user.more": "1"})
    l2.file("var/cache/new", "new\n", mtime="1700000200.5")
    l2.dir("opt", mode=0o755)  # owned by 1000:1000 in layer 1, by root now
    l2.dir("home")
    l2.dir("home/alice", mode=0o700, uid=1000, gid=1000)
    l2.file("home/alice/.profile", "export A=1\n", uid=1000, gid=1000)

    l3 = Layer()
    l3.whiteout("usr/lib/libfoo.so.1.0")  # one name of a hardlink group goes
    l3.opaque("w")
    l3.file("w/fresh", "fresh\n")
    l3.symlink("x", "y")  # dir -> symlink
    l3.dir("var", mode=0o711, mtime="1700000300.999999999")
    l3.file("var/cache/keep", "kept and changed\n", uid=3, gid=4)
    l3.whiteout("var/fifo")
    l3.file("home/alice/notes", "n\n", mode=0o600, uid=1000, gid=1000)
    return [l1, l2, l3]


def modes_symlink():
    """A directory filled and given its mode and mtime, then a symlink put
    in place of its parent, pointing at another directory of the same
    name: the mode and mtime recorded for a/sub must not land on b/sub."""
    l1 = Layer()
    l1.dir("b", mtime=T0)
    l1.dir("b/sub", mode=0o755, mtime=T0 + 11)
    l1.file("b/sub/f", "b\n")
    l1.dir("a", mtime=T0)
    l1.dir("a/sub", mode=0o500, mtime=T0 + 22)
    l1.symlink("a", "b")  # replaces the directory a, in the same layer
    l2 = Layer()
    l2.dir("c", mode=0o500, mtime=T0 + 33)
    l2.dir("c/sub", mode=0o500, mtime=T0 + 44)
    l2.symlink("c", "b")
    return [l1, l2]


def mtimes():
    """Layer 2 changes what is in d and d/e without listing them."""
    l1 = Layer()
    l1.dir("d", mtime=T0 + 100)
    l1.dir("d/e", mtime=T0 + 200)
    l1.file("d/e/old", "old\n")
    l1.file("d/gone", "gone\n")
    l2 = Layer()
    l2.file("d/e/new", "new\n")
    l2.whiteout("d/gone")
    l2.file("d/added", "added\n")
    return [l1, l2]


def implicit():
    """A listed directory whited out, then made again only as the parent
    of a later layer's file: it is a new directory, which the old one's
    mode and mtime must not reach."""
    l1 = Layer()
    l1.dir("p", mode=0o555, mtime=T0 + 5)
    l1.file("p/old", "old\n")
    l2 = Layer()
    l2.whiteout("p")
    l3 = Layer()
    l3.file("p/new", "new\n")
    return [l1, l2, l3]


def bad_xattr():
    l1 = Layer()
    l1.file("fine", "x")
    l1.file("tagged", "x", xattrs={"bogus.attr": "value"})
    return [l1]


def owner(uid, gid=0):
    def make():
        l1 = Layer()
        l1.file("fine", "x")
        l1.file("setuid", "x", mode=0o4755, pax={"uid": str(uid), "gid": str(gid)})
        return [l1]
    return make


def opaque_many(markers=20000, files=1000):
    """A lower layer with files in d, then an upper one that fills d again
    and repeats d's opaque marker many times (a 37 KiB gzip)."""
    l1 = Layer()
    l1.dir("d")
    for i in range(50):
        l1.file("d/lower-%d" % i, "x")
    l2 = Layer()
    l2.dir("d")
    for i in range(files):
        l2.file("d/upper-%d" % i, "")
    for i in range(markers):
        l2.opaque("d")
    return [l1, l2]


def deep(depth, fail=True):
    """A directory chain depth levels deep ("d/d/d/..."), then (fail) an
    entry with ".." that makes the unpack fail after it."""
    l1 = Layer()
    path = ""
    for i in range(depth):
        path = path + ("/" if path else "") + "d"
        l1.dir(path)
    l1.file(path + "/bottom", "bottom\n")
    if fail:
        l1.file("../escape", "x")
    return [l1]


def devices():
    l1 = Layer()
    l1.dir("dev")
    l1.node("dev/null", tarfile.CHRTYPE, 1, 3, mode=0o666)
    l1.node("dev/sda", tarfile.BLKTYPE, 8, 0, mode=0o660, gid=6)
    l1.node("dev/fifo", tarfile.FIFOTYPE, mode=0o644, uid=5)
    l1.file("owned", "x", uid=1000, gid=1000)
    l1.file("uid-only", "x", uid=1000)
    l1.file("gid-only", "x", gid=1000)
    l1.file("big-ids", "x", uid=4294967294, gid=2147483648)
    l1.dir("owned-dir", uid=300, gid=0)
    l1.symlink("owned-link", "owned", uid=1000, gid=1000)
    return [l1]


def bulk(layers=3, dirs=30, files=50):
    """Enough entries (and bytes) that a SIGKILL or a full disk lands in
    the middle of the unpack; every directory is listed, so two unpacks
    give the same tree."""
    out = []
    for n in range(layers):
        l = Layer()
        for d in range(dirs):
            l.dir("d%d" % d, mtime=T0 + n)
            for f in range(files):
                seed = ("%d/%d/%d" % (n, d, f)).encode()
                data = hashlib.sha256(seed).digest() * (64 + f)
                l.file("d%d/f%d-%d" % (d, n, f), data, mode=0o644 if f % 3 else 0o755)
            if n:
                l.whiteout("d%d/f%d-0" % (d, n - 1))
        out.append(l)
    return out


IMAGES = {
    "realistic": realistic,
    "realistic-nodev": lambda: realistic(with_devices=False),
    "modes-symlink": modes_symlink,
    "mtimes": mtimes,
    "implicit": implicit,
    "bad-xattr": bad_xattr,
    "uid-big": owner(2 ** 32),
    "uid-max": owner(2 ** 32 - 1),
    "uid-negative": owner(-1),
    "gid-big": owner(0, 2 ** 40),
    "opaque-many": opaque_many,
    "deep": lambda: deep(1500),
    "devices": devices,
    "bulk": bulk,
}


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: make-layers.py LAYOUT NAME...\nnames: " + " ".join(IMAGES))
    layout = sys.argv[1]
    for name in sys.argv[2:]:
        if name not in IMAGES:
            sys.exit("make-layers.py: no image named %r" % name)
        write_image(layout, name, IMAGES[name]())


if __name__ == "__main__":
    main()
