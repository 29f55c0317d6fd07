"""MTA-STS (RFC 8461) end to end: dnsmasq answers the MX records, the
`_mta-sts` TXT records and mta-sts.DOMAIN; a Python HTTPS server (with a
certificate from a test CA, trusted through [relay] ca_file, on the port
[relay] mta_sts_port names for tests) serves each domain's policy by Host;
the MX hosts are scripted peers on 127.0.0.2... sharing [relay] port.
  good.test     enforce, MX certificate names mx.good.test: delivered
  bad.test      enforce, MX certificate names another host: deferred, the
                peer never sees MAIL (no delivery in clear)
  testing.test  testing, MX certificate wrong: delivered, the failure logged
  none.test     no TXT record, MX without TLS: delivered as before
  unlisted.test enforce, the MX is not in the policy: deferred
The policy is fetched once and cached (queue/mta-sts/)."""

import http.server
import os
import re
import ssl
import threading
import unittest

from portico import Server, free_port, wait_until
from relay_common import Dnsmasq, fast_relay, Peer, queue_ids, record, submit, TestCA

PW = "pw-sts-1"

POLICIES = {
    "good.test": "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 86400\r\n",
    "bad.test": "version: STSv1\nmode: enforce\nmx: *.bad.test\nmax_age: 86400\n",
    "testing.test": "version: STSv1\nmode: testing\nmx: mx.testing.test\nmax_age: 86400\n",
    "unlisted.test": "version: STSv1\nmode: enforce\nmx: mail.elsewhere.test\nmax_age: 86400\n",
}
MX_IP = {"good.test": "127.0.0.2", "bad.test": "127.0.0.3", "testing.test": "127.0.0.4",
         "none.test": "127.0.0.5", "unlisted.test": "127.0.0.6"}


