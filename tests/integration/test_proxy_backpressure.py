"""Back-pressure of the proxy's streaming path (docs/proxy.md "Timeouts,
limits"): a client that stops reading must stop the origin, whatever the
relay's read sizes (relay.c reads plain sockets in large pieces). A raw
origin sends 64 MiB and counts what the kernel took from it; the client
reads the head and then nothing. Once the origin's count stops growing it
must be far below the body (socket buffers and the proxy's bounded output,
never the whole body in the proxy); then the client reads the rest, which
must be complete and intact. For a no-store response through the reverse
proxy, and for a CONNECT tunnel."""

import hashlib
import socket
import threading
import time
import unittest

from portico import ServerTest, free_port, wait_until

BODY = 64 << 20
BOUND = 24 << 20  # kernel socket buffers + the proxy's 256 KiB per direction
PIECE = bytes(range(256)) * 256  # 64 KiB


def expected_sha():
    h = hashlib.sha256()
    for _ in range(BODY // len(PIECE)):
        h.update(PIECE)
    return h.hexdigest()


class RawOrigin:
    """Answers every connection with `head` then BODY bytes, counting what
    sendall got rid of; http: wait for a request head first."""

    def __init__(self, http):
        self.http = http
        self.port = free_port()
        self.sent = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(8)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(c,), daemon=True).start()

    def answer(self, c):
        c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        try:
            if self.http:
                data = b""
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    b = c.recv(4096)
                    if not b:
                        return
                    data += b
                c.sendall(b"HTTP/1.1 200 OK\r\nCache-Control: no-store\r\n"
                          b"Content-Type: application/octet-stream\r\n"
                          b"Content-Length: %d\r\n\r\n" % BODY)
            for _ in range(BODY // len(PIECE)):
                c.sendall(PIECE)
                with self.lock:
                    self.sent += len(PIECE)
        except OSError:
            pass
        finally:
            c.close()

    def count(self):
        with self.lock:
            return self.sent

    def stop(self):
        self.sock.close()


class Backpressure(ServerTest):
    SERVICES = ("http", "proxy")

    @classmethod
    def setUpClass(cls):
        cls.web = RawOrigin(http=True)
        cls.addClassCleanup(cls.web.stop)
        cls.raw = RawOrigin(http=False)
        cls.addClassCleanup(cls.raw.stop)
        cls.EXTRA = (f"[proxy]\ntimeout = 30\nconnect_ports = {cls.raw.port}\n"
                     f"[http]\nproxy = /big/ http://127.0.0.1:{cls.web.port}/\n")
        super().setUpClass()

    def client(self, port, request):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.settimeout(30)
        s.connect(("127.0.0.1", port))
        s.sendall(request)
        head = b""
        while b"\r\n\r\n" not in head:
            b = s.recv(1)
            self.assertTrue(b, "closed before the head")
            head += b
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        return s

    def wait_stalled(self, origin):
        """Polls until the origin's count has not moved for a second."""
        last, since = -1, time.monotonic()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            n = origin.count()
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= 1.0 and n > 0:
                return n
            time.sleep(0.05)
        raise AssertionError(f"the origin never stalled (sent {last})")

    def drain_and_check(self, s):
        h = hashlib.sha256()
        got = 0
        while got < BODY:
            b = s.recv(1 << 20)
            if not b:
                break
            h.update(b)
            got += len(b)
        s.close()
        self.assertEqual(got, BODY)
        self.assertEqual(h.hexdigest(), expected_sha())

    def test_a_slow_client_pauses_the_origin_of_a_response(self):
        s = self.client(self.server.ports["http"],
                        b"GET /big/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        stalled = self.wait_stalled(self.web)
        self.assertLess(stalled, BOUND, f"the origin sent {stalled} bytes to a stalled client")
        self.drain_and_check(s)

    def test_a_slow_client_pauses_the_other_end_of_a_tunnel(self):
        target = f"127.0.0.1:{self.raw.port}"
        s = self.client(self.server.ports["proxy"],
                        f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        stalled = self.wait_stalled(self.raw)
        self.assertLess(stalled, BOUND, f"the origin sent {stalled} bytes to a stalled client")
        self.drain_and_check(s)


if __name__ == "__main__":
    unittest.main()
