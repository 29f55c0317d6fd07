"""Postfix (Debian's 3.7, a private instance per test class) as the peer
of portico's relay, both ways: portico relays to Postfix through a route
with the `verified` TLS policy (Postfix's certificate from a test CA) and
the message lands in Postfix's Maildir intact; Postfix relays
(relayhost = [127.0.0.1]:PORT) into portico's MX and the message lands in
portico's Maildir intact."""

import smtplib
import unittest

from maildir import delivered
from portico import Server, wait_until
from postfix_common import PrivatePostfix
from relay_common import fast_relay, submit, TestCA

PW = "pw-postfix-1"

# Dots at line starts (transparency both ways, RFC 5321 4.5.2), an 8-bit
# line (both sides offer 8BITMIME), a long line.
BODY = ("first line\r\n.leading dot\r\n..two dots\r\n.\r\nGrüße aus Köln\r\n" +
        "x" * 900 + "\r\nlast line\r\n").encode()


class RelayPostfix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca = TestCA()
        cls.addClassCleanup(cls.ca.cleanup)
        cls.a = Server(services=("smtp", "submission"), domains="a.test",
                       hostname="mx.a.test")
        cls.addClassCleanup(cls.a.cleanup)
        cls.pf = PrivatePostfix("pf.test", users=("carol",),
                                relayhost=f"[127.0.0.1]:{cls.a.ports['smtp']}",
                                tls=cls.ca.issue("postfix", ["IP:127.0.0.1"]))
        cls.addClassCleanup(cls.pf.stop)
        with open(cls.a.config, "a") as f:
            f.write(fast_relay("timeout = 10", f"ca_file = {cls.ca.ca}",
                               f"route = pf.test 127.0.0.1:{cls.pf.port} verified"))
        cls.a.start()
        cls.a.add_user("alice@a.test", PW)
        cls.a.add_user("bob@a.test", PW)

    @classmethod
    def tearDownClass(cls):
        cls.a.stop()

    def test_portico_relays_to_postfix(self):
        msg = (b"From: alice@a.test\r\nTo: carol@pf.test\r\nSubject: to postfix\r\n"
               b"Message-ID: <to-pf@a.test>\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: text/plain; charset=utf-8\r\n"
               b"Content-Transfer-Encoding: 8bit\r\n\r\n" + BODY)
        submit(self.a, "alice@a.test", PW, ["carol@pf.test"], msg,
               mail_options=["BODY=8BITMIME"])
        got = wait_until(lambda: [m for m in self.pf.messages("carol") if b"<to-pf@a.test>" in m],
                         timeout=30, what="the message in Postfix's Maildir")
        data = got[0]
        self.assertTrue(data.endswith(BODY.replace(b"\r\n", b"\n")), data[-300:])
        header = data.split(b"\n\n", 1)[0]
        self.assertIn(b"by mx.pf.test (Postfix) with ESMTPS", header)
        self.assertIn(b"by mx.a.test (portico)", header)
        self.assertRegex(self.a.stderr(),
                         r'rcpt=carol@pf.test mx=127.0.0.1 tls=TLSv1\.[23]\S* reply="250')

    def test_postfix_relays_into_portico(self):
        msg = (b"From: carol@pf.test\r\nTo: bob@a.test\r\nSubject: from postfix\r\n"
               b"Message-ID: <from-pf@pf.test>\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: text/plain; charset=utf-8\r\n"
               b"Content-Transfer-Encoding: 8bit\r\n\r\n" + BODY)
        with smtplib.SMTP("127.0.0.1", self.pf.port, timeout=20) as c:
            c.sendmail("carol@pf.test", ["bob@a.test"], msg, mail_options=["BODY=8BITMIME"])
        got = wait_until(lambda: [d for _, d in delivered(self.a, "bob@a.test")
                                  if b"<from-pf@pf.test>" in d], timeout=30,
                         what="the message in portico's Maildir")
        data = got[0]
        self.assertTrue(data.endswith(BODY.replace(b"\r\n", b"\n")), data[-300:])
        header = data.split(b"\n\n", 1)[0]
        self.assertIn(b"by mx.pf.test (Postfix)", header)
        self.assertIn(b"(portico) with ESMTPS", header)  # Postfix used STARTTLS
        self.assertIn(b"Return-Path: <carol@pf.test>", header)


if __name__ == "__main__":
    unittest.main()