class PolicyServer:
    """HTTPS on 127.0.0.1: GET /.well-known/mta-sts.txt answers the policy
    of the domain in Host (mta-sts.DOMAIN) as text/plain; counts fetches."""

    def __init__(self, ca):
        self.fetches = []
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                host = self.headers.get("Host", "")
                srv.fetches.append((host, self.path))
                domain = host[len("mta-sts."):] if host.startswith("mta-sts.") else ""
                body = POLICIES.get(domain)
                if self.path != "/.well-known/mta-sts.txt" or body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*ca.issue("policy", [f"DNS:mta-sts.{d}" for d in POLICIES]))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class RelayMtaSts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca = TestCA()
        cls.addClassCleanup(cls.ca.cleanup)
        cls.policy = PolicyServer(cls.ca)
        cls.addClassCleanup(cls.policy.stop)
        port = free_port()
        cert_for = lambda name, san: cls.ca.server_context(name, [san])
        cls.peers = {
            "good.test": Peer(port=port, host=MX_IP["good.test"],
                              tls_context=cert_for("mxgood", "DNS:mx.good.test")),
            "bad.test": Peer(port=port, host=MX_IP["bad.test"],
                             tls_context=cert_for("mxbad", "DNS:other.test")),
            "testing.test": Peer(port=port, host=MX_IP["testing.test"],
                                 tls_context=cert_for("mxtesting", "DNS:other.test")),
            "none.test": Peer(port=port, host=MX_IP["none.test"]),
            "unlisted.test": Peer(port=port, host=MX_IP["unlisted.test"],
                                  tls_context=cert_for("mxunlisted", "DNS:mx.unlisted.test")),
        }
        for p in cls.peers.values():
            cls.addClassCleanup(p.stop)
        extra = []
        for d, ip in MX_IP.items():
            extra += [f"--mx-host={d},mx.{d},10", f"--host-record=mx.{d},{ip}"]
        for d in POLICIES:
            extra += [f"--txt-record=_mta-sts.{d},v=STSv1; id=20260101T000000",
                      f"--host-record=mta-sts.{d},127.0.0.1"]
        extra.append("--txt-record=_mta-sts.none.test,v=spf1 -all")  # not an STS record
        cls.dns = Dnsmasq([], extra=extra)
        cls.addClassCleanup(cls.dns.stop)
        cls.a = Server(services=("smtp", "submission"), domains="a.test",
                       hostname="mx.a.test",
                       extra=fast_relay(f"resolver = {cls.dns.address}", f"port = {port}",
                                        "timeout = 5", f"ca_file = {cls.ca.ca}",
                                        f"mta_sts_port = {cls.policy.port}"))
        cls.addClassCleanup(cls.a.cleanup)
        cls.a.start()
        cls.a.add_user("alice@a.test", PW)

    @classmethod
    def tearDownClass(cls):
        cls.a.stop()

    def send(self, domain, mid):
        submit(self.a, "alice@a.test", PW, [f"u@{domain}"],
               f"Subject: sts\r\nMessage-ID: <{mid}>\r\n\r\nmta-sts {domain}\r\n".encode())

    def got(self, domain, mid):
        return [m for m in self.peers[domain].messages if mid.encode() in m[2]]

    def test_enforce_with_good_certificate_delivers_and_caches(self):
        self.send("good.test", "sts-good-1@a.test")
        wait_until(lambda: self.got("good.test", "sts-good-1@a.test"), timeout=30,
                   what="delivered under enforce")
        log = self.a.stderr()
        self.assertIn("relay mta_sts domain=good.test id=20260101T000000 mode=enforce", log)
        self.assertRegex(log, r"s\d+ relay tls TLSv1\.[23] \S+ verified=yes policy=verified")
        cache = os.path.join(self.a.data_dir, "queue", "mta-sts", "good.test")
        wait_until(lambda: os.path.exists(cache), what="the cached policy")
        with open(cache) as f:
            self.assertIn("mode: enforce", f.read())
        fetched = len([f for f in self.policy.fetches if f[0] == "mta-sts.good.test"])
        self.assertEqual(fetched, 1)
        self.send("good.test", "sts-good-2@a.test")
        wait_until(lambda: self.got("good.test", "sts-good-2@a.test"), timeout=30,
                   what="the second message")
        self.assertEqual(len([f for f in self.policy.fetches
                              if f[0] == "mta-sts.good.test"]), 1, "fetched again")

    def test_enforce_with_bad_certificate_defers(self):
        self.send("bad.test", "sts-bad@a.test")
        pattern = r'rcpt=u@bad.test mx=\S+ tls=no reply="451 [^"]*certificate verify failed'
        wait_until(lambda: len(re.findall(pattern, self.a.stderr())) >= 2, timeout=30,
                   what="two deferred attempts")
        self.assertEqual(self.peers["bad.test"].messages, [])
        self.assertEqual(self.peers["bad.test"].mail_params, [])  # no MAIL at all
        self.assertTrue(any("u@bad.test" in record(self.a, i) for i in queue_ids(self.a)))

    def test_testing_delivers_and_logs(self):
        self.send("testing.test", "sts-testing@a.test")
        wait_until(lambda: self.got("testing.test", "sts-testing@a.test"), timeout=30,
                   what="delivered under testing")
        self.assertRegex(self.a.stderr(), r"relay mta_sts testing domain=testing.test "
                                          r"host=mx.testing.test would defer: certificate")

    def test_no_policy_delivers(self):
        self.send("none.test", "sts-none@a.test")
        wait_until(lambda: self.got("none.test", "sts-none@a.test"), timeout=30,
                   what="delivered without a policy")
        self.assertNotIn("mta-sts.none.test", [f[0] for f in self.policy.fetches])

    def test_enforce_mx_not_listed_defers(self):
        self.send("unlisted.test", "sts-unlisted@a.test")
        wait_until(lambda: re.search(r'rcpt=u@unlisted.test mx=\S+ tls=no reply="451 4.7.5 '
                                     r'MTA-STS policy of unlisted.test \(enforce\) lists none',
                                     self.a.stderr()), timeout=30, what="deferred")
        self.assertEqual(self.peers["unlisted.test"].mail_params, [])


if __name__ == "__main__":
    unittest.main()
