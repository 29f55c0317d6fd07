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
        # libopendkim 2.11 leaks each Ed25519 signature's key (DECISIONS.md);
        # only that library's allocations are suppressed.
        env = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
                   ":fast_unwind_on_malloc=0", LSAN_OPTIONS="suppressions=" + os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "lsan_opendkim.supp"))
        cls.a = Server(services=("smtp", "submission"), domains="a.test",
                       hostname="mx.a.test", env=env)
        cls.addClassCleanup(cls.a.cleanup)
        for srv, other in ((cls.a, cls.b), (cls.b, cls.a)):
            with open(srv.config, "a") as f:
                f.write(relay_extra(cls.dns.address, other.ports["smtp"],
                                    "dkim_ed25519 = yes\n"))
        # DKIM keys for a.test; the TXT records the verifier gets (by name).
        cls.dkim_txt = {}
        for line in cls.a.cli("dkim", "keygen", "a.test").stdout.splitlines():
            name, _, _, _, txt = line.split(" ", 4)
            cls.dkim_txt[name.rstrip(".").encode()] = txt.strip('"').encode()
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
        # B's trace, then A's DKIM signatures (prepended by A's relay, each
        # with its folded lines), then A's trace, then the body as sent.
        lines, keep, dkim_lines, cont = data.split(b"\n"), [], 0, False
        for ln in lines:
            if ln.startswith(b"DKIM-Signature:"):
                dkim_lines += 1
                cont = True
            elif not (ln.startswith((b"\t", b" ")) and cont):
                cont = False
            if not cont:
                keep.append(ln)
        self.assertEqual(dkim_lines, 2)
        trace, rest = split_trace(b"\n".join(keep))
        self.assertEqual(rest, body.replace(b"\r\n", b"\n"))
        received = [t for t in trace if t.startswith(b"Received:")]
        self.assertEqual(len(received), 2, trace)
        self.assertIn(b"by mx.b.test", b"\n".join(trace))
        self.assertIn(b"by mx.a.test", b"\n".join(trace))
        self.check_dkim(data)
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

    def check_dkim(self, data):
        """Both signatures (RSA-SHA256, Ed25519-SHA256) verify with Debian's
        python3-dkim (dkimpy) over the message as B stored it."""
        import dkim  # python3-dkim, in dist-packages (see relay_common)
        wire = data.replace(b"\n", b"\r\n")
        self.assertEqual(wire.count(b"DKIM-Signature:"), 2)
        dns = lambda name, timeout=5: self.dkim_txt.get(name.rstrip(b"."), b"")
        d = dkim.DKIM(wire)
        self.assertTrue(d.verify(idx=0, dnsfunc=dns), "first DKIM signature")
        self.assertTrue(d.verify(idx=1, dnsfunc=dns), "second DKIM signature")
        self.assertIn(b"a=ed25519-sha256", wire)
        self.assertIn(b"a=rsa-sha256", wire)
        self.assertIn(b"c=relaxed/relaxed", wire)

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
