"""PROXY protocol (issue 14): on listeners with proxy_protocol = yes, a v1
or v2 header from a peer in [portico] trusted_proxies gives the client's
address, used for the plaintext policy, limits, logs and Received:;
malformed headers and untrusted peers are closed. Also through Debian's
HAProxy (TCP mode, send-proxy-v2), started here on free loopback ports."""

import os
import shutil
import socket
import struct
import subprocess
import time
import unittest

from portico import Server, free_port, wait_until

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_header(src, sport, dst="127.0.0.1", dport=2525):
    if ":" in src:
        addrs = socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, "::1")
        return V2_SIG + bytes([0x21, 0x21]) + struct.pack("!H", 36) + addrs + \
            struct.pack("!HH", sport, dport)
    addrs = socket.inet_aton(src) + socket.inet_aton(dst)
    return V2_SIG + bytes([0x21, 0x11]) + struct.pack("!H", 12) + addrs + \
        struct.pack("!HH", sport, dport)


def first_reply(port, header, source="127.0.0.1"):
    with socket.socket() as s:
        s.settimeout(10)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(header)
        try:
            return s.recv(512)
        except ConnectionResetError:
            return b""


class ProxyProtocol(unittest.TestCase):
    EXTRA = ("[portico]\ntrusted_proxies = 127.0.0.1\n"
             "[pop3]\nproxy_protocol = yes\n[smtp]\nproxy_protocol = yes\n")

    @classmethod
    def setUpClass(cls):
        cls.server = Server(services=("smtp", "pop3"), extra=cls.EXTRA, tls=False)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        cls.server.add_user("alice@example.org", "pw-alice-123")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_v1_address_is_the_client(self):
        port = self.server.ports["pop3"]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"PROXY TCP4 203.0.113.9 127.0.0.1 40000 110\r\n")
            f = s.makefile("rb")
            self.assertTrue(f.readline().startswith(b"+OK"))
            # Not loopback any more: no plaintext password before TLS.
            s.sendall(b"USER alice@example.org\r\n")
            self.assertTrue(f.readline().startswith(b"-ERR"))
        wait_until(lambda: "peer=203.0.113.9 port=40000" in self.server.stderr(),
                   what="the carried address in the log")

    def test_v2_ipv6_and_received_header(self):
        port = self.server.ports["smtp"]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(v2_header("2001:db8::77", 5555))
            f = s.makefile("rb")
            self.assertTrue(f.readline().startswith(b"220"))
            s.sendall(b"HELO client.example\r\nMAIL FROM:<a@example.net>\r\n"
                      b"RCPT TO:<alice@example.org>\r\nDATA\r\n")
            for _ in range(4):
                f.readline()
            s.sendall(b"Subject: via proxy\r\n\r\nhello\r\n.\r\nQUIT\r\n")
            self.assertTrue(f.readline().startswith(b"250"))
        new = os.path.join(self.server.data_dir, "users", "example.org", "alice", "mail", "new")
        wait_until(lambda: os.path.isdir(new) and os.listdir(new), what="delivered")
        with open(os.path.join(new, os.listdir(new)[0]), "rb") as m:
            self.assertIn(b"[2001:db8::77]", m.read())

    def test_v2_header_and_data_in_one_write(self):
        port = self.server.ports["pop3"]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(v2_header("198.51.100.3", 1234) + b"CAPA\r\n")
            f = s.makefile("rb")
            self.assertTrue(f.readline().startswith(b"+OK"))
            self.assertTrue(f.readline().startswith(b"+OK"))  # CAPA was not eaten

    def test_malformed_headers_are_closed(self):
        port = self.server.ports["pop3"]
        for bad in (b"PROXY TCP4 1.2.3 127.0.0.1 1 2\r\n", b"USER alice\r\n",
                    b"PROXY TCP4 1.2.3.4 127.0.0.1 99999 2\r\n",
                    b"PROXY TCP4 1.2.3.4 127.0.0.1 1 2 3\r\n",
                    V2_SIG + bytes([0x31, 0x11, 0, 12]) + bytes(12),  # version 3
                    V2_SIG + bytes([0x21, 0x11, 0, 4]) + bytes(4),    # short addresses
                    b"PROXY " + b"A" * 200):
            self.assertEqual(first_reply(port, bad), b"", bad)
        self.assertTrue(first_reply(port, b"PROXY UNKNOWN\r\n").startswith(b"+OK"))


class UntrustedProxy(unittest.TestCase):
    def test_untrusted_peer_is_closed(self):
        server = Server(services=("pop3",), tls=False,
                        extra="[portico]\ntrusted_proxies = 192.0.2.1\n[pop3]\nproxy_protocol = yes\n")
        self.addCleanup(server.cleanup)
        server.start()
        self.assertEqual(first_reply(server.ports["pop3"],
                                     b"PROXY TCP4 203.0.113.9 127.0.0.1 1 2\r\n"), b"")
        self.assertIn("not_a_trusted_proxy", server.stderr())
        server.stop()


@unittest.skipUnless(shutil.which("haproxy"), "haproxy is not installed (scripts/deps.sh)")
class BehindHaproxy(unittest.TestCase):
    def test_haproxy_send_proxy_v2(self):
        server = Server(services=("pop3",), tls=False,
                        extra="[portico]\ntrusted_proxies = 127.0.0.1\n[pop3]\nproxy_protocol = yes\n")
        self.addCleanup(server.cleanup)
        server.start()
        front = free_port()
        cfg = os.path.join(server.tmp.name, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("global\n  maxconn 100\n"
                    "defaults\n  mode tcp\n  timeout connect 5s\n"
                    "  timeout client 30s\n  timeout server 30s\n"
                    f"frontend f\n  bind 127.0.0.1:{front}\n  default_backend b\n"
                    f"backend b\n  server p 127.0.0.1:{server.ports['pop3']} send-proxy-v2\n")
        hap = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(server.tmp.name, "haproxy.log"), "w"))
        try:
            def greeted():
                try:
                    return first_reply(front, b"", source="127.0.0.5").startswith(b"+OK")
                except OSError:
                    return False

            wait_until(greeted, what="a greeting through haproxy")
            wait_until(lambda: "pop3 connect peer=127.0.0.5" in server.stderr(),
                       what="the client's address, not the proxy's")
        finally:
            hap.terminate()
            hap.wait(10)
        server.stop()


if __name__ == "__main__":
    unittest.main()
