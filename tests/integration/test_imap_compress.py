"""IMAP COMPRESS=DEFLATE (RFC 4978; core/conn_deflate.c). A client whose
side is Python's zlib (raw DEFLATE, each command sync-flushed): after the
uncompressed OK both directions are compressed; APPEND and FETCH of a
1 MiB message round-trip in far fewer bytes; an IDLE session gets an SMTP
delivery's EXISTS through the compressor at once; LOGOUT's last lines
arrive; over STARTTLS the layers stack. Refused: before login, an unknown
mechanism, a second COMPRESS ([COMPRESSIONACTIVE]). A corrupt stream
closes the session; a decompression bomb is an overlong line, answered,
with the server's memory bounded. mbsync (isync) and mutt use it in
test_imap_clients.py. Also: a session that logged in after STARTTLS is
not cut at the pre-login idle limit (the layer below TLS kept it)."""

import base64
import hashlib
import os
import re
import smtplib
import socket
import time
import unittest
import zlib

from imap_common import DOMAIN, Raw, tls_context
from portico import ServerTest, bounded_memory_env

USER = "zed@" + DOMAIN
PW = "compress-pass-4"


class Deflated:
    """An IMAP client compressing its commands and decompressing replies
    (RFC 4978 4: raw DEFLATE, the sender flushes after each command)."""

    def __init__(self, sock):
        self.sock = sock
        self.out = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.inflate = zlib.decompressobj(-15)
        self.buf = b""
        self.wire = 0  # compressed bytes received

    def feed(self, data):
        self.wire += len(data)
        self.buf += self.inflate.decompress(data)

    def send(self, data):
        self.sock.sendall(self.out.compress(data) + self.out.flush(zlib.Z_SYNC_FLUSH))

    def line(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buf:
            if time.monotonic() > deadline:
                raise AssertionError(f"no line; have {self.buf[:200]!r}")
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"closed; have {self.buf[:200]!r}")
            self.feed(data)
        ln, _, self.buf = self.buf.partition(b"\r\n")
        return ln + b"\r\n"

    def literal(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed inside a literal")
            self.feed(data)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def cmd(self, text, tag=None):
        """(untagged lines, tagged line); literals of untagged lines are
        appended to their line."""
        tag = (tag or text.split(" ", 1)[0]).encode()
        self.send(text.encode() + b"\r\n")
        lines = []
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                return lines, ln
            m = re.search(rb"\{(\d+)\}\r\n$", ln)
            if m:
                ln += self.literal(int(m.group(1))) + self.line()
            lines.append(ln)


def message(size):
    body = b"".join(b"line %06d of a compressible body\r\n" % i
                    for i in range(size // 34 + 1))[:size]
    return b"From: a@example.net\r\nSubject: big\r\n\r\n" + body


class CompressTest(ServerTest):
    SERVICES = ("smtp", "imap")
    ENV = bounded_memory_env()  # the bomb test measures RSS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user(USER, PW)

    def start(self, tls=False):
        """A logged-in Raw client, compressed after `b COMPRESS DEFLATE`."""
        r = Raw(self.server.ports["imap"])
        self.addCleanup(r.close)
        if tls:
            _, tagged = r.cmd("s STARTTLS")
            self.assertTrue(tagged.startswith(b"s OK"), tagged)
            r.sock = tls_context().wrap_socket(r.sock)
            r.f = r.sock.makefile("rb")
        _, tagged = r.cmd(f'a LOGIN {USER} "{PW}"')
        self.assertTrue(tagged.startswith(b"a OK"), tagged)
        self.assertIn(b"COMPRESS=DEFLATE", tagged)
        r.send("b COMPRESS DEFLATE\r\n")
        # Nothing follows the OK until the next command: the line reader
        # holds no compressed byte.
        self.assertRegex(r.line(), rb"^b OK ")
        return r, Deflated(r.sock)

    def test_append_and_fetch_round_trip(self):
        r, z = self.start()
        _, tagged = z.cmd("c CAPABILITY")
        self.assertTrue(tagged.startswith(b"c OK"))
        msg = message(1 << 20)
        z.send(b"d APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        self.assertRegex(z.line(), rb"^d OK \[APPENDUID \d+ (\d+)\]")
        lines, tagged = z.cmd("e EXAMINE INBOX")
        self.assertTrue(tagged.startswith(b"e OK"), tagged)
        n = [int(x.split()[1]) for x in lines if x.endswith(b" EXISTS\r\n")][0]
        before = z.wire
        lines, tagged = z.cmd(f"f FETCH {n} BODY.PEEK[]")
        self.assertTrue(tagged.startswith(b"f OK"), tagged)
        self.assertIn(msg, lines[0])
        self.assertLess(z.wire - before, len(msg) // 5)  # compressed on the wire
        _, tagged = z.cmd("g COMPRESS DEFLATE")
        self.assertRegex(tagged, rb"^g NO \[COMPRESSIONACTIVE\]")
        lines, tagged = z.cmd("h LOGOUT")
        self.assertEqual(lines, [b"* BYE portico IMAP4rev2 server signing off\r\n"])
        self.assertTrue(tagged.startswith(b"h OK"))
        self.assertIn("imap compress mechanism=deflate", self.server.stderr())

    def test_capability_after(self):
        r, z = self.start()
        lines, _ = z.cmd("c CAPABILITY")
        self.assertNotIn(b"COMPRESS=DEFLATE", lines[0])
        self.assertIn(b"IDLE", lines[0])

    def test_over_starttls(self):
        r, z = self.start(tls=True)
        lines, tagged = z.cmd("c SELECT INBOX")
        self.assertTrue(tagged.startswith(b"c OK"), tagged)
        lines, tagged = z.cmd("d NOOP")
        self.assertTrue(tagged.startswith(b"d OK"), tagged)

    def test_idle_gets_delivery(self):
        r, z = self.start()
        z.cmd("c SELECT INBOX")
        z.send(b"d IDLE\r\n")
        self.assertTrue(z.line().startswith(b"+ "))
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("a@example.net", [USER], b"Subject: pushed\r\n\r\nhi\r\n")
        self.assertRegex(z.line(timeout=5), rb"^\* \d+ EXISTS")
        z.send(b"DONE\r\n")
        while not z.line().startswith(b"d "):
            pass

    def test_refused_before_login_and_unknown_mechanism(self):
        r = Raw(self.server.ports["imap"])
        self.addCleanup(r.close)
        _, tagged = r.cmd("a COMPRESS DEFLATE")
        self.assertTrue(tagged.startswith(b"a BAD"), tagged)
        self.assertNotIn(b"COMPRESS=DEFLATE", r.greeting)
        _, tagged = r.cmd(f'b LOGIN {USER} "{PW}"')
        self.assertTrue(tagged.startswith(b"b OK"), tagged)
        _, tagged = r.cmd("c COMPRESS LZ4")
        self.assertTrue(tagged.startswith(b"c BAD"), tagged)
        _, tagged = r.cmd("d COMPRESS")
        self.assertTrue(tagged.startswith(b"d BAD"), tagged)
        _, tagged = r.cmd("e NOOP")  # still uncompressed
        self.assertTrue(tagged.startswith(b"e OK"), tagged)

    def test_corrupt_stream_closes(self):
        r, z = self.start()
        r.sock.sendall(b"\xff\xff\xff\xff\x00\x13\x37" * 4)
        r.sock.settimeout(10)
        with self.assertRaises((ConnectionError, OSError)):
            while True:
                data = r.sock.recv(4096)
                if not data:
                    raise ConnectionError("closed")
        fresh = Raw(self.server.ports["imap"])
        self.addCleanup(fresh.close)
        self.assertTrue(fresh.greeting.startswith(b"* OK"))

    def rss_kib(self):
        with open(f"/proc/{self.server.proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def test_large_body_streams_bounded(self):
        """32 MiB that compresses poorly, fetched by a client that reads
        nothing for a second: the output waits in bounded buffers (the
        layer below the compressor holds 256 KiB), then arrives whole."""
        local = USER.split("@")[0]
        d = os.path.join(self.server.data_dir, "users", DOMAIN, local, "mail", ".Big")
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        noise = base64.b64encode(os.urandom(3 << 20))
        lines = b"\n".join(noise[i:i + 76] for i in range(0, len(noise), 76))
        body = b"Subject: noise\n\n" + lines * 8 + b"\n"
        with open(os.path.join(d, "new", "1700000000.noise.host"), "wb") as f:
            f.write(body)
        wire = body.replace(b"\n", b"\r\n")
        r, z = self.start()
        _, tagged = z.cmd("c SELECT Big")
        self.assertTrue(tagged.startswith(b"c OK"), tagged)
        before = self.rss_kib()
        z.send(b"d FETCH 1 BODY.PEEK[]\r\n")
        time.sleep(1)  # the client reads nothing meanwhile
        waiting = self.rss_kib() - before
        head = z.line(timeout=30)
        m = re.match(rb"^\* 1 FETCH \(BODY\[\] \{(\d+)\}\r\n$", head)
        self.assertTrue(m, head)
        self.assertEqual(int(m.group(1)), len(wire))
        got = z.literal(len(wire))
        self.assertEqual(hashlib.sha256(got).digest(), hashlib.sha256(wire).digest())
        self.assertEqual(z.line(), b")\r\n")
        self.assertTrue(z.line().startswith(b"d OK"))
        self.assertLess(waiting, 8 << 10, f"RSS grew {waiting} KiB while unread")
        self.assertGreater(z.wire, len(wire) // 2)  # it did not compress away

    def test_bomb_is_an_overlong_line(self):
        r, z = self.start()
        before = self.rss_kib()
        bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
        wire = bomb.compress(b"x BOMB " + b"a" * (64 << 20)) + bomb.compress(b"\r\n")
        wire += bomb.compress(b"y NOOP\r\n") + bomb.flush(zlib.Z_SYNC_FLUSH)
        self.assertLess(len(wire), 128 << 10)
        z.out = bomb
        r.sock.sendall(wire)
        lines = [z.line(timeout=60)]
        while not lines[-1].startswith(b"y "):
            lines.append(z.line(timeout=60))
        self.assertTrue(any(b"BAD [TOOBIG]" in x for x in lines), lines)
        self.assertTrue(lines[-1].startswith(b"y OK"), lines)
        self.assertLess(self.rss_kib() - before, 8 << 10)  # KiB: not 64 MiB


class StartTlsIdleLimit(ServerTest):
    """The socket's layer under TLS kept the 3 s idle limit of a client
    not logged in ([portico] login_timeout), cutting a logged-in session
    whose limit is 30 minutes."""

    SERVICES = ("imap",)
    EXTRA = "[portico]\nlogin_timeout = 3\n"

    def test_logged_in_after_starttls_outlives_the_login_limit(self):
        self.server.add_user(USER, PW)
        sock = socket.create_connection(("127.0.0.1", self.server.ports["imap"]),
                                        timeout=10)
        self.addCleanup(sock.close)
        f = sock.makefile("rb")
        f.readline()
        sock.sendall(b"s STARTTLS\r\n")
        self.assertTrue(f.readline().startswith(b"s OK"))
        tls = tls_context().wrap_socket(sock)
        f = tls.makefile("rb")
        tls.sendall(f'a LOGIN {USER} "{PW}"\r\n'.encode())
        self.assertTrue(f.readline().startswith(b"a OK"))
        time.sleep(4.5)  # idle past the pre-login limit, well within 30 min
        tls.sendall(b"b NOOP\r\n")
        self.assertTrue(f.readline().startswith(b"b OK"))

    def test_idle_before_login_still_cut(self):
        r = Raw(self.server.ports["imap"])
        self.addCleanup(r.close)
        start = time.monotonic()
        self.assertTrue(r.line().startswith(b"* BYE autologout"))
        self.assertLess(time.monotonic() - start, 8)


if __name__ == "__main__":
    unittest.main()
