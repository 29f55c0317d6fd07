"""FTP (issue 5) limits and policies: quota (452, partial upload removed),
anonymous read-only access, idle and data-connection timeouts, and the
per-address session limit; each checks that the server still serves."""

import ftplib
import os
import socket
import tempfile
import time
import unittest

import ftp_common
from ftp_common import FtpServerTest
from portico import wait_until


class FtpQuota(FtpServerTest):
    MORE = "quota = 1M\n"

    def test_quota_exceeded(self):
        f = self.ftp()
        self.put(f, "small.bin", os.urandom(300000))
        conn = f.transfercmd("STOR big.bin")
        try:
            conn.sendall(os.urandom(2 << 20))
        except OSError:
            pass  # the server closed the data connection at the limit
        conn.close()
        with self.assertRaises(ftplib.error_temp) as cm:
            f.voidresp()
        self.assertTrue(str(cm.exception).startswith("452"), str(cm.exception))
        names = os.listdir(self.files_dir())
        self.assertEqual(names, ["small.bin"])  # no half-file, no temp file
        # APPE past the quota is cut back to the size it had.
        conn = f.transfercmd("APPE small.bin")
        try:
            conn.sendall(os.urandom(2 << 20))
        except OSError:
            pass
        conn.close()
        with self.assertRaises(ftplib.error_temp):
            f.voidresp()
        self.assertEqual(os.path.getsize(os.path.join(self.files_dir(), "small.bin")), 300000)
        # Room is left for a small file, and replacing a file counts its old size.
        self.assertTrue(self.put(f, "more.bin", os.urandom(500000)).startswith("226"))
        self.assertTrue(self.put(f, "more.bin", os.urandom(600000)).startswith("226"))
        f.quit()
        self.assert_serves()


class FtpAnonymous(FtpServerTest):
    PUBLIC = tempfile.mkdtemp(prefix="portico-anon-")
    MORE = f"anonymous_root = {PUBLIC}\n"

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        for name in os.listdir(cls.PUBLIC):
            os.unlink(os.path.join(cls.PUBLIC, name))
        os.rmdir(cls.PUBLIC)

    def test_read_only(self):
        with open(os.path.join(self.PUBLIC, "readme.txt"), "wb") as fh:
            fh.write(b"public\n")
        f = ftplib.FTP()
        f.connect("127.0.0.1", self.port(), timeout=30)
        self.assertTrue(f.login().startswith("230"))  # anonymous / anonymous@
        self.assertEqual(f.nlst(), ["readme.txt"])
        self.assertEqual(self.get(f, "readme.txt"), b"public\n")
        self.assertEqual(dict(f.mlsd())["readme.txt"]["perm"], "r")
        for fn, args in ((self.put, (f, "x.txt", b"x")), (f.mkd, ("d",)),
                         (f.delete, ("readme.txt",)), (f.rename, ("readme.txt", "y")),
                         (f.sendcmd, ("SITE CHMOD 777 readme.txt",)),
                         (f.sendcmd, ("APPE readme.txt",))):
            self.assert_code(550, fn, *args)
        self.assertEqual(os.listdir(self.PUBLIC), ["readme.txt"])
        f.quit()
        self.assert_serves()


