"""core/dns.c against a real DNS server: a local dnsmasq (Debian) on a free
loopback port with its own zone (MX with preferences, A, AAAA, TXT, TLSA),
queried through the hidden `portico dns-query` driver, which keeps one
resolver (and its cache) for its whole life. Covers MX ordering, every
record type, NXDOMAIN and no-data answers, answers served from the cache
for their TTL after dnsmasq is stopped, a server that never answers
(timeout), a cancelled query, and `[relay] resolver` from the config."""

import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from portico import BIN, free_port

TLSA_HEX = "ab" * 32
ZONE = [
    "--mx-host=b.test,mx2.b.test,20",
    "--mx-host=b.test,mx1.b.test,10",
    "--mx-host=b.test,mx3.b.test,30",
    "--host-record=mx1.b.test,127.0.0.1,::1,300",
    "--host-record=mx2.b.test,127.0.0.2",
    "--txt-record=b.test,v=spf1 -all",
    "--txt-record=_dmarc.b.test,v=DMARC1; ,p=reject",
    "--dns-rr=_25._tcp.mx1.b.test,52,030101" + TLSA_HEX,
]


def start_dnsmasq(port):
    cmd = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
           "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1",
           f"--port={port}", "--local=/test/", "--local-ttl=120", "--pid-file=",
           "--user=root"] + ZONE
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until it answers on UDP
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            # A minimal query for "b.test" type A.
            q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01b\x04test\x00\x00\x01\x00\x01"
            s.sendto(q, ("127.0.0.1", port))
            try:
                s.recv(512)
                return p
            except OSError:
                if p.poll() is not None:
                    raise RuntimeError(p.stderr.read().decode())
    p.kill()
    raise RuntimeError("dnsmasq did not answer")


class Driver:
    """`portico dns-query`: one line in, one answer line out."""

    def __init__(self, args):
        self.p = subprocess.Popen([BIN] + args, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""

    def send(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def line(self, timeout=5):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no answer from dns-query")
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 4096)
                if not chunk:
                    raise AssertionError("dns-query exited: " + self.p.stderr.read().decode())
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def ask(self, q, timeout=5):
        self.send(q)
        return self.line(timeout)

    def close(self):
        self.p.stdin.close()
        rc = self.p.wait(timeout=10)
        err = self.p.stderr.read().decode()
        return rc, err


def fields(line):
    """'MX b.test status=ok ttl=1 cached=no n=2 rec|rec' -> dict + records."""
    parts = line.split(" ", 6)
    d = dict(kv.split("=", 1) for kv in parts[2:6])
    d["records"] = parts[6].split("|") if len(parts) > 6 else []
    return d


@unittest.skipUnless(shutil.which("dnsmasq"), "dnsmasq is not installed (scripts/deps.sh --test)")
class DnsTest(unittest.TestCase):
    def setUp(self):
        self.port = free_port()
        self.dnsmasq = start_dnsmasq(self.port)
        self.drv = Driver(["dns-query", "--server", f"127.0.0.1:{self.port}",
                           "--timeout-ms", "300"])

    def tearDown(self):
        if self.dnsmasq.poll() is None:
            self.dnsmasq.kill()
        self.dnsmasq.wait()
        self.dnsmasq.stderr.close()
        rc, err = self.drv.close()
        self.assertEqual(rc, 0, err)
        self.assertNotIn("Sanitizer", err)

    def test_records(self):
        mx = fields(self.drv.ask("MX b.test"))
        self.assertEqual(mx["status"], "ok")
        self.assertEqual(mx["records"], ["10 mx1.b.test", "20 mx2.b.test", "30 mx3.b.test"])
        self.assertEqual(mx["cached"], "no")
        a = fields(self.drv.ask("A MX1.B.test."))
        self.assertEqual(a["records"], ["127.0.0.1"])
        self.assertTrue(0 < int(a["ttl"]) <= 300, a)
        aaaa = fields(self.drv.ask("AAAA mx1.b.test"))
        self.assertEqual(aaaa["records"], ["::1"])
        txt = fields(self.drv.ask("TXT b.test"))
        self.assertEqual(txt["records"], ["v=spf1 -all"])
        dmarc = fields(self.drv.ask("TXT _dmarc.b.test"))
        self.assertEqual(dmarc["records"], ["v=DMARC1; p=reject"])  # strings joined
        tlsa = fields(self.drv.ask("TLSA _25._tcp.mx1.b.test"))
        self.assertEqual(tlsa["records"], ["3 1 1 " + TLSA_HEX])

    def test_negative_answers(self):
        self.assertEqual(fields(self.drv.ask("A nope.b.test"))["status"], "nxdomain")
        self.assertEqual(fields(self.drv.ask("AAAA mx2.b.test"))["status"], "nodata")
        self.assertEqual(fields(self.drv.ask("A bad..name"))["status"], "badname")
        # Negative answers are cached too.
        again = fields(self.drv.ask("A nope.b.test"))
        self.assertEqual((again["status"], again["cached"]), ("nxdomain", "yes"))

    def test_cache_outlives_the_server(self):
        first = fields(self.drv.ask("MX b.test"))
        self.assertEqual(first["cached"], "no")
        self.dnsmasq.kill()
        self.dnsmasq.wait()
        again = fields(self.drv.ask("MX b.test"))
        self.assertEqual(again["status"], "ok")
        self.assertEqual(again["cached"], "yes")
        self.assertEqual(again["records"], first["records"])
        self.assertLessEqual(int(again["ttl"]), int(first["ttl"]))
        # Not cached: the server is gone, a temporary failure (fast).
        t0 = time.monotonic()
        self.assertEqual(fields(self.drv.ask("A mx2.b.test"))["status"], "tempfail")
        self.assertLess(time.monotonic() - t0, 3)

    def test_cancel(self):
        self.assertTrue(self.drv.ask("cancel MX b.test").startswith("cancelled"))
        # The cancelled query prints nothing; the next answer is the next query's.
        self.assertTrue(self.drv.ask("TXT b.test").startswith("TXT b.test status=ok"))


class DnsTimeoutTest(unittest.TestCase):
    def test_silent_server(self):
        """A server that never answers: tempfail after the timeout, not a hang."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
            silent.bind(("127.0.0.1", 0))
            port = silent.getsockname()[1]
            drv = Driver(["dns-query", "--server", f"127.0.0.1:{port}", "--timeout-ms", "300"])
            t0 = time.monotonic()
            r = fields(drv.ask("MX b.test"))
            elapsed = time.monotonic() - t0
            self.assertEqual(r["status"], "tempfail")
            self.assertGreaterEqual(elapsed, 0.25)
            self.assertLess(elapsed, 3)
            rc, err = drv.close()
            self.assertEqual(rc, 0, err)

    def test_resolver_from_config(self):
        """`[relay] resolver` is where the driver asks when no --server is given."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
            silent.bind(("127.0.0.1", 0))
            port = silent.getsockname()[1]
            with tempfile.TemporaryDirectory() as d:
                conf = os.path.join(d, "portico.conf")
                with open(conf, "w") as f:
                    f.write(f"[portico]\ndata_dir = {d}\n\n[relay]\nresolver = 127.0.0.1:{port}\n")
                drv = Driver(["-c", conf, "dns-query", "--timeout-ms", "300"])
                drv.send("A x.test")
                silent.settimeout(5)
                data, _ = silent.recvfrom(512)  # the query reached the configured server
                self.assertIn(b"\x01x\x04test\x00", data)
                self.assertEqual(fields(drv.line())["status"], "tempfail")
                rc, err = drv.close()
                self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main()
