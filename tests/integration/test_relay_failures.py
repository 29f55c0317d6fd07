"""Outbound failure paths against scripted peers reached through
[relay] route: 451 (retried, then delivered), 552 after DATA (a bounce in
alice's INBOX naming the reply), the next hop down then up (deferred, then
delivered), a disconnect in the middle of DATA (retried, delivered once),
no STARTTLS where the route requires it (deferred, never sent in clear),
a peer that never answers and a 1 MiB reply line (deferred, the server
goes on), a bounce to the null sender (none), 10,000 recipients (the
limit), and the queue CLI (list, hold, release, flush, delete --silent)."""

import os
import re
import smtplib
import unittest

from maildir import delivered, split_trace
from portico import Server, free_port, wait_until
from relay_common import fast_relay, Peer, queue_ids, RawPeer, record, submit

PW = "pw-fail-1"


class RelayFailures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p451 = Peer(rcpt_replies=["451 4.7.1 greylisted, try again"])
        cls.p552 = Peer(data_replies=["552 5.3.4 message too big for this mailbox"] * 10)
        cls.pok = Peer()
        cls.down_port = free_port()
        cls.cut = RawPeer("cut")
        cls.silent = RawPeer("silent")
        cls.huge = RawPeer("hugeline")
        cls.notls = Peer()
        for p in (cls.p451, cls.p552, cls.pok, cls.notls):
            cls.addClassCleanup(p.stop)
        for p in (cls.cut, cls.silent, cls.huge):
            cls.addClassCleanup(p.stop)
        routes = "\n".join("route = " + r for r in [
            f"d451.test 127.0.0.1:{cls.p451.port}",
            f"d552.test 127.0.0.1:{cls.p552.port}",
            f"ok.test 127.0.0.1:{cls.pok.port}",
            f"elsewhere.test 127.0.0.1:{cls.pok.port}",
            f"down.test 127.0.0.1:{cls.down_port}",
            f"cut.test 127.0.0.1:{cls.cut.port}",
            f"silent.test 127.0.0.1:{cls.silent.port}",
            f"huge.test 127.0.0.1:{cls.huge.port}",
            f"notls.test 127.0.0.1:{cls.notls.port} required"])
        extra = fast_relay("timeout = 2", routes)
        cls.a = Server(services=("smtp", "submission"), domains="a.test",
                       hostname="mx.a.test", extra=extra)
        cls.addClassCleanup(cls.a.cleanup)
        cls.a.start()
        cls.a.add_user("alice@a.test", PW)
        cls.a.cli("alias", "add", "fwd@a.test", "x@d552.test")
        cls.a.cli("alias", "add", "fwd2@a.test", "fwd2@ok.test")

    @classmethod
    def tearDownClass(cls):
        cls.a.stop()

    def entry_for(self, needle):
        """The queue id whose record mentions needle, or None."""
        for i in queue_ids(self.a):
            try:
                if needle in record(self.a, i):
                    return i
            except OSError:  # delivered and removed meanwhile
                pass
        return None

    def record(self, qid):
        return record(self.a, qid)

    def bounce_for(self, mid):
        for _, d in delivered(self.a, "alice@a.test"):
            if mid in d and b"multipart/report" in d:
                return d
        return None

    def test_451_retried_then_delivered(self):
        submit(self.a, "alice@a.test", PW, ["u@d451.test"], b"Subject: g\r\n\r\ngrey\r\n")
        wait_until(lambda: self.p451.messages, timeout=20, what="delivered after 451")
        self.assertEqual(len(self.p451.messages), 1)
        log = self.a.stderr()
        self.assertIn('rcpt=u@d451.test mx=127.0.0.1 tls=no reply="451 4.7.1 greylisted', log)
        self.assertRegex(log, r'rcpt=u@d451.test mx=127.0.0.1 tls=no reply="250')

    def test_552_after_data_bounces(self):
        submit(self.a, "alice@a.test", PW, ["u@d552.test"],
               b"Subject: big\r\nMessage-ID: <f552@a.test>\r\n\r\nbig\r\n")
        d = wait_until(lambda: self.bounce_for(b"f552@a.test"), timeout=20, what="bounce")
        self.assertIn(b"552 5.3.4 message too big for this mailbox", d)
        self.assertIn(b"Action: failed", d)
        wait_until(lambda: self.entry_for("u@d552.test") is None, what="entry removed")

    def test_down_then_up(self):
        submit(self.a, "alice@a.test", PW, ["u@down.test"],
               b"Subject: down\r\nMessage-ID: <down@a.test>\r\n\r\nlater\r\n")
        qid = wait_until(lambda: self.entry_for("u@down.test"), what="queued")
        wait_until(lambda: "state deferred" in self.record(qid), what="deferred")
        self.assertIn("cannot connect", self.record(qid))
        out = self.a.cli("queue", "list").stdout
        self.assertRegex(out, r"deferred\s+<u@down.test>.*cannot connect")
        peer = Peer(port=self.down_port)
        try:
            wait_until(lambda: peer.messages, timeout=20, what="delivered once up")
            self.assertIn(b"down@a.test", peer.messages[0][2])
        finally:
            peer.stop()

    def test_cut_mid_data_retried_delivered_once(self):
        submit(self.a, "alice@a.test", PW, ["u@cut.test"],
               b"Subject: cut\r\nMessage-ID: <cut@a.test>\r\n\r\n" + b"line\r\n" * 50)
        wait_until(lambda: self.cut.accepted, timeout=20, what="delivered after the cut")
        wait_until(lambda: self.entry_for("u@cut.test") is None, what="entry removed")
        self.assertEqual(len(self.cut.accepted), 1)
        self.assertGreaterEqual(self.cut.connections, 2)

    def test_required_tls_not_offered_deferred(self):
        submit(self.a, "alice@a.test", PW, ["u@notls.test"], b"Subject: t\r\n\r\nsecret\r\n")
        qid = wait_until(lambda: self.entry_for("u@notls.test"), what="queued")
        wait_until(lambda: "state deferred" in self.record(qid), what="deferred")
        self.assertIn("does not offer STARTTLS", self.record(qid))
        self.assertEqual(self.notls.messages, [])  # never sent in clear
        # hold, release and delete --silent while serve runs
        self.a.cli("queue", "hold", qid)
        wait_until(lambda: "\nheld\n" in self.record(qid), what="held")
        self.assertIn("HELD", self.a.cli("queue", "show", qid).stdout)
        self.a.cli("queue", "release", qid)
        wait_until(lambda: "\nheld\n" not in self.record(qid), what="released")
        before = len(delivered(self.a, "alice@a.test"))
        self.a.cli("queue", "delete", qid, "--silent")
        wait_until(lambda: qid not in queue_ids(self.a), what="deleted")
        self.assertEqual(self.notls.messages, [])
        self.assertEqual(len(delivered(self.a, "alice@a.test")), before)

    def test_silent_and_huge_line_deferred(self):
        submit(self.a, "alice@a.test", PW, ["u@silent.test", "v@huge.test"],
               b"Subject: s\r\n\r\nquiet\r\n")
        qid = wait_until(lambda: self.entry_for("u@silent.test"), what="queued")
        wait_until(lambda: self.record(qid).count("state deferred") == 2, timeout=20,
                   what="both deferred")
        rec = self.record(qid)
        self.assertRegex(rec, r"to <u@silent.test>\n(.+\n)*?reply 451 .*time")
        self.assertRegex(rec, r"to <v@huge.test>\n(.+\n)*?reply 451 ")
        self.a.cli("queue", "delete", qid, "--silent")
        wait_until(lambda: qid not in queue_ids(self.a), what="deleted")
        with smtplib.SMTP("127.0.0.1", self.a.ports["smtp"], timeout=10) as c:
            self.assertEqual(c.noop()[0], 250)

    def test_null_sender_gets_no_bounce(self):
        with smtplib.SMTP("127.0.0.1", self.a.ports["smtp"], timeout=10) as c:
            c.sendmail("<>", ["fwd@a.test"], b"Subject: nb\r\nMessage-ID: <nb@a.test>\r\n\r\nx\r\n")
        qid = wait_until(lambda: self.entry_for("x@d552.test"), what="forward queued")
        wait_until(lambda: qid not in queue_ids(self.a), timeout=20, what="failed and removed")
        self.assertIn(f"relay attempt id={qid} rcpt=x@d552.test", self.a.stderr())
        self.assertNotIn(f"relay dsn id={qid}", self.a.stderr())

    def test_forward_through_alias_srs(self):
        """An alias pointing outside forwards through the queue with the
        envelope sender SRS-rewritten into a.test (SPF at the destination)."""
        with smtplib.SMTP("127.0.0.1", self.a.ports["smtp"], timeout=10) as c:
            c.sendmail("someone@elsewhere.test", ["fwd2@a.test"],
                       b"Subject: fw\r\nMessage-ID: <fw@a.test>\r\n\r\nforwarded\r\n")
        got = lambda: [m for m in self.pok.messages if b"<fw@a.test>" in m[2]]
        wait_until(got, timeout=20, what="forwarded")
        mail_from, rcpts, _ = got()[0]
        self.assertEqual(rcpts, ["fwd2@ok.test"])
        self.assertRegex(mail_from, r"^SRS0=[a-z0-9+/]{4}=[A-Z2-7]{2}=elsewhere\.test="
                                    r"someone@a\.test$")

    def srs_address(self, sender, days_ago=0):
        """SRS0 address of a.test for sender, computed here from A's key
        (queue/srs.key) as srs.h describes it, days_ago days old."""
        import base64, hashlib, hmac, time
        with open(os.path.join(self.a.data_dir, "queue", "srs.key")) as f:
            key = f.read().strip()
        b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        day = (int(time.time()) // 86400 - days_ago) % 1024
        tt = b32[day >> 5] + b32[day & 31]
        local, domain = sender.rsplit("@", 1)
        mac = hmac.new(key.encode(), (tt + domain + local).lower().encode(), hashlib.sha1)
        h = base64.b64encode(mac.digest()).decode()[:4].lower()
        return f"SRS0={h}={tt}={domain}={local}@a.test"

    def test_srs_bounce_goes_back_to_the_original_sender(self):
        """A bounce to the SRS address a forward used reaches the original
        sender; a forged, expired or non-bounce one is refused."""
        with smtplib.SMTP("127.0.0.1", self.a.ports["smtp"], timeout=10) as c:
            c.sendmail("orig@elsewhere.test", ["fwd2@a.test"],
                       b"Subject: fw\r\nMessage-ID: <srs-fw@a.test>\r\n\r\nforwarded\r\n")
        got = lambda: [m for m in self.pok.messages if b"<srs-fw@a.test>" in m[2]]
        wait_until(got, timeout=20, what="forwarded")
        srs = got()[0][0]
        self.assertEqual(srs, self.srs_address("orig@elsewhere.test"))
        bounce = b"Subject: Undelivered\r\nMessage-ID: <srs-bounce@ok.test>\r\n\r\nbounced\r\n"
        with smtplib.SMTP("127.0.0.1", self.a.ports["smtp"], timeout=10) as c:
            c.sendmail("<>", [srs], bounce)
        back = lambda: [m for m in self.pok.messages if b"<srs-bounce@ok.test>" in m[2]]
        wait_until(back, timeout=20, what="bounce forwarded to the original sender")
        self.assertEqual(back()[0][:2], ("<>", ["orig@elsewhere.test"]))  # null sender
        forged = srs[:5] + ("aaaa" if srs[5:9] != "aaaa" else "bbbb") + srs[9:]
        cases = [("<>", forged, 550, b"5.7.1 Forged SRS address"),
                 ("<>", self.srs_address("orig@elsewhere.test", days_ago=22), 550,
                  b"5.1.1 Expired SRS address: older than 21 days"),
                 ("spam@elsewhere.test", srs, 550, b"5.7.1 This SRS address accepts only"),
                 ("<>", self.srs_address("orig@elsewhere.test", days_ago=21), 250, b"OK")]
        for sender, rcpt, code, text in cases:
            with smtplib.SMTP("127.0.0.1", self.a.ports["smtp"], timeout=10) as c:
                c.ehlo()
                self.assertEqual(c.mail(sender)[0], 250)
                r = c.rcpt(rcpt)
                self.assertEqual(r[0], code, (rcpt, r))
                self.assertIn(text, r[1])

    def test_10000_recipients_limited(self):
        with smtplib.SMTP("127.0.0.1", self.a.ports["submission"], timeout=30) as c:
            import ssl
            ctx = ssl._create_unverified_context()
            c.starttls(context=ctx)
            c.login("alice@a.test", PW)
            c.mail("alice@a.test")
            codes = [c.rcpt(f"r{i}@ok.test")[0] for i in range(10000)]
            self.assertEqual(codes.count(250), 100)
            self.assertEqual(codes.count(452), 9900)
            self.assertEqual(c.data(b"Subject: many\r\n\r\nmany\r\n")[0], 250)
        wait_until(lambda: self.pok.messages and len(self.pok.messages[-1][1]) == 100,
                   timeout=20, what="100 recipients delivered")


if __name__ == "__main__":
    unittest.main()