class FtpTimeoutsAndLimits(FtpServerTest):
    MORE = "idle_timeout = 2\ndata_timeout = 2\n[portico]\nmax_connections_per_ip = 4\n"

    def test_idle_timeout(self):
        f = self.ftp()
        start = time.monotonic()
        self.assertTrue(f.getline().startswith("421"))  # blocks until the server speaks
        self.assertGreaterEqual(time.monotonic() - start, 1.5)
        self.assertEqual(f.sock.recv(10), b"")
        self.assert_serves()

    def test_data_timeout(self):
        f = self.ftp()
        self.put(f, "d.txt", b"data")
        f.sendcmd("PASV")
        f.putcmd("RETR d.txt")  # never connects: 425 once the listener expires
        resp = f.getline()
        if resp.startswith("1"):
            resp = f.getline()
        self.assertTrue(resp.startswith("425"), resp)
        self.assertTrue(f.voidcmd("NOOP").startswith("200"))
        f.quit()

    def test_transfer_over_tls_outlasts_the_idle_limit(self):
        """The control connection has no idle limit during a transfer
        (RFC 959 5.4); after AUTH TLS the socket's layer below TLS kept
        idle_timeout and cut the control connection mid-transfer."""
        f = ftplib.FTP_TLS(context=ftp_common.tls_context())
        f.connect("127.0.0.1", self.port(), timeout=30)
        f.login(ftp_common.USER, ftp_common.PASSWORD)  # AUTH TLS first
        f.prot_p()
        conn = f.transfercmd("STOR slow.bin")
        for _ in range(9):  # 4.5 s in all; each pause within data_timeout
            conn.sendall(b"z" * 1000)
            time.sleep(0.5)
        conn.unwrap()
        conn.close()
        self.assertTrue(f.voidresp().startswith("226"))
        self.assertEqual(os.path.getsize(os.path.join(self.files_dir(), "slow.bin")), 9000)
        self.assertTrue(f.voidcmd("NOOP").startswith("200"))
        f.quit()

    def test_sessions_per_address(self):
        held = [socket.create_connection(("127.0.0.1", self.port()), timeout=10)
                for _ in range(4)]
        for s in held:
            self.assertTrue(s.recv(100).startswith(b"220"))
        extra = socket.create_connection(("127.0.0.1", self.port()), timeout=10)
        self.assertTrue(extra.recv(100).startswith(b"421"))
        extra.close()
        for s in held:
            s.close()
        # Every slot comes back: the server may notice the closes in any
        # order, so wait until four sessions are greeted at once.
        wait_until(lambda: self.greets_sessions(4), what="four sessions once the others closed")

    def greets_sessions(self, count):
        socks = [socket.create_connection(("127.0.0.1", self.port()), timeout=10)
                 for _ in range(count)]
        try:
            return all(s.recv(100).startswith(b"220") for s in socks)
        finally:
            for s in socks:
                s.close()

if __name__ == "__main__":
    unittest.main()


class FtpRequireTlsData(FtpServerTest):
    """[ftp] require_tls_data (issue 14): over a TLS control connection,
    PROT C is refused (534) and a transfer without PROT P gets 521; plain
    control connections are unaffected."""

    MORE = "require_tls_data = yes\n"

    def test_clear_data_refused_over_tls(self):
        f = ftplib.FTP_TLS(context=ftp_common.tls_context())
        f.connect("127.0.0.1", self.port(), timeout=30)
        f.login(ftp_common.USER, ftp_common.PASSWORD)
        f.voidcmd("PBSZ 0")
        self.assert_code(534, f.prot_c)
        self.assert_code(521, f.nlst)
        f.prot_p()
        self.assertTrue(self.put(f, "secret.bin", b"x" * 1000).startswith("226"))
        self.assertEqual(self.get(f, "secret.bin"), b"x" * 1000)
        f.quit()
        plain = self.ftp()
        self.assertEqual(self.get(plain, "secret.bin"), b"x" * 1000)
        plain.quit()


class FtpPassivePerAccount(FtpServerTest):
    """Passive listeners (issue 14): one account may hold at most
    max_passive_per_account over its sessions, so others still get a port,
    and an unused listener closes after passive_timeout."""

    MORE = "max_passive_per_account = 2\npassive_timeout = 1\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user("bob@example.org", "bob password 1")

    def test_one_account_cannot_take_every_port(self):
        sessions = [self.ftp() for _ in range(3)]
        try:
            ports = [s.makepasv()[1] for s in sessions[:2]]
            self.assertEqual(len(set(ports)), 2)
            self.assert_code(425, sessions[2].makepasv)
            bob = ftplib.FTP()
            bob.connect("127.0.0.1", self.port(), timeout=30)
            bob.login("bob@example.org", "bob password 1")
            self.assertTrue(bob.makepasv()[1] > 0)
            bob.quit()
        finally:
            for s in sessions:
                s.close()

    def test_unused_listener_closes(self):
        f = self.ftp()
        port = f.makepasv()[1]

        def closed():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return False
            except OSError:
                return True

        wait_until(closed, timeout=10, what="unused passive listener closed")
        # The slot is free again for this account.
        g, h = self.ftp(), self.ftp()
        self.assertTrue(g.makepasv()[1] > 0)
        self.assertTrue(h.makepasv()[1] > 0)
        for s in (f, g, h):
            s.close()
