"""HTTP/1.1 (issue 6) with real clients: Python's http.client and the curl
command line; raw sockets only for pipelining and malformed input that no
client would send. The upload form is driven in headless Chromium in
test_http_browser.py."""

import base64
import email
import hashlib
import http.client
import os
import re
import socket
import ssl
import subprocess
import threading
import time
import unittest

from portico import Server, ServerTest, wait_until

USER = "alice@example.org"
PASSWORD = "correct horse battery"


def curl(*args, check=True):
    """Runs curl; returns (stdout bytes, stderr text)."""
    p = subprocess.run(["curl", "-s", "-S", "--http1.1", *args], capture_output=True,
                       timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"curl {args} failed {p.returncode}: {p.stderr.decode()}")
    return p.stdout, p.stderr.decode(errors="replace")


def raw(port, data, timeout=5.0, shut=True):
    """Sends bytes on a fresh socket and reads until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if shut:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except (ConnectionResetError, socket.timeout):
            pass
        return out


def statuses(data):
    return [int(m) for m in re.findall(rb"^HTTP/1\.1 (\d{3}) ", data, re.M)]


class HttpBase(ServerTest):
    SERVICES = ("http",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.port = s.ports["http"]
        cls.tls_port = s.ports["http_tls"]
        cls.www = os.path.join(s.data_dir, "www")
        cls.base = f"http://127.0.0.1:{cls.port}"

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def tls_conn(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["http/1.1"])
        return http.client.HTTPSConnection("127.0.0.1", self.tls_port, timeout=10, context=ctx)

    def get(self, path, headers=None, method="GET", body=None):
        c = self.conn()
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data


class HttpStatic(HttpBase):
    EXTRA = "[http]\naccess_log = {log}\n"

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.logdir = tempfile.TemporaryDirectory(prefix="portico-http-log-")
        cls.log = os.path.join(cls.logdir.name, "access.log")
        cls.EXTRA = HttpStatic.EXTRA.format(log=cls.log)
        super().setUpClass()
        w = cls.www
        with open(os.path.join(w, "index.html"), "w") as f:
            f.write("<!DOCTYPE html><title>home</title><p>welcome</p>\n")
        cls.small = os.urandom(1024)
        cls.big = os.urandom(3 * 1024 * 1024 + 17)
        with open(os.path.join(w, "1k.bin"), "wb") as f:
            f.write(cls.small)
        with open(os.path.join(w, "big.bin"), "wb") as f:
            f.write(cls.big)
        os.mkdir(os.path.join(w, "sub"))
        with open(os.path.join(w, "sub", "a b.txt"), "w") as f:
            f.write("abc\n")
        with open(os.path.join(w, "style.css"), "w") as f:
            f.write("p{}\n")
        os.symlink("/etc", os.path.join(w, "escape"))

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.logdir.cleanup()

    def test_index_and_standard_fields(self):
        r, data = self.get("/")
        self.assertEqual(r.status, 200)
        self.assertIn(b"welcome", data)
        self.assertEqual(r.getheader("Content-Type"), "text/html; charset=utf-8")
        self.assertEqual(int(r.getheader("Content-Length")), len(data))
        self.assertEqual(r.getheader("Server"), "portico")
        self.assertRegex(r.getheader("Date"), r"^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$")
        self.assertRegex(r.getheader("ETag"), r'^"[0-9a-f-]+"$')
        self.assertIsNotNone(r.getheader("Last-Modified"))
        r, _ = self.get("/style.css")
        self.assertEqual(r.getheader("Content-Type"), "text/css; charset=utf-8")

    def test_head_with_curl(self):
        out, _ = curl("-I", self.base + "/big.bin")
        self.assertIn(b"HTTP/1.1 200 OK", out)
        self.assertIn(f"Content-Length: {len(self.big)}".encode(), out)
        self.assertTrue(out.endswith(b"\r\n\r\n"))

    def test_big_file_plain_and_tls(self):
        out, _ = curl(self.base + "/big.bin")
        self.assertEqual(out, self.big)
        out, _ = curl("-k", f"https://127.0.0.1:{self.tls_port}/big.bin")
        self.assertEqual(out, self.big)
        c = self.tls_conn()
        c.request("GET", "/1k.bin")
        r = c.getresponse()
        self.assertEqual(r.read(), self.small)
        self.assertEqual(c.sock.selected_alpn_protocol(), "http/1.1")
        c.close()

    def test_keep_alive_reuses_one_connection(self):
        c = self.conn()
        socks = set()
        for path in ("/", "/1k.bin", "/sub/", "/style.css", "/missing", "/1k.bin"):
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            socks.add(id(c.sock))
            self.assertIsNotNone(c.sock, path)
        self.assertEqual(len(socks), 1)
        c.close()
        # curl with several URLs reuses its connection too.
        _, err = curl("-v", self.base + "/1k.bin", self.base + "/style.css", "-o", "/dev/null",
                      "-o", "/dev/null")
        self.assertIn("Re-using existing connection", err)

    def test_http10_with_and_without_keep_alive(self):
        _, err = curl("--http1.0", "-v", self.base + "/1k.bin", self.base + "/1k.bin",
                      "-o", "/dev/null", "-o", "/dev/null")
        self.assertNotIn("Re-using existing connection", err)
        _, err = curl("--http1.0", "-v", "-H", "Connection: keep-alive", self.base + "/1k.bin",
                      self.base + "/1k.bin", "-o", "/dev/null", "-o", "/dev/null")
        self.assertIn("Re-using existing connection", err)
        out = raw(self.port, b"GET /style.css HTTP/1.0\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 200 OK"), out)
        self.assertTrue(out.endswith(b"p{}\n"))

    def test_conditional_requests(self):
        r, _ = self.get("/1k.bin")
        etag, lm = r.getheader("ETag"), r.getheader("Last-Modified")
        r, data = self.get("/1k.bin", {"If-None-Match": etag})
        self.assertEqual((r.status, data), (304, b""))
        self.assertEqual(r.getheader("ETag"), etag)
        r, _ = self.get("/1k.bin", {"If-None-Match": '"other", W/' + etag})
        self.assertEqual(r.status, 304)
        r, _ = self.get("/1k.bin", {"If-Modified-Since": lm})
        self.assertEqual(r.status, 304)
        r, _ = self.get("/1k.bin", {"If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"})
        self.assertEqual(r.status, 200)
        r, _ = self.get("/1k.bin", {"If-Match": '"nope"'})
        self.assertEqual(r.status, 412)
        r, _ = self.get("/1k.bin", {"If-Match": etag})
        self.assertEqual(r.status, 200)
        r, _ = self.get("/1k.bin", {"If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"})
        self.assertEqual(r.status, 412)
        # curl -z (If-Modified-Since from a file's date) and --etag-compare.
        path = os.path.join(self.www, "1k.bin")
        out, _ = curl("-z", path, "-o", "/dev/null", "-w", "%{http_code}", self.base + "/1k.bin")
        self.assertEqual(out, b"304")
        etag_file = os.path.join(self.logdir.name, "etag")
        curl("--etag-save", etag_file, "-o", "/dev/null", self.base + "/1k.bin")
        out, _ = curl("--etag-compare", etag_file, "-o", "/dev/null", "-w", "%{http_code}",
                      self.base + "/1k.bin")
        self.assertEqual(out, b"304")

    def test_ranges(self):
        out, _ = curl("-r", "100-199", self.base + "/big.bin")
        self.assertEqual(out, self.big[100:200])
        out, _ = curl("-r", "-10", self.base + "/big.bin")
        self.assertEqual(out, self.big[-10:])
        out, _ = curl("-k", "-r", "1000000-", f"https://127.0.0.1:{self.tls_port}/big.bin")
        self.assertEqual(out, self.big[1000000:])
        r, data = self.get("/big.bin", {"Range": "bytes=0-9,2000000-2000009"})
        self.assertEqual(r.status, 206)
        ctype = r.getheader("Content-Type")
        self.assertTrue(ctype.startswith("multipart/byteranges; boundary="))
        msg = email.message_from_bytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + data)
        parts = [p.get_payload(decode=True) for p in msg.get_payload()]
        self.assertEqual(parts, [self.big[0:10], self.big[2000000:2000010]])
        r, _ = self.get("/1k.bin", {"Range": "bytes=5000-"})
        self.assertEqual(r.status, 416)
        self.assertEqual(r.getheader("Content-Range"), "bytes */1024")
        r, data = self.get("/1k.bin", {"Range": "bytes=0-1", "If-Range": '"stale"'})
        self.assertEqual((r.status, data), (200, self.small))

    def test_directories(self):
        r, _ = self.get("/sub")
        self.assertEqual((r.status, r.getheader("Location")), (301, "/sub/"))
        r, data = self.get("/sub/")
        self.assertEqual(r.status, 200)
        self.assertIn(b'href="a%20b.txt"', data)
        r, data = self.get("/sub/a%20b.txt")
        self.assertEqual(data, b"abc\n")
        r, _ = self.get("/1k.bin/")
        self.assertEqual(r.status, 404)
        r, _ = self.get("/nothing/here")
        self.assertEqual(r.status, 404)

    def test_methods(self):
        r, _ = self.get("/", method="OPTIONS")
        self.assertEqual(r.status, 204)
        self.assertEqual(r.getheader("Allow"), "GET, HEAD, OPTIONS")
        for m in ("PUT", "DELETE", "POST", "TRACE", "PATCH"):
            r, _ = self.get("/index.html", method=m, body=b"x" if m != "TRACE" else None)
            self.assertEqual(r.status, 405, m)
            self.assertEqual(r.getheader("Allow"), "GET, HEAD, OPTIONS")
        r, _ = self.get("/", method="BREW")
        self.assertEqual(r.status, 501)
        out = raw(self.port, b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertEqual(statuses(out), [204])

    def test_traversal_in_all_encodings(self):
        attacks = [b"/../../../../etc/passwd", b"/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                   b"/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", b"/..%2f..%2f..%2fetc/passwd",
                   b"/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", b"/..%5c..%5c..%5cetc%5cpasswd",
                   b"/..\\..\\..\\etc\\passwd", b"/index.html%00.txt", b"/../portico.db",
                   b"/%2e%2e/portico.db", b"/escape/passwd", b"/./sub/../../portico.db",
                   b"//etc/passwd", b"/%252e%252e/portico.db"]
        for a in attacks:
            out = raw(self.port, b"GET " + a + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            st = statuses(out)
            self.assertEqual(len(st), 1, (a, out[:200]))
            self.assertIn(st[0], (400, 403, 404), a)
            self.assertNotIn(b"root:", out)
            self.assertNotIn(b"SQLite", out)
        out, _ = curl("--path-as-is", "-o", "/dev/null", "-w", "%{http_code}",
                      self.base + "/../../etc/passwd")
        self.assertEqual(out, b"404")

    def test_pipelining_in_order(self):
        req = (b"GET /style.css HTTP/1.1\r\nHost: a\r\n\r\n"
               b"HEAD /1k.bin HTTP/1.1\r\nHost: a\r\n\r\n"
               b"GET /missing HTTP/1.1\r\nHost: a\r\n\r\n"
               b"GET /sub/a%20b.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        out = raw(self.port, req)
        self.assertEqual(statuses(out), [200, 200, 404, 200])
        self.assertTrue(out.endswith(b"abc\n"))
        self.assertLess(out.index(b"p{}"), out.index(b"404 Not Found"))

    def test_pipelined_big_responses_bounded(self):
        n = 20
        req = b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n" * n
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as s:
            s.sendall(req + b"GET /style.css HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            time.sleep(0.5)  # the server must stop and wait for us, not buffer it all
            got = 0
            while True:
                b = s.recv(1 << 20)
                if not b:
                    break
                got += len(b)
        self.assertGreater(got, n * len(self.big))

    def test_malformed_requests(self):
        cases = [
            (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked"
             b"\r\n\r\n0\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
             400),
            (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
             400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n  b\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
            (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
            (b"BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", 501),
            (b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
            (b"GET / HTTP/1.1\r\nHost: a\r\nExpect: tea\r\n\r\n", 417),
            (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n", 413),
            (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400),
        ]
        for req, want in cases:
            out = raw(self.port, req)
            self.assertEqual(statuses(out)[:1], [want], (req[:60], out[:200]))
            self.assertIn(b"Connection: close", out) if want != 501 else None

    def test_huge_header_and_many_headers(self):
        big = b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"v" * (1 << 20) + b"\r\n\r\n"
        self.assertEqual(statuses(raw(self.port, big, shut=False))[:1], [431])
        many = b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(
            b"X-%d: v\r\n" % i for i in range(10000)) + b"\r\n"
        self.assertEqual(statuses(raw(self.port, many, shut=False))[:1], [431])
        # The server is fine afterwards.
        r, _ = self.get("/")
        self.assertEqual(r.status, 200)

    def test_chunked_body_discarded_then_served(self):
        out = raw(self.port, b"GET /style.css HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
                             b"\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /style.css HTTP/1.1\r\nHost: a\r\n"
                             b"Connection: close\r\n\r\n")
        self.assertEqual(statuses(out), [200, 200])

    def test_slowloris_dropped_while_others_served(self):
        slow = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        slow.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")
        start = time.monotonic()
        closed = threading.Event()
        got = []

        def trickle():
            try:
                while not closed.is_set() and time.monotonic() - start < 25:
                    slow.sendall(b"X")
                    time.sleep(0.5)
            except OSError:
                pass

        def reader():
            try:
                while True:
                    b = slow.recv(4096)
                    if not b:
                        break
                    got.append(b)
            except OSError:
                pass
            closed.set()

        threads = [threading.Thread(target=trickle), threading.Thread(target=reader)]
        for t in threads:
            t.start()
        served = 0
        while not closed.is_set() and time.monotonic() - start < 25:
            r, _ = self.get("/1k.bin")
            self.assertEqual(r.status, 200)
            served += 1
            time.sleep(0.2)
        for t in threads:
            t.join()
        slow.close()
        self.assertTrue(closed.is_set())
        self.assertLess(time.monotonic() - start, 20)
        self.assertGreater(served, 5)
        self.assertIn(b"408", b"".join(got))

    def test_access_log_combined_format(self):
        curl("-A", 'agent "quoted"', "-e", "http://ref.example/", self.base + "/style.css")
        wait_until(lambda: os.path.exists(self.log) and "style.css" in open(self.log).read(),
                   what="access log line")
        line = [x for x in open(self.log) if "agent" in x][-1]
        self.assertRegex(line, r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
                               r'"GET /style\.css HTTP/1\.1" 200 4 "http://ref\.example/" '
                               r'"agent \\x22quoted\\x22"$')


class HttpLimits(HttpBase):
    EXTRA = "[http]\nmax_requests = 3\ndir_listing = no\n"

    def test_max_requests_per_connection(self):
        c = self.conn()
        for i in range(3):
            c.request("GET", "/")
            r = c.getresponse()
            r.read()
            self.assertEqual(r.getheader("Connection"), "close" if i == 2 else None)
        c.close()

    def test_listing_off(self):
        os.makedirs(os.path.join(self.www, "d"), exist_ok=True)
        r, _ = self.get("/d/")
        self.assertEqual(r.status, 403)


class HttpFiles(HttpBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user(USER, PASSWORD)
        cls.auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        cls.area = os.path.join(cls.server.data_dir, "users", "example.org", "alice", "files")

    def url(self, path):
        return f"{self.base}/files{path}"

    def test_login_required(self):
        r, _ = self.get("/files/")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.getheader("WWW-Authenticate"),
                         'Basic realm="portico files", charset="UTF-8"')
        out, _ = curl("-u", f"{USER}:wrong", "-o", "/dev/null", "-w", "%{http_code}",
                      self.url("/"))
        self.assertEqual(out, b"401")
        r, _ = self.get("/files")
        self.assertEqual((r.status, r.getheader("Location")), (301, "/files/"))

    def test_put_get_delete_with_curl(self):
        src = os.path.join(self.server.tmp.name, "upload.bin")
        data = os.urandom(2 * 1024 * 1024 + 3)
        with open(src, "wb") as f:
            f.write(data)
        u = ["-u", f"{USER}:{PASSWORD}"]
        out, _ = curl(*u, "-T", src, "-w", "%{http_code}", self.url("/up.bin"))
        self.assertTrue(out.endswith(b"201"), out)
        with open(os.path.join(self.area, "up.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        out, _ = curl(*u, "-T", src, "-w", "%{http_code}", self.url("/up.bin"))
        self.assertTrue(out.endswith(b"204"), out)
        out, _ = curl(*u, self.url("/up.bin"))
        self.assertEqual(out, data)
        out, _ = curl(*u, "-k", f"https://127.0.0.1:{self.tls_port}/files/up.bin")
        self.assertEqual(out, data)
        out, _ = curl(*u, "-X", "DELETE", "-w", "%{http_code}", self.url("/up.bin"))
        self.assertEqual(out, b"204")
        self.assertFalse(os.path.exists(os.path.join(self.area, "up.bin")))
        out, _ = curl(*u, "-o", "/dev/null", "-w", "%{http_code}", self.url("/up.bin"))
        self.assertEqual(out, b"404")
        self.assertEqual([n for n in os.listdir(self.area) if n.startswith(".")], [])

    def test_put_chunked_and_missing_parent(self):
        u = ["-u", f"{USER}:{PASSWORD}"]
        p = subprocess.run(["curl", "-s", "--http1.1", *u, "-T", "-", "-w", "%{http_code}",
                            self.url("/chunked.txt")], input=b"streamed\n" * 1000,
                           capture_output=True, timeout=30)
        self.assertEqual(p.stdout, b"201")
        with open(os.path.join(self.area, "chunked.txt"), "rb") as f:
            self.assertEqual(f.read(), b"streamed\n" * 1000)
        out, _ = curl(*u, "-T", "/dev/null", "-w", "%{http_code}", self.url("/no/such/x"))
        self.assertTrue(out.endswith(b"409"), out)

    def test_keep_alive_checks_password_once(self):
        before = self.server.stderr().count(f"auth login user={USER}")
        c = self.conn()
        for i in range(5):
            c.request("PUT", f"/files/k{i}.txt", body=b"k%d" % i,
                      headers={"Authorization": self.auth})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 201)
            c.request("GET", f"/files/k{i}.txt", headers={"Authorization": self.auth})
            r = c.getresponse()
            self.assertEqual(r.read(), b"k%d" % i)
        c.close()
        wait_until(lambda: self.server.stderr().count(f"auth login user={USER}") > before,
                   what="login line")
        self.assertEqual(self.server.stderr().count(f"auth login user={USER}"), before + 1)

    def test_file_area_is_the_users_files_tree(self):
        # The same tree FTP serves (test_cross.py drives both with real
        # clients); here, files placed in and PUT to the directory itself.
        with open(os.path.join(self.area, "from-ftp.txt"), "w") as f:
            f.write("via ftp\n")
        out, _ = curl("-u", f"{USER}:{PASSWORD}", self.url("/from-ftp.txt"))
        self.assertEqual(out, b"via ftp\n")
        r, data = self.get("/files/", {"Authorization": self.auth})
        self.assertIn(b"from-ftp.txt", data)
        self.assertIn(b'enctype="multipart/form-data"', data)
        r, _ = self.get("/files/to-ftp.txt", {"Authorization": self.auth}, "PUT", b"to ftp\n")
        self.assertEqual(r.status, 201)
        with open(os.path.join(self.area, "to-ftp.txt")) as f:
            self.assertEqual(f.read(), "to ftp\n")

    def test_form_upload_with_curl(self):
        src = os.path.join(self.server.tmp.name, "form.txt")
        with open(src, "w") as f:
            f.write("form data\n")
        out, _ = curl("-u", f"{USER}:{PASSWORD}", "-F", f"file=@{src}", "-o", "/dev/null",
                      "-w", "%{http_code} %{redirect_url}", self.url("/"))
        code, location = out.decode().split(" ", 1)
        self.assertEqual(code, "303")
        self.assertTrue(location.endswith(f"127.0.0.1:{self.port}/files/"), location)
        with open(os.path.join(self.area, "form.txt")) as f:
            self.assertEqual(f.read(), "form data\n")
        out, _ = curl("-u", f"{USER}:{PASSWORD}", "-F", "file=@" + src + ";filename=../../x",
                      "-o", "/dev/null", "-w", "%{http_code}", self.url("/"))
        self.assertEqual(out, b"303")  # reduced to its last component
        self.assertTrue(os.path.exists(os.path.join(self.area, "x")))

    def test_users_cannot_leave_their_area(self):
        self.server.add_user("bob@example.org", "bobs password")
        bob_area = os.path.join(self.server.data_dir, "users", "example.org", "bob", "files")
        os.makedirs(bob_area, exist_ok=True)
        with open(os.path.join(bob_area, "secret.txt"), "w") as f:
            f.write("bob's\n")
        for p in (b"/files/../users/example.org/bob/files/secret.txt",
                  b"/files/%2e%2e/%2e%2e/bob/files/secret.txt",
                  b"/files/..%2f..%2fbob%2ffiles%2fsecret.txt"):
            out = raw(self.port, b"GET " + p + b" HTTP/1.1\r\nHost: a\r\nAuthorization: " +
                      self.auth.encode() + b"\r\nConnection: close\r\n\r\n")
            self.assertNotIn(b"bob's", out)
        out = raw(self.port, b"PUT /files/../../../../www/evil.html HTTP/1.1\r\nHost: a\r\n"
                             b"Authorization: " + self.auth.encode() +
                             b"\r\nContent-Length: 4\r\nConnection: close\r\n\r\nevil")
        self.assertFalse(os.path.exists(os.path.join(self.www, "evil.html")))

    def test_hangup_during_login_leaks_nothing(self):
        # Clients that leave while their password is being checked: the
        # check ends on the pool after the connection is gone, and nothing
        # it held may leak (found by fuzz_session_http; LeakSanitizer in the
        # test build reports it when the server stops).
        s = Server(services=("http",))
        try:
            s.start()
            s.add_user(USER, PASSWORD)
            for _ in range(5):
                with socket.create_connection(("127.0.0.1", s.ports["http"])) as k:
                    k.sendall(b"GET /files/ HTTP/1.1\r\nHost: a\r\nAuthorization: " +
                              self.auth.encode() + b"\r\n\r\n")
            s.stop()
        finally:
            s.cleanup()

    def test_body_limit(self):
        out = raw(self.port, b"PUT /files/huge HTTP/1.1\r\nHost: a\r\nAuthorization: " +
                  self.auth.encode() + b"\r\nContent-Length: 99999999999999\r\n\r\n")
        self.assertEqual(statuses(out), [413])


if __name__ == "__main__":
    unittest.main()
