"""Shared pieces of the SFTP integration tests: a server class with SFTP
(and optionally FTP/HTTP) and one account with a password and two keys
(ed25519 and RSA, made by ssh-keygen), OpenSSH command lines, and paramiko.

paramiko is Debian's python3-paramiko, installed for /usr/bin/python3; the
test runner's python3 may be another build (pyenv), so Debian's
dist-packages directory is appended to sys.path before importing it."""

import logging
import os
import subprocess
import sys
import tempfile
import warnings

from ftp_common import passive_extra
from portico import ServerTest

sys.path.append("/usr/lib/python3/dist-packages")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import paramiko  # noqa: E402
# Sessions the server cuts on purpose would print paramiko's thread errors.
logging.getLogger("paramiko").setLevel(logging.CRITICAL)

USER = "alice@example.org"
PASSWORD = "correct horse battery"
UPLOAD_PREFIX = ".portico-up-"
SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"]


class SftpServerTest(ServerTest):
    """One portico with SFTP (plus SERVICES_MORE), the account USER with
    PASSWORD, and keys self.key_ed / self.key_rsa (private key paths)
    registered with `portico user key add`."""

    SERVICES = ("sftp",)
    MORE = ""
    ADD_KEYS = True

    @classmethod
    def setUpClass(cls):
        cls.EXTRA = passive_extra() + "\n" + cls.MORE if "ftp" in cls.SERVICES else cls.MORE
        super().setUpClass()
        cls.server.add_user(USER, PASSWORD)
        cls.keydir = tempfile.TemporaryDirectory(prefix="portico-keys-")
        cls.addClassCleanup(cls.keydir.cleanup)
        cls.key_ed = cls.make_key("ed25519")
        cls.key_rsa = cls.make_key("rsa", "-b", "3072")
        if cls.ADD_KEYS:
            for k in (cls.key_ed, cls.key_rsa):
                cls.server.cli("user", "key", "add", USER, k + ".pub")

    @classmethod
    def make_key(cls, kind, *more, name=None):
        path = os.path.join(cls.keydir.name, name or "id_" + kind)
        subprocess.run(["ssh-keygen", "-q", "-t", kind, *more, "-N", "", "-C", "test-" + kind,
                        "-f", path], check=True, timeout=60)
        return path

    @classmethod
    def port(cls):
        return cls.server.ports["sftp"]

    @classmethod
    def files_dir(cls):
        d = os.path.join(cls.server.data_dir, "users", "example.org", "alice", "files")
        os.makedirs(d, exist_ok=True)
        return d

    def ssh_base(self, prog, key=None, port_flag="-P"):
        cmd = [prog, port_flag, str(self.port())] + SSH_OPTS + ["-o", "BatchMode=yes"]
        return cmd + ["-i", key or self.key_ed]

    def sftp_batch(self, commands, key=None, check=True, timeout=120):
        """Runs `sftp -b -` with the commands; returns CompletedProcess."""
        cmd = self.ssh_base("sftp", key) + ["-b", "-", f"{USER}@127.0.0.1"]
        p = subprocess.run(cmd, input="\n".join(commands) + "\n", capture_output=True,
                           text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"sftp failed {p.returncode}:\n{p.stdout}\n{p.stderr}")
        return p

    def askpass_env(self, password):
        """SSH_ASKPASS with a tiny script: how OpenSSH logs in by password
        without a terminal (no sshpass here)."""
        script = os.path.join(self.keydir.name, "askpass.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\ncat \"$(dirname \"$0\")/askpass.txt\"\n")
        os.chmod(script, 0o700)
        with open(os.path.join(self.keydir.name, "askpass.txt"), "w") as f:
            f.write(password + "\n")
        env = dict(os.environ, SSH_ASKPASS=script, SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
        return env

    def paramiko_client(self, password=PASSWORD, key=None):
        """A paramiko SFTPClient logged in by password (or key)."""
        t = paramiko.Transport(("127.0.0.1", self.port()))
        t.banner_timeout = 30
        if key:
            t.connect(username=USER, pkey=paramiko.Ed25519Key.from_private_key_file(key))
        else:
            t.connect(username=USER, password=password)
        c = paramiko.SFTPClient.from_transport(t)
        self.addCleanup(t.close)
        return c


class RawSftp:
    """SFTP packets by hand over a paramiko session channel, for what real
    clients never send (a 4 GiB length, 10,000 handles, requests nobody
    reads the answers to). The SSH layer is still paramiko's."""

    def __init__(self, test, window=None):
        kw = {"window_size": window} if window else {}
        self.t = paramiko.Transport(("127.0.0.1", test.port()))
        self.t.connect(username=USER, password=PASSWORD)
        test.addCleanup(self.t.close)
        self.ch = self.t.open_session(**kw)
        self.ch.settimeout(30)
        self.ch.invoke_subsystem("sftp")
        self.buf = b""

    @staticmethod
    def s(b):
        if isinstance(b, str):
            b = b.encode()
        return len(b).to_bytes(4, "big") + b

    def send(self, ptype, payload, rid=None):
        body = bytes([ptype]) + (rid.to_bytes(4, "big") if rid is not None else b"") + payload
        self.ch.sendall(len(body).to_bytes(4, "big") + body)

    def recv(self):
        """One packet: (type, body after the type byte); None at EOF."""
        while True:
            if len(self.buf) >= 4:
                n = int.from_bytes(self.buf[:4], "big")
                if len(self.buf) >= 4 + n:
                    pkt, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    return pkt[0], pkt[1:]
            chunk = self.ch.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def init(self):
        self.send(1, (3).to_bytes(4, "big"))
        t, body = self.recv()
        assert t == 2 and body[:4] == (3).to_bytes(4, "big"), (t, body)
        return body
