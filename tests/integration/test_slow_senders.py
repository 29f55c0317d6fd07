"""Slow senders (issue 14): a client trickling a byte at a time, each
within the idle timeout, is still dropped at the phase's total deadline:
before login ([portico] login_timeout) on POP3, IMAP, FTP and submission,
in SMTP DATA ([smtp] data_timeout), and an HTTP body below the minimum
rate gets 408. A logged-in session is not cut."""

import socket
import time
import unittest

from portico import Server


def trickle(port, first, byte, limit=15.0, pace=0.3):
    """Sends `first` then `byte` every `pace` seconds until the server
    closes; returns (seconds until closed, everything received)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=limit)
    got = b""
    start = time.monotonic()
    try:
        s.settimeout(pace)
        if first:
            s.sendall(first)
        while time.monotonic() - start < limit:
            try:
                data = s.recv(4096)
                if not data:
                    break
                got += data
            except socket.timeout:
                pass
            try:
                s.sendall(byte)
            except OSError:
                break
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    return time.monotonic() - start, got


class SlowSenders(unittest.TestCase):
    EXTRA = ("[portico]\nlogin_timeout = 2\n[smtp]\ndata_timeout = 2\n"
             "[auth]\nallow_plaintext_auth = yes\n")

    @classmethod
    def setUpClass(cls):
        cls.server = Server(services=("smtp", "submission", "pop3", "imap", "ftp", "http"),
                            extra=cls.EXTRA, tls=False)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        cls.server.add_user("alice@example.org", "pw-alice-123")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_login_deadline(self):
        for svc, goodbye in (("pop3", b"-ERR autologout"), ("imap", b"* BYE autologout"),
                             ("ftp", b"421 "), ("submission", b"421 4.4.2")):
            took, got = trickle(self.server.ports[svc], b"", b"X")
            self.assertLess(took, 8, svc)
            self.assertIn(goodbye, got, svc)

    def test_smtp_data_deadline(self):
        first = (b"EHLO client.example\r\nMAIL FROM:<a@example.net>\r\n"
                 b"RCPT TO:<alice@example.org>\r\nDATA\r\n")
        took, got = trickle(self.server.ports["smtp"], first, b"x")
        self.assertIn(b"354 ", got)
        self.assertIn(b"421 4.4.2", got)
        self.assertLess(took, 8)

    def test_http_body_minimum_rate(self):
        head = (b"PUT /files/slow.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                b"Authorization: Basic YWxpY2VAZXhhbXBsZS5vcmc6cHctYWxpY2UtMTIz\r\n\r\n")
        took, got = trickle(self.server.ports["http"], head, b"x", limit=30)
        self.assertIn(b"408", got.split(b"\r\n")[0])
        self.assertLess(took, 20)

    def test_logged_in_session_is_not_cut(self):
        with socket.create_connection(("127.0.0.1", self.server.ports["pop3"]),
                                      timeout=10) as s:
            f = s.makefile("rb")
            f.readline()
            s.sendall(b"USER alice@example.org\r\nPASS pw-alice-123\r\n")
            f.readline()
            self.assertTrue(f.readline().startswith(b"+OK"))
            deadline = time.monotonic() + 3  # past the login deadline
            while time.monotonic() < deadline:
                s.sendall(b"NOOP\r\n")
                self.assertTrue(f.readline().startswith(b"+OK"))
                time.sleep(0.5)  # pacing the client, not waiting on the server


if __name__ == "__main__":
    unittest.main()
