"""Outbound mail end to end: alice@a.test submits over submission (STARTTLS,
AUTH) to bob@b.test; portico A looks up b.test's MX in a local dnsmasq and
relays to portico B; bob reads it over POP3 and IMAP with its bytes intact
and both Received: lines. Then the failure paths against B: an unknown
user (a bounce in alice's INBOX naming B's reply) and the null sender."""

import email
import email.policy
import imaplib
import os
import poplib
import re
import unittest

from maildir import delivered, split_trace
from portico import Server, wait_until
from relay_common import Dnsmasq, queue_ids, relay_extra, submit

PW = "pw-relay-1"


class RelayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = Dnsmasq(["a.test", "b.test"])
        cls.addClassCleanup(cls.dns.stop)
        cls.b = Server(services=("smtp", "pop3", "imap"), domains="b.test",
                       hostname="mx.b.test")
        cls.addClassCleanup(cls.b.cleanup)
        cls.a = Server(services=("smtp", "submission"), domains="a.test",
                       hostname="mx.a.test")
        cls.addClassCleanup(cls.a.cleanup)
        for srv, other in ((cls.a, cls.b), (cls.b, cls.a)):
            with open(srv.config, "a") as f:
                f.write(relay_extra(cls.dns.address, other.ports["smtp"]))
        cls.b.start()
        cls.a.start()
        cls.a.add_user("alice@a.test", PW)
        cls.b.add_user("bob@b.test", PW)

    @classmethod
    def tearDownClass(cls):
        cls.a.stop()
        cls.b.stop()

    def wait_queue_empty(self, server, timeout=30):
        wait_until(lambda: not queue_ids(server), timeout=timeout, what="queue empty")

    def test_relay_to_b(self):
        body = (b"From: alice@a.test\r\nTo: bob@b.test\r\nSubject: hello b\r\n"
                b"Message-ID: <relay-1@a.test>\r\n\r\nline one\r\n.leading dot\r\n"
                + "caf\u00e9 8-bit\r\n".encode() + b"last\r\n")
        submit(self.a, "alice@a.test", PW, ["bob@b.test"], body)
        wait_until(lambda: any(b"relay-1@a.test" in d for _, d in
                               delivered(self.b, "bob@b.test")), timeout=30,
                   what="delivered at B")
        data = [d for _, d in delivered(self.b, "bob@b.test") if b"relay-1@a.test" in d][0]
        trace, rest = split_trace(data)
        self.assertEqual(rest, body.replace(b"\r\n", b"\n"))
        received = [t for t in trace if t.startswith(b"Received:")]
        self.assertEqual(len(received), 2, trace)
        self.assertIn(b"by mx.b.test", b"\n".join(trace))
        self.assertIn(b"by mx.a.test", b"\n".join(trace))
        self.wait_queue_empty(self.a)
        log = self.a.stderr()
        self.assertRegex(log, r"relay attempt id=\S+ rcpt=bob@b.test mx=mx.b.test "
                              r"tls=TLSv1\.\S+ reply=\"250")
        # POP3 and IMAP see the same bytes.
        p = poplib.POP3("127.0.0.1", self.b.ports["pop3"], timeout=10)
        p.user("bob@b.test")
        p.pass_(PW)
        msgs = [b"\r\n".join(p.retr(i + 1)[1]) for i in range(len(p.list()[1]))]
        p.quit()
        self.assertTrue(any(m.endswith(body.rstrip(b"\r\n").replace(b"\r\n.", b"\r\n..")
                                       .replace(b"\r\n..", b"\r\n.")) for m in msgs))
        with imaplib.IMAP4("127.0.0.1", self.b.ports["imap"]) as i:
            i.login("bob@b.test", PW)
            i.select("INBOX")
            typ, hits = i.search(None, "HEADER", "Message-ID", "relay-1@a.test")
            self.assertEqual(typ, "OK")
            num = hits[0].split()[0]
            typ, got = i.fetch(num, "(BODY.PEEK[TEXT])")
            self.assertEqual(got[0][1], body.split(b"\r\n\r\n", 1)[1])

    def test_unknown_user_bounces_to_alice(self):
        body = b"Subject: to nobody\r\nMessage-ID: <relay-2@a.test>\r\n\r\nhi\r\n"
        submit(self.a, "alice@a.test", PW, ["nobody@b.test"], body)

        def bounce():
            for _, d in delivered(self.a, "alice@a.test"):
                if b"relay-2@a.test" in d and b"multipart/report" in d:
                    return d
            return None

        d = wait_until(bounce, timeout=30, what="bounce in alice's INBOX")
        msg = email.message_from_bytes(split_trace(d)[1], policy=email.policy.default)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        parts = list(msg.iter_parts())
        self.assertIn("550 5.1.1", parts[0].get_content())
        self.assertIn("nobody@b.test", parts[0].get_content())
        status = parts[1].as_string()
        self.assertIn("Action: failed", status)
        self.assertIn("Status: 5.1.1", status)
        self.assertIn("Final-Recipient: rfc822; nobody@b.test", status)
        self.assertIn("relay-2@a.test", parts[2].as_string())
        self.assertIn(b"Return-Path: <>", d)
        self.wait_queue_empty(self.a)

    def test_queue_cli(self):
        out = self.a.cli("queue", "list").stdout
        self.assertIn("entr", out)
        p = self.a.cli("queue", "show", "no-such-id", check=False)
        self.assertEqual(p.returncode, 1)
        p = self.a.cli("queue", "bogus", check=False)
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main()
