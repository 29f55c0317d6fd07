"""kill -9 during a 200-message SMTP load: every message that got 250 is in
the Maildir afterwards and parses; nothing but sent messages appears in new/
(DESIGN.md "Storage": nothing acknowledged is ever lost)."""

import email
import email.policy
import smtplib
import threading
import time
import unittest

from maildir import delivered, split_trace
from portico import ServerTest, wait_until

TOTAL = 200
SESSIONS = 4


class DurabilityTest(ServerTest):
    SERVICES = ("smtp",)

    def test_kill_during_load(self):
        self.server.add_user("load@example.org", "pw-durable-1")
        acked, lock = set(), threading.Lock()

        def sender(k):
            try:
                c = smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10)
                c.ehlo()
                for i in range(k, TOTAL, SESSIONS):
                    body = (f"Subject: load {i}\r\nMessage-ID: <{i}@load>\r\n\r\n"
                            + f"message {i}\r\n" * 50)
                    c.sendmail("x@remote.test", ["load@example.org"], body.encode())
                    with lock:
                        acked.add(i)
            except (OSError, smtplib.SMTPException):
                pass  # the server died under us: expected

        threads = [threading.Thread(target=sender, args=(k,)) for k in range(SESSIONS)]
        for t in threads:
            t.start()
        wait_until(lambda: len(acked) >= 40, timeout=60, what="40 acknowledged")
        self.server.kill()
        for t in threads:
            t.join(30)
        seen = set()
        for name, data in delivered(self.server, "load@example.org"):
            rest = split_trace(data)[1]
            msg = email.message_from_bytes(rest, policy=email.policy.default)
            n = int(msg["Subject"].split()[1])
            self.assertEqual(rest.decode(), f"Subject: load {n}\nMessage-ID: <{n}@load>\n\n"
                             + f"message {n}\n" * 50)
            self.assertIn(f",S={len(data)},", name)
            seen.add(n)
        self.assertTrue(acked <= seen, f"lost: {sorted(acked - seen)}")
        self.assertTrue(seen <= set(range(TOTAL)))

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()


if __name__ == "__main__":
    unittest.main()
