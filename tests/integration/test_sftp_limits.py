"""SFTP limits and abuse: a packet announcing 4 GiB, 10,000 open handles,
a client that never reads, the login and idle timeouts, sessions per
address, shell/exec/port-forwarding refused, wrong passwords and keys
throttled, and SIGKILL during uploads (every CLOSEd file intact)."""

import os
import re
import signal
import socket
import subprocess
import threading
import time

from portico import Server, wait_until
from sftp_common import (PASSWORD, SSH_OPTS, UPLOAD_PREFIX, USER, RawSftp, SftpServerTest,
                         paramiko)


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class SftpAbuse(SftpServerTest):
    MORE = "[sftp]\nidle_timeout = 3\nlogin_timeout = 3\n"

    def test_packet_announcing_4gib_ends_the_session(self):
        raw = RawSftp(self)
        raw.init()
        raw.ch.sendall(b"\xff\xff\xff\xff\x06\x00\x00\x00\x01")
        self.assertIsNone(raw.recv())  # the channel closes, nothing is read
        wait_until(lambda: "packet_too_large" in self.server.stderr(), what="log line")
        c = self.paramiko_client()  # and the server goes on
        self.assertEqual(c.normalize("."), "/")

    def test_10000_open_handles(self):
        with open(os.path.join(self.files_dir(), "h.txt"), "wb") as f:
            f.write(b"x")
        fds_before = open_fds(self.server.proc.pid)
        raw = RawSftp(self)
        raw.init()
        n = 10000
        payload = RawSftp.s("h.txt") + (1).to_bytes(4, "big") + (0).to_bytes(4, "big")
        sender = threading.Thread(target=lambda: [raw.send(3, payload, i) for i in range(n)])
        sender.start()
        kinds = {}
        for _ in range(n):
            t, body = raw.recv()
            kinds[t] = kinds.get(t, 0) + 1
        sender.join(60)
        self.assertEqual(kinds.get(102), 256)  # SSH_FXP_HANDLE: SFTP_MAX_HANDLES
        self.assertEqual(kinds.get(101), n - 256)  # SSH_FXP_STATUS failures
        self.assertLess(open_fds(self.server.proc.pid), fds_before + 256 + 32)
        raw.t.close()
        wait_until(lambda: open_fds(self.server.proc.pid) < fds_before + 16, timeout=15,
                   what="handles closed with the session")

    def test_client_that_never_reads(self):
        with open(os.path.join(self.files_dir(), "big.bin"), "wb") as f:
            f.write(os.urandom(8 << 20))
        raw = RawSftp(self)
        raw.init()
        raw.send(3, RawSftp.s("big.bin") + (1).to_bytes(4, "big") + (0).to_bytes(4, "big"), 1)
        t, body = raw.recv()
        self.assertEqual(t, 102)
        handle = body[8:]
        for i in range(256):  # 8 MiB asked for, nothing read back
            raw.send(5, RawSftp.s(handle) + (i * 32768).to_bytes(8, "big") +
                     (32768).to_bytes(4, "big"), 10 + i)
        other = self.paramiko_client()  # other sessions are served meanwhile
        self.assertEqual(other.stat("big.bin").st_size, 8 << 20)
        wait_until(lambda: re.search(r"sftp timeout state=idle", self.server.stderr()),
                   timeout=20, what="idle timeout of the stuck session")
        wait_until(lambda: not raw.t.is_active() or raw.ch.closed, timeout=20,
                   what="the stuck session closed")

    def test_login_timeout(self):
        s = socket.create_connection(("127.0.0.1", self.port()), timeout=20)
        banner = s.recv(100)
        self.assertTrue(banner.startswith(b"SSH-2.0-portico"), banner)
        t0 = time.monotonic()
        s.settimeout(20)
        rest = b""
        while True:  # nothing sent: the server hangs up after login_timeout
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
        self.assertLess(time.monotonic() - t0, 15)
        s.close()
        self.assertIn("sftp timeout state=login", self.server.stderr())

    def ssh(self, *args, key=None):
        cmd = ["ssh", "-p", str(self.port())] + SSH_OPTS + ["-o", "BatchMode=yes", "-i",
                                                           key or self.key_ed]
        return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)

    def test_shell_and_exec_refused_with_a_message(self):
        for extra in (["-T", f"{USER}@127.0.0.1"], [f"{USER}@127.0.0.1", "ls", "/"]):
            with self.subTest(args=extra):
                p = self.ssh(*extra)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn("this server offers only SFTP", p.stderr)
        src = os.path.join(self.keydir.name, "scp-src")
        with open(src, "w") as f:
            f.write("x")
        p = subprocess.run(["scp", "-O", "-P", str(self.port())] + SSH_OPTS +
                           ["-o", "BatchMode=yes", "-i", self.key_ed, src,
                            f"{USER}@127.0.0.1:legacy"], capture_output=True, text=True,
                           timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("this server offers only SFTP", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.files_dir(), "legacy")))

    def test_port_forwarding_refused(self):
        p = self.ssh("-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9",
                     f"{USER}@127.0.0.1")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("forwarding failed", p.stderr)
        p = self.ssh("-W", "127.0.0.1:22", f"{USER}@127.0.0.1")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("forwarding failed", p.stderr)
        log = self.server.stderr()
        self.assertIn("sftp refused global_request", log)
        self.assertIn("sftp refused channel=direct-tcpip", log)


