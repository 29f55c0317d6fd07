"""Origins for the proxy tests (test_proxy*.py): a Python http.server that
counts its hits per path and serves each case, well-formed or broken on
purpose (raw bytes on the socket), a TLS origin with a certificate made
for the test run, and a WSGI app on wsgiref. Standard library only."""

import json
import os
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from portico import free_port

BIG = os.urandom(4 * 1024 * 1024 + 3)


def read_chunked(rfile):
    body = b""
    for _ in range(100000):
        size = int(rfile.readline().split(b";")[0], 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return body
        body += rfile.read(size)
        rfile.readline()
    raise ValueError("too many chunks")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ValueError, OSError):  # a body the proxy cut on purpose
            self.close_connection = True

    def raw(self, data, close=True):
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = close

    def reply(self, status, body, ctype="text/plain", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return read_chunked(self.rfile)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n)

    def do_any(self):
        srv = self.server
        path = self.path.split("?")[0]
        if getattr(self, "drop_next", False):  # see c_closenext
            self.close_connection = True
            with srv.lock:
                srv.dropped += 1
            return
        with srv.lock:
            srv.hits[path] = srv.hits.get(path, 0) + 1
            srv.requests.append((self.command, self.path, dict(self.headers.items()),
                                 self.request_version, self.client_address[1]))
        case = CASES.get(path.rsplit("/", 1)[-1] or "index")
        if case is None:
            self.reply(404, b"no such case\n")
            return
        case(self)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = do_any


def c_index(h):
    h.reply(200, b"hello from the origin\n")


def c_headers(h):
    h.body()
    h.reply(200, json.dumps({"path": h.path, "version": h.request_version,
                             "headers": [[k, v] for k, v in h.headers.items()]}).encode(),
            "application/json")


def c_echo(h):
    data = h.body()
    h.reply(200, data, "application/octet-stream")


def c_big(h):
    h.reply(200, BIG, "application/octet-stream")


def c_chunked(h):
    h.raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
          b"6\r\nhello \r\n5;ext=1\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n", close=False)


def c_close_delimited(h):
    h.raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close\n")


def c_hop(h):
    h.raw(b"HTTP/1.1 200 OK\r\nConnection: X-Drop, keep-alive\r\nX-Drop: secret\r\n"
          b"Keep-Alive: timeout=5\r\nX-Keep: kept\r\nContent-Length: 2\r\n\r\nok")


def c_closeafter(h):
    """A persistent-looking response, then the origin closes anyway."""
    h.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", close=True)


def c_closenext(h):
    """Answers, keeps the connection, then closes it at the next request
    without answering (an origin's idle timeout racing a proxy's reuse)."""
    h.reply(200, b"ok")
    h.drop_next = True


def c_bigheaders(h):
    h.raw(b"HTTP/1.1 200 OK\r\nX-Big: " + b"v" * (1 << 20) + b"\r\nContent-Length: 2\r\n\r\nok")


def c_manyheaders(h):
    h.raw(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(5000)) +
          b"Content-Length: 2\r\n\r\nok")


def c_badstatus(h):
    h.raw(b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok")


def c_notthttp(h):
    h.raw(b"<html>no status line</html>\r\n\r\n")


def c_longer(h):
    h.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA-BYTES-NOT-FOR-YOU")


def c_shorter(h):
    h.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")


def c_stall(h):
    time.sleep(h.server.stall)
    h.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def c_early(h):
    h.raw(b"")


def c_clte(h):
    h.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
          b"0\r\n\r\nhello")


def c_doublecl(h):
    h.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")


def c_badchunk(h):
    h.raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0x10\r\n"
          b"0123456789abcdef\r\n0\r\n\r\n")


def c_ws(h):
    """A WebSocket-style upgrade: 101, then every byte is echoed."""
    if h.headers.get("Upgrade", "").lower() != "websocket":
        h.reply(426, b"upgrade required\n")
        return
    h.raw(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
          b"Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n", close=True)
    sock = h.connection
    sock.settimeout(10)
    for _ in range(1000):
        try:
            data = sock.recv(65536)
        except OSError:
            return
        if not data:
            return
        sock.sendall(data)


def c_page(h):
    h.reply(200, b"<!DOCTYPE html><html><head><link rel=stylesheet href=style.css>"
            b"<script src=app.js></script></head><body><h1>through the proxy</h1>"
            b"<img src=pixel.svg></body></html>\n", "text/html")


def c_style(h):
    h.reply(200, b"h1 { color: green }\n", "text/css")


def c_app(h):
    h.reply(200, b"document.title = 'proxied';\n", "application/javascript")


def c_pixel(h):
    h.reply(200, b"<svg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/>",
            "image/svg+xml")


CASES = {"index": c_index, "hello": c_index, "headers": c_headers, "echo": c_echo,
         "big": c_big, "chunked": c_chunked, "close": c_close_delimited, "hop": c_hop, "closeafter": c_closeafter, "closenext": c_closenext,
         "bigheaders": c_bigheaders, "manyheaders": c_manyheaders,
         "badstatus": c_badstatus, "nothttp": c_notthttp, "longer": c_longer,
         "shorter": c_shorter, "stall": c_stall, "early": c_early, "clte": c_clte,
         "doublecl": c_doublecl, "badchunk": c_badchunk, "ws": c_ws, "page.html": c_page,
         "style.css": c_style, "app.js": c_app, "pixel.svg": c_pixel}


class Origin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls_context=None, stall=4.0):
        self.port = free_port()
        super().__init__(("127.0.0.1", self.port), Handler)
        if tls_context:
            self.socket = tls_context.wrap_socket(self.socket, server_side=True)
        self.lock = threading.Lock()
        self.hits = {}
        self.requests = []
        self.dropped = 0
        self.stall = stall
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def hit(self, path):
        with self.lock:
            return self.hits.get(path, 0)

    def last_headers(self):
        with self.lock:
            return self.requests[-1][2]

    def last_ports(self, n):
        """The client ports of the last n requests (one per connection)."""
        with self.lock:
            return [r[4] for r in self.requests[-n:]]

    def stop(self):
        self.shutdown()
        self.server_close()


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1 and localhost (its own CA)."""
    cert, key = os.path.join(directory, "origin.pem"), os.path.join(directory, "origin.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", key, "-out", cert, "-days", "1"],
                   check=True, capture_output=True)
    return cert, key


def tls_origin(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return Origin(tls_context=ctx)


def wsgi_app(environ, start_response):
    """Tells what the proxy passed on: the forwarding fields and the body."""
    n = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(n) if n else b""
    out = {k: environ.get(k) for k in ("PATH_INFO", "QUERY_STRING", "REQUEST_METHOD",
                                       "HTTP_HOST", "HTTP_X_FORWARDED_FOR",
                                       "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                                       "HTTP_FORWARDED", "HTTP_VIA", "HTTP_X_SECRET")}
    out["body"] = body.decode(errors="replace")
    data = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *a):
        pass


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class WsgiOrigin:
    def __init__(self):
        self.port = free_port()
        self.httpd = make_server("127.0.0.1", self.port, wsgi_app,
                                 server_class=ThreadingWSGIServer, handler_class=QuietHandler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
