"""The forward proxy (issue 12) with real clients: curl -x (absolute-form),
curl -p (CONNECT) to a TLS origin, Python's http.client with set_tunnel,
against origins written for the test (proxy_origin.py) that count their
hits; raw sockets only for what no client would send (smuggling, TRACE,
Max-Forwards). Access control and the SSRF guard are in ProxyAccess."""

import base64
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.request

from portico import ServerTest, wait_until
from proxy_origin import BIG, Origin, make_cert, tls_origin

USER, PASSWORD = "pat@example.org", "proxy pass 1"


def curl(*args):
    """Runs curl; returns (exit code, stdout bytes, stderr text)."""
    p = subprocess.run(["curl", "-s", "-S", "--http1.1", "--max-time", "20", *args],
                       capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def raw(port, data, timeout=10.0):
    """Sends bytes and reads until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
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


def status_of(data):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
    return int(m.group(1)) if m else None


class ProxyBase(ServerTest):
    SERVICES = ("http", "proxy", "metrics")

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="portico-proxy-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.cert, cls.key = make_cert(cls.tmp.name)
        cls.origin = Origin(stall=4.0)
        cls.addClassCleanup(cls.origin.stop)
        cls.tls = tls_origin(cls.cert, cls.key)
        cls.addClassCleanup(cls.tls.stop)
        cls.log = os.path.join(cls.tmp.name, "access.log")
        cls.EXTRA = (f"[proxy]\ntimeout = 2\nconnect_ports = 443 {cls.tls.port}\n"
                     f"ca_file = {cls.cert}\n[http]\naccess_log = {cls.log}\n" + cls.MORE)
        super().setUpClass()
        cls.proxy = cls.server.ports["proxy"]
        cls.o = f"http://127.0.0.1:{cls.origin.port}"

    MORE = ""

    def via_proxy(self, path, *args):
        return curl("-x", f"http://127.0.0.1:{self.proxy}", *args, self.o + path)


class ForwardProxy(ProxyBase):
    def test_curl_absolute_form_reaches_the_origin_once(self):
        before = self.origin.hit("/hello")
        rc, out, err = self.via_proxy("/hello", "-i")
        self.assertEqual(rc, 0, err)
        self.assertIn(b"HTTP/1.1 200", out)
        self.assertIn(b"\r\nVia: 1.1 mail.example.org (portico)\r\n", out)
        self.assertTrue(out.endswith(b"hello from the origin\n"))
        self.assertEqual(self.origin.hit("/hello"), before + 1)
        h = self.origin.last_headers()
        self.assertEqual(h["Host"], f"127.0.0.1:{self.origin.port}")
        self.assertNotIn("Proxy-Connection", h)

    def test_every_method_with_bodies(self):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            rc, out, err = self.via_proxy("/echo", "-X", method, "--data-binary", f"body of {method}")
            self.assertEqual((rc, out), (0, f"body of {method}".encode()), err)
        rc, out, _ = self.via_proxy("/hello", "-I")
        self.assertIn(b"Content-Length: 22", out)

    def test_chunked_request_body_is_reframed(self):
        data = os.urandom(300000)
        p = subprocess.run(["curl", "-s", "-S", "-x", f"http://127.0.0.1:{self.proxy}",
                            "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
                            self.o + "/echo"], input=data, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(hashlib.sha256(p.stdout).hexdigest(), hashlib.sha256(data).hexdigest())

    def test_chunked_and_close_delimited_responses(self):
        rc, out, err = self.via_proxy("/chunked")
        self.assertEqual((rc, out), (0, b"hello world"), err)
        rc, out, err = self.via_proxy("/close", "-i")
        self.assertEqual(rc, 0, err)
        # An HTTP/1.1 client gets the unknown length as chunks and keeps
        # its connection; an HTTP/1.0 client gets the close.
        self.assertIn(b"Transfer-Encoding: chunked", out)
        self.assertTrue(out.endswith(b"until the close\n"))
        out = raw(self.proxy, f"GET {self.o}/chunked HTTP/1.0\r\n\r\n".encode())
        self.assertEqual(status_of(out), 200)
        self.assertNotIn(b"Transfer-Encoding", out)
        self.assertTrue(out.endswith(b"\r\n\r\nhello world"))

    def test_big_body_streams_intact(self):
        rc, out, err = self.via_proxy("/big")
        self.assertEqual(rc, 0, err)
        self.assertEqual(hashlib.sha256(out).digest(), hashlib.sha256(BIG).digest())

    def test_hop_by_hop_fields_removed_both_ways(self):
        rc, out, err = self.via_proxy("/headers", "-H", "Connection: X-Secret",
                                      "-H", "X-Secret: 1", "-H", "Keep-Alive: 300",
                                      "-H", "TE: trailers", "-H", "X-End: kept")
        self.assertEqual(rc, 0, err)
        got = {k.lower(): v for k, v in json.loads(out)["headers"]}
        for f in ("x-secret", "keep-alive", "te", "proxy-connection"):
            self.assertNotIn(f, got)
        self.assertEqual(got["x-end"], "kept")
        self.assertNotIn("connection", got)  # a GET persists (pool.c); the rest sends close
        self.assertEqual(got["via"], "1.1 mail.example.org (portico)")
        rc, out, err = self.via_proxy("/hop", "-i")
        self.assertEqual(rc, 0, err)
        self.assertNotIn(b"X-Drop", out)
        self.assertNotIn(b"Keep-Alive", out)
        self.assertIn(b"X-Keep: kept", out)

    def test_keep_alive_to_the_client(self):
        c = http.client.HTTPConnection("127.0.0.1", self.proxy, timeout=10)
        c.request("GET", self.o + "/hello")
        r = c.getresponse()
        self.assertEqual(r.read(), b"hello from the origin\n")
        sock = c.sock
        c.request("GET", self.o + "/chunked")
        r = c.getresponse()
        self.assertEqual(r.read(), b"hello world")
        self.assertIs(c.sock, sock)
        c.close()

    def test_origin_connections_are_reused_for_safe_requests(self):
        # One client connection: it lives on one loop, and pools are per loop.
        c = http.client.HTTPConnection("127.0.0.1", self.proxy, timeout=10)
        for path in ("/hello", "/chunked", "/hello"):
            c.request("GET", self.o + path)
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
        c.close()
        self.assertEqual(len(set(self.origin.last_ports(3))), 1, self.origin.last_ports(3))
        # A POST gets a connection of its own and asks the origin to close it.
        rc, out, err = self.via_proxy("/echo", "--data-binary", "x")
        self.assertEqual(self.origin.last_headers()["Connection"], "close")

    def test_a_kept_connection_the_origin_closed_is_retried(self):
        c = http.client.HTTPConnection("127.0.0.1", self.proxy, timeout=10)
        c.request("GET", self.o + "/closenext")
        self.assertEqual(c.getresponse().read(), b"ok")
        dropped = self.origin.dropped
        c.request("GET", self.o + "/hello")  # sent on the kept conn, dropped, retried
        self.assertEqual(c.getresponse().read(), b"hello from the origin\n")
        c.close()
        self.assertEqual(self.origin.dropped, dropped + 1)
        self.assertIn("proxy upstream_retry", self.server.stderr())
        for _ in range(3):
            rc, out, err = self.via_proxy("/closeafter")
            self.assertEqual((rc, out), (0, b"ok"), err)
            rc, out, err = self.via_proxy("/hello")
            self.assertEqual((rc, out), (0, b"hello from the origin\n"), err)

    def test_max_forwards_and_trace(self):
        before = self.origin.hit("/headers")
        out = raw(self.proxy, f"OPTIONS {self.o}/headers HTTP/1.1\r\nHost: x\r\n"
                              "Max-Forwards: 0\r\nConnection: close\r\n\r\n".encode())
        self.assertEqual(status_of(out), 200)
        self.assertIn(b"Allow: ", out)
        self.assertEqual(self.origin.hit("/headers"), before)
        out = raw(self.proxy, f"OPTIONS {self.o}/headers HTTP/1.1\r\nHost: x\r\n"
                              "Max-Forwards: 5\r\nConnection: close\r\n\r\n".encode())
        self.assertEqual(status_of(out), 200)
        self.assertEqual(self.origin.last_headers()["Max-Forwards"], "4")
        out = raw(self.proxy, f"TRACE {self.o}/headers HTTP/1.1\r\nHost: x\r\n"
                              "Connection: close\r\n\r\n".encode())
        self.assertEqual(status_of(out), 405)
        self.assertEqual(self.origin.hit("/headers"), before + 1)

    def test_connect_tunnel_with_curl(self):
        before = self.tls.hit("/hello")
        rc, out, err = curl("-p", "-x", f"http://127.0.0.1:{self.proxy}", "--cacert", self.cert,
                            f"https://127.0.0.1:{self.tls.port}/hello")
        self.assertEqual((rc, out), (0, b"hello from the origin\n"), err)
        self.assertEqual(self.tls.hit("/hello"), before + 1)

    def test_connect_tunnel_with_http_client(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        c = http.client.HTTPSConnection("127.0.0.1", self.proxy, timeout=10, context=ctx)
        c.set_tunnel("127.0.0.1", self.tls.port)
        c.request("GET", "/echo", body=b"through the tunnel")
        r = c.getresponse()
        self.assertEqual((r.status, r.read()), (200, b"through the tunnel"))
        c.close()

    def test_connect_to_a_port_not_allowed(self):
        out = raw(self.proxy, f"CONNECT 127.0.0.1:{self.origin.port} HTTP/1.1\r\n"
                              f"Host: 127.0.0.1:{self.origin.port}\r\n\r\n".encode())
        self.assertEqual(status_of(out), 403)
        rc, _, err = curl("-p", "-x", f"http://127.0.0.1:{self.proxy}",
                          f"https://127.0.0.1:{self.origin.port}/")
        self.assertNotEqual(rc, 0)
        self.assertIn("403", err)

    def test_smuggling_attempts_in_requests(self):
        before = self.origin.hit("/echo")
        cases = [
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
            "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        ]
        for extra in cases:
            out = raw(self.proxy, f"POST {self.o}/echo HTTP/1.1\r\nHost: x\r\n{extra}".encode())
            self.assertEqual(status_of(out), 400, extra)
        self.assertEqual(self.origin.hit("/echo"), before)
        # A bad chunk size: the body never reaches the origin whole, and the
        # client gets a 400 alone (no second response smuggled after it).
        out = raw(self.proxy, f"POST {self.o}/echo HTTP/1.1\r\nHost: x\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n".encode())
        self.assertEqual(status_of(out), 400)
        self.assertEqual(out.count(b"HTTP/1.1 "), 1)

    def test_origin_smuggling_attempts_give_502(self):
        for path in ("/clte", "/doublecl"):
            rc, out, err = self.via_proxy(path, "-i")
            self.assertEqual(status_of(out), 502, path)
            self.assertNotIn(b"hello", out)
        # A bad chunk size after a good head: the body is cut, never
        # extended; the client sees an incomplete response.
        c = http.client.HTTPConnection("127.0.0.1", self.proxy, timeout=10)
        c.request("GET", self.o + "/badchunk")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        with self.assertRaises(http.client.IncompleteRead):
            r.read()
        c.close()

    def test_malformed_or_oversized_heads_give_502(self):
        for path in ("/bigheaders", "/manyheaders", "/badstatus", "/nothttp"):
            rc, out, err = self.via_proxy(path, "-i")
            self.assertEqual(status_of(out), 502, path)

    def test_longer_and_shorter_than_content_length(self):
        c = http.client.HTTPConnection("127.0.0.1", self.proxy, timeout=10)
        c.request("GET", self.o + "/longer")
        self.assertEqual(c.getresponse().read(), b"hello")
        c.request("GET", self.o + "/hello")  # the same connection is still in step
        self.assertEqual(c.getresponse().read(), b"hello from the origin\n")
        c.close()
        rc, out, err = self.via_proxy("/shorter")
        self.assertEqual(rc, 18, err)  # curl: transfer closed with bytes remaining
        self.assertEqual(out, b"short")

    def test_stalling_origin_gives_504_within_the_timeout(self):
        t0 = time.monotonic()
        rc, out, err = self.via_proxy("/stall", "-i")
        elapsed = time.monotonic() - t0
        self.assertEqual(status_of(out), 504)
        self.assertGreater(elapsed, 1.5)
        self.assertLess(elapsed, 3.9)

    def test_origin_closing_early_gives_502(self):
        rc, out, err = self.via_proxy("/early", "-i")
        self.assertEqual(status_of(out), 502)

    def test_unreachable_origin_gives_502(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        rc, out, err = curl("-i", "-x", f"http://127.0.0.1:{self.proxy}", f"http://127.0.0.1:{port}/")
        self.assertEqual(status_of(out), 502)

    def test_request_to_the_proxy_itself_is_a_loop(self):
        for port in (self.proxy, self.server.ports["http"]):
            rc, out, err = curl("-i", "-x", f"http://127.0.0.1:{self.proxy}",
                                f"http://127.0.0.1:{port}/")
            self.assertEqual(status_of(out), 508, port)
        before = self.origin.hit("/hello")
        rc, out, err = self.via_proxy("/hello", "-i", "-H", "Via: 1.1 mail.example.org (portico)")
        self.assertEqual(status_of(out), 508)
        self.assertEqual(self.origin.hit("/hello"), before)

    def test_origin_form_on_the_proxy_port_is_refused(self):
        out = raw(self.proxy, b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status_of(out), 400)

    def test_access_log_and_metrics(self):
        self.via_proxy("/hello")
        wait_until(lambda: os.path.exists(self.log) and
                   re.search(r'"GET http://127\.0\.0\.1:\d+/hello HTTP/1\.1" 200 22 .* upstream=\d+\.\d{3}$',
                             open(self.log).read(), re.M),
                   what="access log line with the upstream time")
        m = urllib.request.urlopen(f"http://127.0.0.1:{self.server.ports['metrics']}/metrics").read().decode()
        n = re.search(r'portico_proxy_upstream_requests_total\{proto="proxy"\} (\d+)', m)
        self.assertGreater(int(n.group(1)), 0)
        self.assertRegex(m, r'portico_proxy_upstream_failures_total\{proto="proxy"\} \d+')


class ProxyAccess(ProxyBase):
    """Loopback is not in allow here: every client must log in, and the
    SSRF guard (auto) applies to authenticated clients."""
    SERVICES = ("proxy",)
    MORE = "[proxy]\nallow = 192.0.2.0/24\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user(USER, PASSWORD)

    def test_a_no_credentials_gets_407_without_origin_contact(self):
        rc, out, err = self.via_proxy("/hello", "-i")
        self.assertEqual(status_of(out), 407)
        self.assertIn(b'Proxy-Authenticate: Basic realm="portico proxy"', out)
        rc, out, err = curl("-i", "-p", "-x", f"http://127.0.0.1:{self.proxy}",
                            f"https://127.0.0.1:{self.tls.port}/hello")
        self.assertIn("407", err + out.decode(errors="replace"))
        self.assertEqual(self.origin.hit("/hello"), 0)
        self.assertEqual(self.tls.hit("/hello"), 0)

    def test_b_right_password_but_the_ssrf_guard_refuses_loopback(self):
        rc, out, err = self.via_proxy("/hello", "-i", "-U", f"{USER}:{PASSWORD}")
        self.assertEqual(status_of(out), 403)
        rc, out, err = curl("-i", "-p", "-x", f"http://127.0.0.1:{self.proxy}",
                            "-U", f"{USER}:{PASSWORD}", "--cacert", self.cert,
                            f"https://127.0.0.1:{self.tls.port}/hello")
        self.assertIn("403", err + out.decode(errors="replace"))
        self.assertEqual(self.origin.hit("/hello"), 0)
        self.assertEqual(self.tls.hit("/hello"), 0)

    def test_c_wrong_password_gets_407_and_is_throttled(self):
        times = []
        for _ in range(5):
            t0 = time.monotonic()
            rc, out, err = self.via_proxy("/hello", "-i", "-U", f"{USER}:wrong")
            times.append(time.monotonic() - t0)
            self.assertEqual(status_of(out), 407)
        # auth/throttle: no delay for the first failures, then 1 s doubling.
        self.assertGreater(times[-1], 0.9, times)
        self.assertEqual(self.origin.hit("/hello"), 0)
        self.assertRegex(self.server.stderr(), r"auth|login")


class ProxyGuardOff(ProxyBase):
    """[proxy] ssrf_guard = no: an authenticated client may reach loopback."""
    SERVICES = ("proxy",)
    MORE = "[proxy]\nallow = 192.0.2.0/24\nssrf_guard = no\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user(USER, PASSWORD)

    def test_authenticated_client_reaches_the_origin(self):
        rc, out, err = self.via_proxy("/hello", "-U", f"{USER}:{PASSWORD}")
        self.assertEqual((rc, out), (0, b"hello from the origin\n"), err)


if __name__ == "__main__":
    unittest.main()
