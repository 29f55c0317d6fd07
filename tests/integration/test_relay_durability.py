"""The queue survives: kill -9 of the sending server with 500 messages
queued and in flight loses none (after the restart every one arrives;
duplicates only of those in flight); a message that cannot be delivered
within [relay] queue_lifetime bounces to its sender; unreadable queue
records (garbage, truncated) are reported and moved to queue/corrupt/
while the rest of the queue goes on."""

import os
import re
import smtplib
import ssl
import unittest

from maildir import delivered
from portico import Server, free_port, wait_until
from relay_common import fast_relay, Peer, queue_ids

PW = "pw-dur-1"
TOTAL = 500


def session(server):
    c = smtplib.SMTP("127.0.0.1", server.ports["submission"], timeout=30)
    c.starttls(context=ssl._create_unverified_context())
    c.login("alice@a.test", PW)
    return c


class KillDuringRelay(unittest.TestCase):
    def test_kill9_with_500_queued(self):
        peer_port = free_port()
        a = Server(services=("submission",), domains="a.test", hostname="mx.a.test",
                   extra=fast_relay(f"route = ok.test 127.0.0.1:{peer_port}"))
        self.addCleanup(a.cleanup)
        a.start()
        a.add_user("alice@a.test", PW)
        with session(a) as c:
            for i in range(TOTAL):
                c.sendmail("alice@a.test", ["u@ok.test"],
                           f"Subject: m{i}\r\nMessage-ID: <m{i}@a.test>\r\n\r\n{i}\r\n")
        self.assertEqual(len(queue_ids(a)), TOTAL)
        peer = Peer(port=peer_port)
        self.addCleanup(peer.stop)
        wait_until(lambda: len(peer.messages) >= 50, timeout=60, what="50 delivered")
        a.kill()
        got_before = len(peer.messages)
        self.assertLess(got_before, TOTAL)
        a.start()
        ids = lambda: {re.search(rb"Message-ID: <(m\d+)@", m[2]).group(1) for m in peer.messages}
        wait_until(lambda: len(ids()) == TOTAL, timeout=90, what="all 500 delivered")
        wait_until(lambda: not queue_ids(a), timeout=30, what="queue empty")
        # A transaction's outcome is saved before its connection takes the
        # next one: only those in flight (at most one per connection, 10 by
        # default) can be sent twice.
        dups = len(peer.messages) - TOTAL
        self.assertLessEqual(dups, 10, "more duplicates than messages in flight")
        a.stop()


class ExpiryAndCorrupt(unittest.TestCase):
    def test_expiry_bounce_and_corrupt_records(self):
        down = free_port()
        a = Server(services=("submission",), domains="a.test", hostname="mx.a.test",
                   extra=fast_relay("queue_lifetime = 3", f"route = down.test 127.0.0.1:{down}",
                                    connect_timeout=1))
        self.addCleanup(a.cleanup)
        qdir = os.path.join(a.data_dir, "queue")
        os.makedirs(qdir)
        bad = {"1000.000001.1.0": b"\x89PNG garbage\x00\xff",
               "1000.000002.1.0": b"from <x@a.test>\nto <y@ok.test",  # truncated
               "1000.000003.1.0": b"from <x@a.test>\nbogus line\nend\n"}
        for qid, text in bad.items():
            with open(os.path.join(qdir, qid + ".env"), "wb") as f:
                f.write(text)
            with open(os.path.join(qdir, qid + ".msg"), "wb") as f:
                f.write(b"Subject: x\n\nx\n")
        a.start()
        a.add_user("alice@a.test", PW)
        for qid in bad:
            wait_until(lambda: os.path.exists(os.path.join(qdir, "corrupt", qid + ".env")),
                       what="moved aside")
            self.assertFalse(os.path.exists(os.path.join(qdir, qid + ".env")))
            self.assertIn(f"relay corrupt id={qid}", a.stderr())
        with session(a) as c:
            c.sendmail("alice@a.test", ["u@down.test"],
                       b"Subject: exp\r\nMessage-ID: <exp@a.test>\r\n\r\nx\r\n")

        def bounce():
            for _, d in delivered(a, "alice@a.test"):
                if b"exp@a.test" in d and b"multipart/report" in d:
                    return d
            return None

        d = wait_until(bounce, timeout=30, what="expiry bounce")
        self.assertIn(b"expired after 3 s in the queue", d)
        self.assertIn(b"cannot connect", d)
        self.assertIn(b"Action: failed", d)
        wait_until(lambda: not queue_ids(a), what="queue empty")
        a.stop()


if __name__ == "__main__":
    unittest.main()
