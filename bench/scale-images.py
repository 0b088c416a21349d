#!/usr/bin/env python3
"""Images for bench/scale.sh, written straight into an OCI image layout
(faster than a process per blob, which matters for a thousand images).

  scale-images.py LAYOUT tiny N PREFIX      N images PREFIX-1..N, one tiny
                                            distinct layer each
  scale-images.py LAYOUT layers K TAG       one image of K tiny layers
  scale-images.py LAYOUT entries E TAG      one image whose one layer holds
                                            E entries (dirs of 1000 empty files)
  scale-images.py LAYOUT files N SIZE TAG   one image whose one layer holds
                                            N files of SIZE bytes

Every layer is gzip-compressed. Tags go into index.json as
org.opencontainers.image.ref.name; the layout is made if missing."""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

LAYER_MT = "application/vnd.oci.image.layer.v1.tar+gzip"
MTIME = 1700000000


def put(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return "sha256:" + digest, len(data)


def small_layer(layout, files):
    """files: [(name, bytes)] -> (layer descriptor, diff_id)"""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = MTIME
            tar.addfile(info, io.BytesIO(data))
    plain = raw.getvalue()
    digest, size = put(layout, gzip.compress(plain, compresslevel=1, mtime=0))
    return ({"mediaType": LAYER_MT, "digest": digest, "size": size},
            "sha256:" + hashlib.sha256(plain).hexdigest())


def big_layer(layout, fill):
    """A layer too large for memory: fill(tar) writes it to a file, gzip -1
    compresses it."""
    tmp = os.path.join(layout, "big.tar")
    with open(tmp, "wb") as f:
        with tarfile.open(fileobj=f, mode="w", format=tarfile.GNU_FORMAT) as tar:
            fill(tar)
    h = hashlib.sha256()
    with open(tmp, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    subprocess.run(["gzip", "-1", "-n", "-f", tmp], check=True)
    gz = tmp + ".gz"
    g = hashlib.sha256()
    with open(gz, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            g.update(chunk)
    digest = g.hexdigest()
    size = os.path.getsize(gz)
    os.replace(gz, os.path.join(layout, "blobs", "sha256", digest))
    return ({"mediaType": LAYER_MT, "digest": "sha256:" + digest, "size": size},
            "sha256:" + h.hexdigest())


def image(layout, layers):
    """layers: [(descriptor, diff_id)] -> manifest descriptor"""
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]},
    }, separators=(",", ":")).encode()
    cdigest, csize = put(layout, config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cdigest, "size": csize},
        "layers": [l for l, _ in layers],
    }, separators=(",", ":")).encode()
    mdigest, msize = put(layout, manifest)
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": mdigest, "size": msize}


def entry_dirs(tar, count, size=0, data=b""):
    """count entries: a directory per 1000 files (the directories count)."""
    made = 0
    d = 0
    while made < count:
        info = tarfile.TarInfo("d%04d" % d)
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        info.mtime = MTIME
        tar.addfile(info)
        made += 1
        for f in range(1000):
            if made >= count:
                break
            info = tarfile.TarInfo("d%04d/f%04d" % (d, f))
            info.size = size
            info.mode = 0o644
            info.mtime = MTIME
            tar.addfile(info, io.BytesIO(data[:size]) if size else None)
            made += 1
        d += 1


def main():
    layout, mode = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    index_path = os.path.join(layout, "index.json")
    index = {"schemaVersion": 2, "manifests": []}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    tagged = []
    if mode == "tiny":
        n, prefix = int(sys.argv[3]), sys.argv[4]
        for i in range(1, n + 1):
            layer = small_layer(layout, [("etc/image-%s-%d" % (prefix, i), b"%d\n" % i)])
            tagged.append(("%s-%d" % (prefix, i), image(layout, [layer])))
    elif mode == "layers":
        k, tag = int(sys.argv[3]), sys.argv[4]
        layers = [small_layer(layout, [("layer/%s-%d" % (tag, i), b"%d\n" % i)])
                  for i in range(1, k + 1)]
        tagged.append((tag, image(layout, layers)))
    elif mode == "entries":
        e, tag = int(sys.argv[3]), sys.argv[4]
        tagged.append((tag, image(layout, [big_layer(layout, lambda t: entry_dirs(t, e))])))
    elif mode == "files":
        n, size, tag = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        data = (b"husk scale benchmark " * (size // 21 + 1))[:size]
        tagged.append((tag, image(layout, [big_layer(
            layout, lambda t: entry_dirs(t, n, size, data))])))
    else:
        sys.exit("unknown mode " + mode)
    names = {t for t, _ in tagged}
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name")
                          not in names]
    for tag, desc in tagged:
        desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
        index["manifests"].append(desc)
    with open(index_path + ".new", "w") as f:
        json.dump(index, f)
    os.replace(index_path + ".new", index_path)


if __name__ == "__main__":
    main()
