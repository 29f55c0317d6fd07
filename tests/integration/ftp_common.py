"""Shared pieces of the FTP integration tests: a passive port range nobody
else on this (shared) machine is using, a server class with one account,
and small helpers over ftplib."""

import ftplib
import io
import os
import random
import socket
import ssl

from portico import ServerTest

USER = "alice@example.org"
PASSWORD = "correct horse battery"
# The name uploads in progress have (src/store/sandbox.h STORE_UPLOAD_PREFIX).
UPLOAD_PREFIX = ".portico-up-"


def passive_range(width=16):
    """A run of free ports, picked at random in 31000-39999 so that parallel
    test runs (other engineers' too) rarely collide."""
    for _ in range(200):
        lo = random.randrange(31000, 40000 - width)
        socks = []
        try:
            for p in range(lo, lo + width):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return lo, lo + width - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free passive port range")


def passive_extra(more=""):
    lo, hi = passive_range()
    return f"[ftp]\npassive_ports = {lo}-{hi}\n{more}"


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class FtpServerTest(ServerTest):
    """One portico with FTP only and the account USER; files_dir() is its
    FTP root on disk."""

    SERVICES = ("ftp",)
    MORE = ""

    @classmethod
    def setUpClass(cls):
        cls.EXTRA = passive_extra(cls.MORE)
        super().setUpClass()
        cls.server.add_user(USER, PASSWORD)

    @classmethod
    def files_dir(cls):
        d = os.path.join(cls.server.data_dir, "users", "example.org", "alice", "files")
        os.makedirs(d, exist_ok=True)
        return d

    def port(self, tls=False):
        return self.server.ports["ftp_tls" if tls else "ftp"]

    def ftp(self, login=True):
        f = ftplib.FTP()
        f.connect("127.0.0.1", self.port(), timeout=30)
        if login:
            f.login(USER, PASSWORD)
        return f

    def ftps(self):
        f = ftplib.FTP_TLS(context=tls_context())
        f.connect("127.0.0.1", self.port(), timeout=30)
        f.login(USER, PASSWORD)
        f.prot_p()
        return f

    def put(self, f, name, data):
        return f.storbinary("STOR " + name, io.BytesIO(data))

    def get(self, f, name, rest=None):
        out = io.BytesIO()
        f.retrbinary("RETR " + name, out.write, rest=rest)
        return out.getvalue()

    def assert_serves(self):
        """The server still answers a fresh client."""
        f = self.ftp()
        self.assertTrue(f.voidcmd("NOOP").startswith("200"))
        f.quit()

    def assert_code(self, code, fn, *args):
        with self.assertRaises(ftplib.Error) as cm:
            fn(*args)
        self.assertTrue(str(cm.exception).startswith(str(code)), str(cm.exception))
        return str(cm.exception)

    def raw_transfer(self, f, cmd, passive="PASV"):
        """Opens a passive data connection and sends cmd; returns the socket
        and the preliminary reply (ftplib's transfercmd, spelled out)."""
        if passive == "EPSV":
            port = ftplib.parse229(f.sendcmd("EPSV"), f.sock.getpeername())[1]
        else:
            port = ftplib.parse227(f.sendcmd("PASV"))[1]
        conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        resp = f.sendcmd(cmd)
        return conn, resp
