"""The MIME side of outbound mail: an 8-bit message to a next hop that does
not offer 8BITMIME is converted to quoted-printable (RFC 6152 3) and DKIM
signed after the conversion; to one that offers it, it goes as is with
BODY=8BITMIME; bounces are RFC 3464 multipart/reports (composed with GMime)
whose every part Python's email package reads back."""

import email
import email.policy
import os
import unittest

from maildir import delivered
from portico import Server, wait_until
from relay_common import fast_relay, Peer, submit

PW = "pw-mime-1"

TEXT = ("Grüße aus Köln — ça marche très bien, naïve façade, smørrebrød. " * 4 +
        "\nZweite Zeile: äöü ÄÖÜ ß €\n").encode()
HTML = "<p>Grüße — <b>fett</b> €</p>\n".encode()


def eight_bit_message(mid):
    return (b"From: alice@a.test\r\nTo: u@x.test\r\nSubject: 8-bit\r\n"
            b"Message-ID: <" + mid + b">\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
            b"preamble\r\n--b1\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + TEXT.replace(b"\n", b"\r\n") +
            b"--b1\r\nContent-Type: text/html; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + HTML.replace(b"\n", b"\r\n") +
            b"--b1--\r\n")


class RelayMime(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.no8 = Peer(eightbit=False)
        cls.yes8 = Peer()
        cls.refuse = Peer(rcpt_replies=["550 5.1.1 <nobody@refuse.test>: no such user"] * 10)
        for p in (cls.no8, cls.yes8, cls.refuse):
            cls.addClassCleanup(p.stop)
        routes = "\n".join("route = " + r for r in [
            f"no8.test 127.0.0.1:{cls.no8.port}",
            f"yes8.test 127.0.0.1:{cls.yes8.port}",
            f"refuse.test 127.0.0.1:{cls.refuse.port}"])
        extra = fast_relay("timeout = 5", routes)
        cls.a = Server(services=("smtp", "submission"), domains="a.test",
                       hostname="mx.a.test", extra=extra)
        cls.addClassCleanup(cls.a.cleanup)
        cls.dkim_txt = {}
        for line in cls.a.cli("dkim", "keygen", "a.test").stdout.splitlines():
            name, _, _, _, txt = line.split(" ", 4)
            cls.dkim_txt[name.rstrip(".").encode()] = txt.strip('"').encode()
        cls.a.start()
        cls.a.add_user("alice@a.test", PW)

    @classmethod
    def tearDownClass(cls):
        cls.a.stop()

    def received(self, peer, mid):
        for m in peer.messages:
            if mid in m[2]:
                return m
        return None

    def check_dkim(self, wire):
        import dkim  # python3-dkim, in dist-packages (see relay_common)
        self.assertEqual(wire.count(b"DKIM-Signature:"), 1)
        dns = lambda name, timeout=5: self.dkim_txt.get(name.rstrip(b"."), b"")
        self.assertTrue(dkim.DKIM(wire).verify(dnsfunc=dns), "DKIM signature")

    def test_8bit_converted_for_peer_without_8bitmime(self):
        submit(self.a, "alice@a.test", PW, ["u@no8.test"], eight_bit_message(b"m8-1@a.test"),
               mail_options=["BODY=8BITMIME"])
        got = wait_until(lambda: self.received(self.no8, b"m8-1@a.test"), timeout=20,
                         what="the converted message")
        wire = got[2]
        params = self.no8.mail_params[self.no8.messages.index(got)]
        self.assertNotIn("BODY=8BITMIME", params)
        self.assertTrue(all(b < 0x80 for b in wire), "7-bit on the wire")
        body = wire.split(b"\r\n\r\n", 1)[1]
        for line in body.split(b"\r\n"):
            self.assertLessEqual(len(line), 76, line)
        msg = email.message_from_bytes(wire, policy=email.policy.default)
        self.assertNotEqual(msg.get("Content-Transfer-Encoding", "7bit").lower(), "8bit")
        parts = list(msg.iter_parts())
        self.assertEqual([p.get_content_type() for p in parts], ["text/plain", "text/html"])
        # What each part decodes to, read from the message as submitted.
        sent = email.message_from_bytes(eight_bit_message(b"m8-1@a.test"),
                                        policy=email.policy.default)
        for p, orig in zip(parts, sent.iter_parts()):
            self.assertEqual(p["Content-Transfer-Encoding"], "quoted-printable")
            self.assertEqual(p.get_payload(decode=True), orig.get_payload(decode=True))
            self.assertIn(p.get_payload(decode=True).replace(b"\r\n", b"\n"),
                          (TEXT[:-1], HTML[:-1]))  # the last LF is the boundary's
        self.check_dkim(wire)
        self.assertIn("relay downgraded id=", self.a.stderr())

    def test_8bit_sent_as_is_when_offered(self):
        submit(self.a, "alice@a.test", PW, ["u@yes8.test"], eight_bit_message(b"m8-2@a.test"),
               mail_options=["BODY=8BITMIME"])
        got = wait_until(lambda: self.received(self.yes8, b"m8-2@a.test"), timeout=20,
                         what="the 8-bit message")
        params = self.yes8.mail_params[self.yes8.messages.index(got)]
        self.assertIn("BODY=8BITMIME", params)
        self.assertIn(TEXT.replace(b"\n", b"\r\n"), got[2])
        self.check_dkim(got[2])

    def bounce(self, mid):
        for _, d in delivered(self.a, "alice@a.test"):
            if mid in d and b"multipart/report" in d:
                return d
        return None

    def check_report(self, data, mid):
        msg = email.message_from_bytes(data, policy=email.policy.default)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        self.assertEqual(msg["To"].addresses[0].addr_spec, "alice@a.test")
        self.assertIn("MAILER-DAEMON@mx.a.test", msg["From"])
        self.assertEqual(msg["Auto-Submitted"], "auto-replied")
        parts = list(msg.iter_parts())
        self.assertEqual(len(parts), 3)
        human, status, orig = parts
        self.assertEqual(human.get_content_type(), "text/plain")
        text = human.get_content()
        self.assertIn("could not be delivered", text)
        self.assertIn("550 5.1.1 <nobody@refuse.test>: no such user", text)
        self.assertEqual(status.get_content_type(), "message/delivery-status")
        blocks = status.get_payload()
        self.assertEqual(len(blocks), 2)  # per-message, then one recipient
        self.assertEqual(blocks[0]["Reporting-MTA"], "dns; mx.a.test")
        self.assertEqual(blocks[1]["Final-Recipient"], "rfc822; nobody@refuse.test")
        self.assertEqual(blocks[1]["Action"], "failed")
        self.assertEqual(blocks[1]["Status"], "5.1.1")
        self.assertIn("550 5.1.1", blocks[1]["Diagnostic-Code"])
        return orig

    def test_bounce_with_headers(self):
        body = (b"Subject: hdrs\r\nMessage-ID: <dsn-h@a.test>\r\n\r\nsecret body text\r\n")
        submit(self.a, "alice@a.test", PW, ["nobody@refuse.test"], body)
        data = wait_until(lambda: self.bounce(b"dsn-h@a.test"), timeout=20, what="bounce")
        orig = self.check_report(data, b"dsn-h@a.test")
        self.assertEqual(orig.get_content_type(), "text/rfc822-headers")
        self.assertIn("Message-ID: <dsn-h@a.test>", orig.get_content())
        self.assertNotIn(b"secret body text", data)

    def test_bounce_with_full_message(self):
        body = (b"Subject: full\r\nMessage-ID: <dsn-f@a.test>\r\n\r\nthe whole body\r\n")
        submit(self.a, "alice@a.test", PW, ["nobody@refuse.test"], body,
               mail_options=["RET=FULL"])
        data = wait_until(lambda: self.bounce(b"dsn-f@a.test"), timeout=20, what="bounce")
        orig = self.check_report(data, b"dsn-f@a.test")
        self.assertEqual(orig.get_content_type(), "message/rfc822")
        inner = orig.get_payload()[0]
        self.assertEqual(inner["Message-ID"], "<dsn-f@a.test>")
        self.assertEqual(inner.get_payload().strip(), "the whole body")


if __name__ == "__main__":
    unittest.main()
