"""Disk full (issue 14): SMTP answers 452 4.3.1 (RFC 3463 3.4 "Mail system
full"), not 451 4.3.0, when the spool cannot be written; the server then
goes on serving. The server runs in a mount namespace of its own where the
spool directory is a 1 MiB tmpfs (needs root; skipped otherwise)."""

import os
import shutil
import smtplib
import stat
import unittest

import portico
from portico import Server


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"),
                     "needs root and unshare(1) for a private tmpfs")
class DiskFull(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(services=("smtp",), tls=False)
        cls.addClassCleanup(cls.server.cleanup)
        wrapper = os.path.join(cls.server.tmp.name, "in-namespace")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\n'
                    'exec unshare -m --propagation private sh -c \''
                    'mkdir -p "$0/queue" && mount -t tmpfs -o size=1m tmpfs "$0/queue"'
                    ' && exec "$@"\' "%s" "%s" "$@"\n'
                    % (cls.server.data_dir, os.path.abspath(portico.BIN)))
        os.chmod(wrapper, stat.S_IRWXU)
        real, portico.BIN = portico.BIN, wrapper
        try:
            cls.server.start()
        finally:
            portico.BIN = real
        cls.server.add_user("alice@example.org", "pw-alice-123")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def send(self, size):
        body = b"Subject: big\r\n\r\n" + b"x" * 76 + b"\r\n"
        body = body * (size // len(body) + 1)
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=30) as c:
            c.ehlo("client.example")
            c.mail("sender@example.net")
            c.rcpt("alice@example.org")
            c.putcmd("data")
            code, _ = c.getreply()
            self.assertEqual(code, 354)
            c.send(body + b".\r\n")
            return c.getreply()

    def test_full_spool_is_452_4_3_1(self):
        code, text = self.send(3 << 20)
        self.assertEqual(code, 452, text)
        self.assertTrue(text.startswith(b"4.3.1"), text)
        # The space is given back: a small message still goes through.
        code, text = self.send(10000)
        self.assertEqual(code, 250, text)


if __name__ == "__main__":
    unittest.main()
