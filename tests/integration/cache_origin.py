"""The origin of the cache tests (test_proxy_cache*.py): a threaded
http.server that counts its hits per path and serves one caching case per
last path segment (so each test picks a fresh path, /TESTNAME/CASE), each
written from RFC 9111 / RFC 5861: explicit freshness, heuristic freshness,
no-store, private, no-cache, must-revalidate, Vary, validators answering
304, Age, errors after a first good answer, a slow answer for collapsing.
Standard library only."""

import email.utils
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from portico import free_port

BLOB = os.urandom(200 * 1024 + 7)


def httpdate(t):
    return email.utils.formatdate(t, usegmt=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body, extra=(), ctype="text/plain"):
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and status != 304:
            self.wfile.write(body)

    def do_any(self):
        srv = self.server
        path = self.path.split("?")[0]
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        with srv.lock:
            srv.hits[path] = srv.hits.get(path, 0) + 1
            count = srv.hits[path]
            srv.requests.append((self.command, self.path, dict(self.headers.items())))
        case = CASES.get(path.rsplit("/", 1)[-1])
        if case is None:
            self.reply(404, b"no such case\n")
            return
        case(self, count)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_any


def body(count):
    return b"version %d\n" % count


def c_maxage(h, n):
    h.reply(200, body(n), [("Cache-Control", "max-age=60"), ("ETag", '"m%d"' % n)])


def c_smaxage(h, n):  # s-maxage wins over max-age for a shared cache (4.2.1)
    h.reply(200, body(n), [("Cache-Control", "max-age=0, s-maxage=60")])


def c_expires(h, n):
    now = time.time()
    h.reply(200, body(n), [("Date", httpdate(now)), ("Expires", httpdate(now + 60))])


def c_expired(h, n):  # Expires equal to Date: stale at once
    now = time.time()
    h.reply(200, body(n), [("Date", httpdate(now)), ("Expires", httpdate(now))])


def c_heuristic(h, n):  # 10 % of ten days: fresh for a day (4.2.2)
    h.reply(200, body(n), [("Last-Modified", httpdate(time.time() - 10 * 86400))])


def c_nostore(h, n):
    h.reply(200, body(n), [("Cache-Control", "no-store, max-age=60")])


def c_private(h, n):
    h.reply(200, body(n), [("Cache-Control", "private, max-age=60")])


def c_public(h, n):
    h.reply(200, body(n), [("Cache-Control", "public, max-age=60")])


def validated(h, n, cc, etag='"v1"', lastmod=None, extra304=()):
    """The first answer is 200 with validators; a matching conditional gets a
    304 with extra304 fields (merged into the stored head, 4.3.4)."""
    inm = h.headers.get("If-None-Match")
    ims = h.headers.get("If-Modified-Since")
    with h.server.lock:
        h.server.conditionals.append((h.path, inm, ims))
    fields = [("Cache-Control", cc)]
    if etag:
        fields.append(("ETag", etag))
    if lastmod:
        fields.append(("Last-Modified", lastmod))
    if (etag and inm == etag) or (lastmod and not inm and ims == lastmod):
        names = {k.lower() for k, _ in extra304}
        h.reply(304, b"", [f for f in fields if f[0].lower() not in names] + list(extra304))
        return
    h.reply(200, body(n), fields + [("X-Version", "first")])


def c_nocache(h, n):
    validated(h, n, "no-cache")


def c_mustrevalidate(h, n):
    validated(h, n, "max-age=0, must-revalidate")


def c_stale0(h, n):  # stale at once, may be served stale on request (max-stale)
    validated(h, n, "max-age=0")


def c_etag(h, n):
    validated(h, n, "max-age=0", extra304=[("X-Version", "second"),
                                           ("Cache-Control", "max-age=60")])


LASTMOD = httpdate(time.time() - 3600)


def c_lastmod(h, n):
    validated(h, n, "max-age=0", etag=None, lastmod=LASTMOD,
              extra304=[("X-Version", "second"), ("Cache-Control", "max-age=60")])


