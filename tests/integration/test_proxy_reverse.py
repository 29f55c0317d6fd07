"""The reverse proxy (issue 12): [http] proxy routes in front of a Python
WSGI app (wsgiref) and the test origin of proxy_origin.py: the forwarding
fields (X-Forwarded-For/-Proto/-Host, Forwarded of RFC 7239), request
bodies, an https origin verified against [proxy] ca_file (and one that is
not trusted), a WebSocket-style upgrade echoed through, and targets that
must not be routed by one reading and served by another."""

import base64
import http.client
import json
import os
import socket
import ssl
import tempfile
import unittest

from portico import ServerTest
from proxy_origin import Origin, WsgiOrigin, make_cert, tls_origin
from test_proxy import raw, status_of


class ReverseProxy(ServerTest):
    SERVICES = ("http",)

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="portico-reverse-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.cert, cls.key = make_cert(cls.tmp.name)
        other = os.path.join(cls.tmp.name, "other")
        os.mkdir(other)
        cls.app = WsgiOrigin()
        cls.addClassCleanup(cls.app.stop)
        cls.origin = Origin()
        cls.addClassCleanup(cls.origin.stop)
        cls.tls = tls_origin(cls.cert, cls.key)
        cls.addClassCleanup(cls.tls.stop)
        cls.untrusted = tls_origin(*make_cert(other))
        cls.addClassCleanup(cls.untrusted.stop)
        cls.EXTRA = (f"[http]\nproxy = /app/ http://127.0.0.1:{cls.app.port}/\n"
                     f"proxy = /raw/ http://127.0.0.1:{cls.origin.port}/\n"
                     f"proxy = /deep/ http://127.0.0.1:{cls.origin.port}/base/\n"
                     f"proxy = /tls/ https://127.0.0.1:{cls.tls.port}/\n"
                     f"proxy = /untrusted/ https://127.0.0.1:{cls.untrusted.port}/\n"
                     f"[proxy]\ntimeout = 3\nca_file = {cls.cert}\n")
        super().setUpClass()
        cls.port = cls.server.ports["http"]
        with open(os.path.join(cls.server.data_dir, "www", "index.html"), "w") as f:
            f.write("static home\n")

    def get(self, path, headers=None, method="GET", body=None, tls=False):
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c = http.client.HTTPSConnection("127.0.0.1", self.server.ports["http_tls"],
                                            timeout=10, context=ctx)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data

    def test_wsgi_app_sees_the_forwarding_fields(self):
        r, data = self.get("/app/x/y?q=1", {"X-Forwarded-For": "203.0.113.9",
                                            "Forwarded": "for=203.0.113.9",
                                            "X-Forwarded-Proto": "gopher"})
        self.assertEqual(r.status, 200)
        env = json.loads(data)
        self.assertEqual(env["PATH_INFO"], "/x/y")
        self.assertEqual(env["QUERY_STRING"], "q=1")
        self.assertEqual(env["HTTP_HOST"], f"127.0.0.1:{self.app.port}")
        self.assertEqual(env["HTTP_X_FORWARDED_FOR"], "203.0.113.9, 127.0.0.1")
        self.assertEqual(env["HTTP_X_FORWARDED_PROTO"], "http")  # ours, not the client's
        self.assertEqual(env["HTTP_X_FORWARDED_HOST"], f"127.0.0.1:{self.port}")
        self.assertEqual(env["HTTP_FORWARDED"],
                         f'for=203.0.113.9, for=127.0.0.1;proto=http;host="127.0.0.1:{self.port}"')
        self.assertEqual(env["HTTP_VIA"], "1.1 mail.example.org (portico)")
        self.assertEqual(r.getheader("Via"), "1.0 mail.example.org (portico)")

    def test_over_the_tls_listener_the_proto_is_https(self):
        r, data = self.get("/app/", tls=True)
        env = json.loads(data)
        self.assertEqual(env["HTTP_X_FORWARDED_PROTO"], "https")
        self.assertIn("proto=https", env["HTTP_FORWARDED"])

    def test_post_body_and_hop_by_hop(self):
        r, data = self.get("/app/form", {"Connection": "X-Secret", "X-Secret": "1"},
                           method="POST", body=b"a=1&b=2")
        env = json.loads(data)
        self.assertEqual((env["REQUEST_METHOD"], env["body"]), ("POST", "a=1&b=2"))
        self.assertIsNone(env["HTTP_X_SECRET"])

    def test_base_path_of_the_route(self):
        r, data = self.get("/deep/headers?z=2")
        self.assertEqual(json.loads(data)["path"], "/base/headers?z=2")

    def test_https_origin_verified(self):
        r, data = self.get("/tls/hello")
        self.assertEqual((r.status, data), (200, b"hello from the origin\n"))

    def test_https_origin_not_trusted_gives_502(self):
        r, data = self.get("/untrusted/hello")
        self.assertEqual(r.status, 502)
        self.assertEqual(self.untrusted.hit("/hello"), 0)

    def test_websocket_upgrade_is_tunnelled(self):
        key = base64.b64encode(os.urandom(16)).decode()
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(f"GET /raw/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                b = s.recv(1)
                self.assertTrue(b, head)
                head += b
            self.assertTrue(head.startswith(b"HTTP/1.1 101 "), head)
            self.assertIn(b"Upgrade: websocket", head)
            for msg in (b"ping", os.urandom(200000)):
                s.sendall(msg)
                got = b""
                while len(got) < len(msg):
                    b = s.recv(65536)
                    self.assertTrue(b)
                    got += b
                self.assertEqual(got, msg)
        self.assertEqual(self.origin.last_headers()["Upgrade"], "websocket")

    def test_targets_that_read_two_ways_are_not_routed(self):
        before = self.origin.hit("/hello")
        for path in ("/raw/../hello", "/%72aw/hello", "/raw"):
            r, data = self.get(path)
            self.assertNotEqual(data, b"hello from the origin\n", path)
        self.assertEqual(self.origin.hit("/hello"), before)
        r, data = self.get("/")
        self.assertEqual(data, b"static home\n")

    def test_smuggling_and_broken_origins(self):
        out = raw(self.port, b"POST /raw/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.assertEqual(status_of(out), 400)
        for path in ("/raw/bigheaders", "/raw/badstatus", "/raw/clte"):
            r, data = self.get(path)
            self.assertEqual(r.status, 502, path)

    def test_trace_is_refused(self):
        r, data = self.get("/app/", method="TRACE")
        self.assertEqual(r.status, 405)


if __name__ == "__main__":
    unittest.main()