class SftpSessionsPerAddress(SftpServerTest):
    MORE = "[sftp]\nmax_sessions_per_ip = 3\n"

    def test_fourth_session_refused(self):
        held = [self.paramiko_client() for _ in range(3)]
        with self.assertRaises((paramiko.SSHException, EOFError, OSError)):
            t = paramiko.Transport(("127.0.0.1", self.port()))
            self.addCleanup(t.close)
            t.banner_timeout = 10
            t.connect(username=USER, password=PASSWORD)
        self.assertIn("reason=too_many_sessions", self.server.stderr())
        held[0].get_channel().get_transport().close()
        wait_until(lambda: self.server.stderr().count("sftp disconnect") >= 2, timeout=15,
                   what="the first session gone")
        self.assertEqual(self.paramiko_client().normalize("."), "/")


class SftpThrottle(SftpServerTest):
    """Own server: these failures lock 127.0.0.1 out for a while (loopback
    is taken out of [auth] trusted_networks, whose addresses are never
    refused)."""

    MORE = "[auth]\ntrusted_networks = 192.0.2.0/24\n"

    def test_wrong_password_then_wrong_key_lock_out(self):
        times = []
        for _ in range(5):
            t = paramiko.Transport(("127.0.0.1", self.port()))
            self.addCleanup(t.close)
            t0 = time.monotonic()
            with self.assertRaises(paramiko.AuthenticationException):
                t.connect(username=USER, password="wrong")
            times.append(time.monotonic() - t0)
            t.close()
        self.assertGreaterEqual(times[4], 0.9)  # growing delay after 3 failures
        self.assertEqual(self.server.stderr().count("method=password result=fail"), 5)
        stranger = self.make_key("ed25519", name="stranger")  # not registered
        for i in range(6):
            p = self.sftp_batch(["pwd"], key=stranger, check=False)
            self.assertNotEqual(p.returncode, 0)
        wait_until(lambda: self.server.stderr().count("method=publickey result=fail") >= 5,
                   what="key failures counted")
        # 10 failures: now even the right key and password are refused
        p = self.sftp_batch(["pwd"], check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("result=locked", self.server.stderr())
        t = paramiko.Transport(("127.0.0.1", self.port()))
        self.addCleanup(t.close)
        with self.assertRaises(paramiko.AuthenticationException):
            t.connect(username=USER, password=PASSWORD)


class SftpCrash(SftpServerTest):
    """SIGKILL while uploads run: every file whose CLOSE was answered OK is
    intact after a restart, and the unfinished ones are swept."""

    def test_sigkill_during_uploads(self):
        done = []
        stop = threading.Event()

        def uploader(k):
            try:
                c = self.paramiko_client()
                for i in range(1000):
                    if stop.is_set():
                        return
                    data = (f"{k}-{i}-".encode() * 40000)[:300000]
                    with c.open(f"u{k}-{i}.bin", "wb") as f:
                        f.write(data)
                    done.append((f"u{k}-{i}.bin", data))  # CLOSE answered OK
            except Exception:
                return

        threads = [threading.Thread(target=uploader, args=(k,), daemon=True) for k in range(4)]
        for t in threads:
            t.start()
        wait_until(lambda: len(done) >= 12, timeout=60, what="some uploads closed")
        self.server.kill()
        stop.set()
        for t in threads:
            t.join(30)
        acked = list(done)
        root = self.files_dir()
        for name, data in acked:
            with open(os.path.join(root, name), "rb") as f:
                self.assertEqual(f.read(), data, name)
        # restart on the same data: the crashed run's temp files are swept
        again = Server(services=("sftp",), data_dir=self.server.data_dir)
        self.addCleanup(again.cleanup)
        again.start()
        wait_until(lambda: not [n for n in os.listdir(root) if n.startswith(UPLOAD_PREFIX)],
                   timeout=20, what="temp files swept")
        for name, data in acked:
            with open(os.path.join(root, name), "rb") as f:
                self.assertEqual(f.read(), data, name)
        again.stop()