def c_cond(h, n):  # fresh, with both validators and every field a 304 keeps
    with h.server.lock:
        h.server.conditionals.append((h.path, h.headers.get("If-None-Match"),
                                      h.headers.get("If-Modified-Since")))
    h.reply(200, body(n), [("Cache-Control", "max-age=60"), ("ETag", 'W/"c1"'),
                           ("Last-Modified", LASTMOD), ("Expires", httpdate(time.time() + 60)),
                           ("Vary", "Accept-Encoding"), ("Content-Location", "/cond.txt"),
                           ("X-Version", "first")])


def c_age(h, n):  # an upstream cache held it for 30 s already (4.2.3)
    h.reply(200, body(n), [("Cache-Control", "max-age=600"), ("Age", "30")])


def c_vary(h, n):
    lang = h.headers.get("Accept-Language", "none")
    h.reply(200, b"lang %s %d\n" % (lang.encode(), n),
            [("Cache-Control", "max-age=60"), ("Vary", "Accept-Language")])


def c_sie(h, n):  # good once, then failing (RFC 5861 4)
    if n == 1:
        h.reply(200, body(n), [("Cache-Control", "max-age=0, stale-if-error=600")])
    else:
        h.reply(503, b"down\n")


def c_nosie(h, n):  # the same without stale-if-error: the error goes through
    if n == 1:
        h.reply(200, body(n), [("Cache-Control", "max-age=0")])
    else:
        h.reply(503, b"down\n")


def c_swr(h, n):  # RFC 5861 3
    h.reply(200, body(n), [("Cache-Control", "max-age=0, stale-while-revalidate=600")])


def c_slow(h, n):  # for collapsing: a miss that takes a while
    time.sleep(1.0)
    h.reply(200, body(n), [("Cache-Control", "max-age=60")])


def c_slowprivate(h, n):
    time.sleep(1.0)
    h.reply(200, body(n), [("Cache-Control", "private, max-age=60")])


def c_mid(h, n):  # under cache_max_object: stored, for Range
    h.reply(200, BLOB[:50000], [("Cache-Control", "max-age=60")], "application/octet-stream")


def c_blob(h, n):
    h.reply(200, BLOB, [("Cache-Control", "max-age=60"), ("ETag", '"blob"')],
            "application/octet-stream")


def c_page(h, n):
    h.reply(200, b"<!DOCTYPE html><html><head><link rel=stylesheet href=style.css>"
            b"<script src=app.js></script></head><body><h1>cached</h1>"
            b"<img src=pixel.svg></body></html>\n",
            [("Cache-Control", "max-age=300")], "text/html")


def c_style(h, n):
    h.reply(200, b"h1 { color: green }\n", [("Cache-Control", "max-age=300")], "text/css")


def c_app(h, n):
    h.reply(200, b"document.title = 'cached';\n", [("Cache-Control", "max-age=300")],
            "application/javascript")


def c_pixel(h, n):
    h.reply(200, b"<svg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/>",
            [("Cache-Control", "max-age=300")], "image/svg+xml")


def c_moved(h, n):  # an unsafe request answered 201 with a Location (4.4)
    if h.command == "GET":
        c_maxage(h, n)
    else:
        h.reply(201, b"done\n", [("Location", h.path.rsplit("/", 1)[0] + "/other/maxage")])


CASES = {"maxage": c_maxage, "smaxage": c_smaxage, "expires": c_expires,
         "expired": c_expired, "heuristic": c_heuristic, "nostore": c_nostore,
         "private": c_private, "public": c_public, "nocache": c_nocache,
         "mustrevalidate": c_mustrevalidate, "stale0": c_stale0, "etag": c_etag,
         "lastmod": c_lastmod, "cond": c_cond, "age": c_age, "vary": c_vary, "sie": c_sie,
         "nosie": c_nosie, "swr": c_swr, "slow": c_slow, "slowprivate": c_slowprivate,
         "blob": c_blob, "mid": c_mid, "page.html": c_page, "style.css": c_style, "app.js": c_app,
         "pixel.svg": c_pixel, "moved": c_moved}


class CacheOrigin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.port = free_port()
        super().__init__(("127.0.0.1", self.port), Handler)
        self.lock = threading.Lock()
        self.hits = {}
        self.requests = []
        self.conditionals = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def hit(self, path):
        with self.lock:
            return self.hits.get(path, 0)

    def conditional_for(self, path):
        with self.lock:
            return [c for c in self.conditionals if c[0] == path]

    def stop(self):
        self.shutdown()
        self.server_close()
