"""Outbound TLS policy `verified` and the "delayed" notice, against
scripted peers reached through [relay] route: a peer whose certificate
(from a test CA, [relay] ca_file) names another host is deferred and never
gets the message, not even in clear; one whose certificate matches gets
it over TLS; a peer that answers 451 for ever makes the sender get one
"delayed" notice (RFC 3464 Action: delayed) after [relay] delay_notice,
while the message stays queued."""

import email
import email.policy
import re
import unittest

from maildir import delivered
from portico import Server, wait_until
from relay_common import fast_relay, Peer, queue_ids, record, submit, TestCA

PW = "pw-policy-1"


class RelayPolicy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca = TestCA()
        cls.addClassCleanup(cls.ca.cleanup)
        cls.good = Peer(tls_context=cls.ca.server_context("good", ["IP:127.0.0.1"]))
        cls.bad = Peer(tls_context=cls.ca.server_context("bad", ["DNS:other.test"]))
        cls.grey = Peer(rcpt_replies=["451 4.7.1 greylisted, try again later"] * 100000)
        for p in (cls.good, cls.bad, cls.grey):
            cls.addClassCleanup(p.stop)
        routes = "\n".join("route = " + r for r in [
            f"good.test 127.0.0.1:{cls.good.port} verified",
            f"bad.test 127.0.0.1:{cls.bad.port} verified",
            f"grey.test 127.0.0.1:{cls.grey.port}"])
        extra = fast_relay("timeout = 5", "delay_notice = 3", f"ca_file = {cls.ca.ca}", routes)
        cls.a = Server(services=("smtp", "submission"), domains="a.test",
                       hostname="mx.a.test", extra=extra)
        cls.addClassCleanup(cls.a.cleanup)
        cls.a.start()
        cls.a.add_user("alice@a.test", PW)

    @classmethod
    def tearDownClass(cls):
        cls.a.stop()

    def test_verified_with_matching_certificate_delivers(self):
        submit(self.a, "alice@a.test", PW, ["u@good.test"],
               b"Subject: v\r\nMessage-ID: <v-good@a.test>\r\n\r\nover TLS\r\n")
        wait_until(lambda: any(b"<v-good@a.test>" in m[2] for m in self.good.messages),
                   timeout=20, what="delivered over verified TLS")
        self.assertRegex(self.a.stderr(), r'rcpt=u@good.test mx=127.0.0.1 tls=TLSv1\.[23]\S* '
                                          r'reply="250')

    def test_verified_with_wrong_certificate_defers(self):
        submit(self.a, "alice@a.test", PW, ["u@bad.test"],
               b"Subject: v\r\nMessage-ID: <v-bad@a.test>\r\n\r\nnever in clear\r\n")
        pattern = (r'rcpt=u@bad.test mx=\S+ tls=no reply="451 [^"]*'
                   r'certificate verify failed: IP address mismatch')
        wait_until(lambda: len(re.findall(pattern, self.a.stderr())) >= 2, timeout=20,
                   what="two deferred attempts")
        self.assertEqual(self.bad.messages, [])
        self.assertEqual(self.bad.mail_params, [])  # no MAIL, in clear or not
        qid = [i for i in queue_ids(self.a) if "u@bad.test" in record(self.a, i)]
        self.assertEqual(len(qid), 1)
        self.assertIn("deferred", record(self.a, qid[0]))

    def delayed_notices(self):
        out = []
        for _, d in delivered(self.a, "alice@a.test"):
            if b"<delay-1@a.test>" in d and b"Action: delayed" in d:
                out.append(d)
        return out

    def test_delayed_notice_once(self):
        submit(self.a, "alice@a.test", PW, ["u@grey.test"],
               b"Subject: slow\r\nMessage-ID: <delay-1@a.test>\r\n\r\nstill trying\r\n")
        notices = wait_until(self.delayed_notices, timeout=30, what="the delayed notice")
        msg = email.message_from_bytes(notices[0], policy=email.policy.default)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertIn("Delayed", msg["Subject"])
        human, status, _ = list(msg.iter_parts())
        self.assertIn("will be retried", human.get_content())
        self.assertIn("451 4.7.1 greylisted", human.get_content())
        block = status.get_payload()[1]
        self.assertEqual(block["Action"], "delayed")
        self.assertEqual(block["Status"], "4.7.1")
        # More attempts, still one notice, and the message stays queued.
        log = lambda: re.findall(r'rcpt=u@grey.test .*reply="451', self.a.stderr())
        seen = len(log())
        wait_until(lambda: len(log()) >= seen + 2, timeout=20, what="two more attempts")
        self.assertEqual(len(self.delayed_notices()), 1)
        self.assertEqual(len(re.findall(r"relay dsn id=\S+ action=delayed", self.a.stderr())), 1)
        self.assertTrue(any("u@grey.test" in record(self.a, i) for i in queue_ids(self.a)))


if __name__ == "__main__":
    unittest.main()
