#!/usr/bin/env python3
"""A minimal token server for the distribution spec's bearer-token flow,
for tests only. Usage: token-server.py PORTFILE KEY CERT LOG USER:PASS [LIFETIME]

Answers GET /token?service=...&scope=repository:NAME:ACTIONS with a JWT
signed (RS256, by `openssl dgst`) with KEY and carrying CERT in x5c, granting
the asked actions when the request carries Basic USER:PASS, and 401
otherwise. Every request's query is appended to LOG. A token is good for
LIFETIME seconds (default 300) — counting the minute of clock skew the
registry grants past a token's "exp"."""
import base64, http.server, json, subprocess, sys, time, urllib.parse

portfile, keyfile, certfile, logfile, creds = sys.argv[1:6]
lifetime = int(sys.argv[6]) if len(sys.argv) > 6 else 300
LEEWAY = 60  # what the registry adds to "exp" and subtracts from "nbf"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der():
    pem = open(certfile).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return "".join(body.split())


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        with open(logfile, "a") as log:
            log.write("%s auth=%s\n" % (url.query, "basic" if auth.startswith("Basic ") else "none"))
        if url.path != "/token":
            self.send_error(404)
            return
        if auth != "Basic " + base64.b64encode(creds.encode()).decode():
            self.send_error(401)
            return
        access = []
        for scope in query.get("scope", []):
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [cert_der()]}
        claims = {"iss": "husk-test-issuer", "sub": creds.split(":")[0],
                  "aud": query.get("service", [""])[0], "exp": now + lifetime - LEEWAY,
                  "nbf": now - LEEWAY,
                  "iat": now, "jti": str(now), "access": access}
        signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", keyfile],
                             input=signing_input.encode(), capture_output=True, check=True).stdout
        body = json.dumps({"token": signing_input + "." + b64(sig)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
