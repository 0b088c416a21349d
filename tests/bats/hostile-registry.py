#!/usr/bin/env python3
"""A registry that misbehaves on purpose, for image-hostile.bats only.

Usage: hostile-registry.py CONFIG.json

It builds its images itself (one gzip layer holding one file, a config, an
OCI manifest) and serves the distribution API on 127.0.0.1: the main
listener (TLS when the config has "cert"/"key") and a plain-HTTP side
listener that plays the attacker's endpoint. Both ports go to
config["portfile"] as "MAIN SIDE"; every request is logged to config["log"]
as "SIDE|MAIN METHOD PATH auth=<Authorization or -> range=<Range or ->".

Config keys:
  images:  {"repo:tag": {"file": "text" | null, "random": N (bytes of noise
           instead), "config": {extra config keys}, "config_huge": {"key": N}
           (a string of N bytes), "layer_media_type": "..."}}
  mode:    normal | bearer-http-realm | redirect-http | token | drip | corrupt-blob
  token:   the token the token endpoint hands out (mode token)
  realm_suffix: appended to the realm of the bearer challenge
  drip:    "manifest" or "blob": which answers drip 2 bytes a second (mode drip)
  redirect: "manifests" (default) or "blobs": what redirect-http sends to
           the plain-HTTP side
  rate:    bytes per second for blobs (default: unlimited), to make a pull
           last long enough to be killed mid-way
"""
import gzip, hashlib, http.server, io, json, os, platform, socketserver, ssl, sys, tarfile
import threading, time

cfg = json.load(open(sys.argv[1]))
mode = cfg.get("mode", "normal")
log_lock = threading.Lock()


def log(side, method, path, auth, rng):
    with log_lock, open(cfg["log"], "a") as f:
        f.write("%s %s %s auth=%s range=%s\n" % (side, method, path, auth if auth else "-",
                                                 rng if rng else "-"))


def arch():
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(m, m)


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


blobs = {}       # digest -> bytes
manifests = {}   # "repo:tag" -> (bytes, media type)


def build(name, spec):
    tario = io.BytesIO()
    with tarfile.open(fileobj=tario, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = os.urandom(spec["random"]) if "random" in spec else \
            spec.get("file", "hello\n").encode()
        info = tarfile.TarInfo("hello")
        info.size = len(data)
        info.mode = 0o644
        info.mtime = 1700000000
        tar.addfile(info, io.BytesIO(data))
    raw = tario.getvalue()
    layer = gzip.compress(raw, compresslevel=1, mtime=0)
    config = {"architecture": arch(), "os": "linux",
              "rootfs": {"type": "layers", "diff_ids": [digest(raw)]},
              "config": {"Cmd": ["/hello"]}}
    config.update(spec.get("config", {}))
    for field, n in spec.get("config_huge", {}).items():
        config[field] = "v" * n
    cbytes = json.dumps(config).encode()
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": digest(cbytes), "size": len(cbytes)},
                "layers": [{"mediaType": spec.get("layer_media_type",
                                                  "application/vnd.oci.image.layer.v1.tar+gzip"),
                            "digest": digest(layer), "size": len(layer)}]}
    mbytes = json.dumps(manifest).encode()
    blobs[digest(cbytes)] = cbytes
    blobs[digest(layer)] = layer
    blobs[digest(mbytes)] = mbytes
    manifests[name] = mbytes
    manifests[name.split(":")[0] + ":" + digest(mbytes)] = mbytes


for name, spec in cfg.get("images", {}).items():
    build(name, spec)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    side = "MAIN"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", ctype="application/json", headers=(), drip=False,
             rate=0):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            if drip:
                for i in range(0, len(body), 2):
                    self.wfile.write(body[i:i + 2])
                    self.wfile.flush()
                    time.sleep(1)
            elif rate:
                chunk = max(1, rate // 20)
                for i in range(0, len(body), chunk):
                    self.wfile.write(body[i:i + chunk])
                    self.wfile.flush()
                    time.sleep(0.05)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        auth = self.headers.get("Authorization")
        log(self.side, self.command, self.path, auth, self.headers.get("Range"))
        path = self.path.split("?")[0]
        side_port = ports[1]
        if self.side == "SIDE" and path == "/token":
            return self.send(200, json.dumps({"token": "stolen"}).encode())
        if self.side == "MAIN" and mode == "token" and path == "/token":
            return self.send(200, json.dumps({"token": cfg["token"]}).encode())
        if self.side == "MAIN" and mode in ("bearer-http-realm", "token") and \
                not (auth or "").startswith("Bearer "):
            realm = "http://127.0.0.1:%d/token" % side_port if mode == "bearer-http-realm" \
                else "%s://127.0.0.1:%d/token" % (scheme, ports[0])
            realm += cfg.get("realm_suffix", "")
            return self.send(401, b'{"errors":[]}', headers=[
                ("WWW-Authenticate", 'Bearer realm="%s",service="hostile"' % realm)])
        if path == "/v2/":
            return self.send(200, b"{}")
        parts = path.split("/")
        # /v2/<repo...>/manifests/<ref> or /v2/<repo...>/blobs/<digest>
        redirect = self.side == "MAIN" and mode == "redirect-http"
        if redirect and parts[-2] == cfg.get("redirect", "manifests"):
            return self.send(302, headers=[
                ("Location", "http://127.0.0.1:%d%s" % (side_port, self.path))])
        if len(parts) >= 5 and parts[-2] == "manifests":
            key = "/".join(parts[2:-2]) + ":" + parts[-1]
            if key not in manifests:
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            return self.send(200, manifests[key], "application/vnd.oci.image.manifest.v1+json",
                             drip=mode == "drip" and cfg.get("drip") == "manifest")
        if len(parts) >= 5 and parts[-2] == "blobs":
            d = parts[-1]
            if d not in blobs:
                return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
            body = blobs[d]
            if mode == "corrupt-blob" and len(body) > 100:
                body = body[:50] + bytes([body[50] ^ 0xff]) + body[51:]
            start = 0
            rng = self.headers.get("Range", "")
            if rng.startswith("bytes=") and rng.endswith("-") and mode != "no-range":
                start = int(rng[6:-1])
                return self.send(206, body[start:], "application/octet-stream", headers=[
                    ("Content-Range", "bytes %d-%d/%d" % (start, len(body) - 1, len(body)))],
                    rate=cfg.get("rate", 0))
            return self.send(200, body, "application/octet-stream",
                             drip=mode == "drip" and cfg.get("drip") == "blob",
                             rate=cfg.get("rate", 0))
        self.send(404, b"{}")


class SideHandler(Handler):
    side = "SIDE"


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up (killed, timed out) is what the tests do


main = Server(("127.0.0.1", 0), Handler)
side = Server(("127.0.0.1", 0), SideHandler)
scheme = "http"
if cfg.get("cert"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cfg["cert"], cfg["key"])
    main.socket = ctx.wrap_socket(main.socket, server_side=True)
    scheme = "https"
ports = (main.server_address[1], side.server_address[1])
threading.Thread(target=side.serve_forever, daemon=True).start()
with open(cfg["portfile"] + ".tmp", "w") as f:
    f.write("%d %d\n" % ports)
os.rename(cfg["portfile"] + ".tmp", cfg["portfile"])
main.serve_forever()
