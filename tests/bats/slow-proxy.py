#!/usr/bin/env python3
"""A TCP proxy for tests only: a slow network between husk-image and a
registry. Usage: slow-proxy.py PORTFILE TARGET-HOST:PORT RATE LOG [PORT]

Listens on 127.0.0.1 (on PORT when given, to stand in for a proxy that
was stopped; its port is written to PORTFILE), forwards every
connection to TARGET, passes the server's bytes on at about RATE bytes per
second, and appends each HTTP request line and Range header the client
sends to LOG."""
import os, socket, sys, threading, time

portfile, target, rate, logfile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
thost, tport = target.rsplit(":", 1)
log_lock = threading.Lock()


def log(line):
    with log_lock, open(logfile, "a") as f:
        f.write(line + "\n")


def close_write(sock):
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def client_to_server(client, server):
    pending = b""
    while True:
        try:
            data = client.recv(65536)
        except OSError:
            break
        if not data:
            break
        server.sendall(data)
        pending += data
        while b"\r\n" in pending:
            line, pending = pending.split(b"\r\n", 1)
            text = line.decode("latin-1")
            if text.startswith(("GET ", "HEAD ")) or text.lower().startswith("range:"):
                log(text)
    close_write(server)


def server_to_client(server, client):
    chunk = max(1, min(16384, rate // 20))
    while True:
        try:
            data = server.recv(chunk)
        except OSError:
            break
        if not data:
            break
        try:
            client.sendall(data)
        except OSError:
            break
        time.sleep(len(data) / rate)
    close_write(client)


def serve(client):
    server = socket.create_connection((thost, int(tport)))
    threading.Thread(target=client_to_server, args=(client, server), daemon=True).start()
    server_to_client(server, client)


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[5]) if len(sys.argv) > 5 else 0))
listener.listen(16)
with open(portfile + ".tmp", "w") as f:
    f.write(str(listener.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
