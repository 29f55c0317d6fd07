"""Resource exhaustion (issue 14): running out of descriptors, the global
connection cap and its own reply, and clients that never read their
replies (bounded output per connection, memory returned after they go)."""

import os
import resource
import socket
import time
import unittest

from portico import Server, bounded_memory_env, wait_until


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def asan(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def greeting(port, timeout=10):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        return s.recv(512).decode(errors="replace")


def hold(port, n, ok):
    """n connections whose greeting starts with ok (the server may still be
    releasing the readiness probes' slots, so a refusal is retried)."""
    held = []

    def one_more():
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if s.recv(200).startswith(ok):
            held.append(s)
        else:
            s.close()
        return len(held) == n

    wait_until(one_more, what=f"{n} connections held")
    return held


def raise_own_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class ResourceServer(unittest.TestCase):
    SERVICES = ("smtp", "pop3", "imap", "ftp", "http")
    EXTRA = ""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(services=cls.SERVICES, extra=cls.EXTRA, tls=False,
                            env=bounded_memory_env())
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()


class ServerFull(ResourceServer):
    """[portico] max_connections: the next client gets the protocol's
    "too many connections" reply, distinct from the per-address one."""

    EXTRA = "[portico]\nmax_connections = 4\nmax_connections_per_ip = 1000\n"

    def test_each_protocol_says_server_full(self):
        held = hold(self.server.ports["pop3"], 4, b"+OK")
        try:
            expect = {"smtp": "421 4.3.2 ", "pop3": "-ERR [SYS/TEMP] too many connections, try",
                      "imap": "* BYE [UNAVAILABLE] too many connections, try",
                      "ftp": "421 Too many connections, try"}
            for svc, want in expect.items():
                self.assertTrue(greeting(self.server.ports[svc]).startswith(want), svc)
            with socket.create_connection(("127.0.0.1", self.server.ports["http"])) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                answer = s.recv(4096).decode()
            self.assertIn("503", answer.split("\r\n")[0])
            self.assertIn("try again later", answer)
        finally:
            for s in held:
                s.close()
        wait_until(lambda: greeting(self.server.ports["pop3"]).startswith("+OK"),
                   what="a slot free again")


class PeerLimit(ResourceServer):
    """The per-address limit says so, not "too many errors"."""

    SERVICES = ("smtp", "pop3")
    EXTRA = "[portico]\nmax_connections_per_ip = 2\n"

    def test_per_address_reply(self):
        held = hold(self.server.ports["smtp"], 2, b"220")
        try:
            self.assertTrue(greeting(self.server.ports["smtp"]).startswith(
                "421 4.7.0 Too many connections from your address"))
            self.assertTrue(greeting(self.server.ports["pop3"]).startswith(
                "-ERR [SYS/TEMP] too many connections from your address"))
        finally:
            for s in held:
                s.close()


class OutOfDescriptors(ResourceServer):
    """EMFILE on accept: the listener pauses instead of spinning, it is
    logged once per interval, and service resumes when descriptors free."""

    SERVICES = ("pop3",)
    EXTRA = "[portico]\nmax_connections = 100000\nmax_connections_per_ip = 100000\n"

    def test_soft_limit_raised_to_hard(self):
        with open(f"/proc/{self.server.proc.pid}/limits") as f:
            line = next(l for l in f if l.startswith("Max open files"))
        soft, hard = line.split()[3:5]
        self.assertEqual(soft, hard)

    def test_emfile_does_not_spin(self):
        pid = self.server.proc.pid
        port = self.server.ports["pop3"]
        used = len(os.listdir(f"/proc/{pid}/fd"))
        limit = used + 40
        hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)[1]
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, hard))
        held = []
        try:
            for _ in range(80):  # half of them wait in the backlog
                held.append(socket.create_connection(("127.0.0.1", port)))
            wait_until(lambda: len(os.listdir(f"/proc/{pid}/fd")) >= limit - 2,
                       what="descriptors exhausted")
            log_before = len(self.server.stderr())
            cpu_before = cpu_seconds(pid)
            t0 = time.monotonic()
            time.sleep(2.0)  # measuring CPU over an interval; nothing to wait on
            cpu = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - t0)
            logged = self.server.stderr()[log_before:]
            self.assertLess(cpu, 0.3, "accept loop spins")
            self.assertLessEqual(logged.count("accept failed"), 1)
        finally:
            for s in held:
                s.close()
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (hard, hard))
        wait_until(lambda: greeting(port).startswith("+OK"), what="accepting again")


class NonReadingClients(ResourceServer):
    """2,000 clients pipeline commands and never read: each costs less than
    64 KiB, and after they close RSS is back within 16 MiB of the start."""

    SERVICES = ("pop3",)
    EXTRA = "[portico]\nmax_connections = 100000\nmax_connections_per_ip = 100000\n"
    CLIENTS = 2000

    def test_bounded_output_and_memory_returned(self):
        if raise_own_nofile(self.CLIENTS + 100) < self.CLIENTS + 100:
            self.skipTest("not enough descriptors for the test client")
        pid = self.server.proc.pid
        port = self.server.ports["pop3"]
        # Warm up the allocator and libevent with a few ordinary sessions.
        for _ in range(20):
            greeting(port)
        wait_until(lambda: " session_end " in self.server.stderr(), what="warm-up")
        start = rss_kib(pid)
        burst = b"CAPA\r\n" * 4000  # about 600 KB of replies each
        socks = []
        try:
            for _ in range(self.CLIENTS):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.connect(("127.0.0.1", port))
                s.setblocking(False)
                try:
                    s.send(burst)
                except BlockingIOError:
                    pass
                socks.append(s)
            # Wait until every session has stopped reading (its output full):
            # RSS stops growing.
            last = [0, time.monotonic()]

            def settled():
                now = rss_kib(pid)
                if abs(now - last[0]) > 1024:
                    last[0], last[1] = now, time.monotonic()
                return time.monotonic() - last[1] > 1.5

            wait_until(settled, timeout=60, what="RSS settled")
            peak = rss_kib(pid)
        finally:
            for s in socks:
                s.close()
        per_conn = (peak - start) * 1024 / self.CLIENTS
        print(f"\nnon-reading: start {start} KiB, peak {peak} KiB, "
              f"{per_conn / 1024:.1f} KiB per connection", end=" ")
        # The goal is 64 KiB a connection (the release build measures about
        # 43 KiB); AddressSanitizer's redzones and shadow add a quarter or so
        # (50-67 KiB measured here), while the unbounded output this guards
        # against held about 1 MiB each.
        limit = 64 * 1024
        if asan(pid):
            limit = 80 * 1024
        self.assertLess(per_conn, limit)
        wait_until(lambda: self.server.stderr().count(" session_end ") >= 20 + self.CLIENTS,
                   timeout=60, what="sessions closed")
        # AddressSanitizer's shadow (an eighth of the memory once used) stays
        # resident after its allocator returns the memory itself, and its
        # allocator keeps a varying part of its regions (after close: 12-15
        # MiB above the start in 18 runs here, 29 MiB in one more).
        slack = 16 * 1024
        if asan(pid):
            slack = 24 * 1024 + (peak - start) // 8
        wait_until(lambda: rss_kib(pid) - start < slack, timeout=30,
                   what=f"RSS back within {slack} KiB of {start} KiB (now {rss_kib(pid)})")
        print(f"after close {rss_kib(pid)} KiB", end=" ")
        self.assertTrue(greeting(port).startswith("+OK"))


if __name__ == "__main__":
    unittest.main()
