"""Transactions on one relay connection (relay/attempt.c): after a
transaction that ended with the reply to its body the next MAIL follows
at once (RFC 5321 4.1.1.4: the server has cleared its state), and after
one that did not (every RCPT refused, so DATA was refused) an RSET comes
first; the refused recipient's sender gets a bounce, the other message
arrives."""

import unittest

from portico import Server, wait_until
from relay_common import fast_relay, Peer, queue_ids, submit

PW = "pw-txn-1"


class RelayTransactions(unittest.TestCase):
    def test_rset_only_after_an_open_transaction(self):
        peer = Peer(rcpt_replies=["550 5.1.1 no such user here"])
        self.addCleanup(peer.stop)
        port = peer.port
        peer.stop()  # both messages queue before the first attempt
        a = Server(services=("submission",), domains="a.test", hostname="mx.a.test",
                   extra=fast_relay(f"route = ok.test 127.0.0.1:{port}",
                                    "max_per_destination = 1"))
        self.addCleanup(a.cleanup)
        a.start()
        a.add_user("alice@a.test", PW)
        for i in range(2):
            submit(a, "alice@a.test", PW, [f"u{i}@ok.test"],
                   f"Subject: txn {i}\r\n\r\nbody {i}\r\n".encode())
        self.assertEqual(len(queue_ids(a)), 2)
        peer2 = Peer(port=port, rcpt_replies=["550 5.1.1 no such user here"])
        self.addCleanup(peer2.stop)
        wait_until(lambda: not queue_ids(a), timeout=30, what="both entries done")
        self.assertEqual(len(peer2.messages), 1)
        self.assertEqual(peer2.commands[:4], ["EHLO", "MAIL", "RSET", "MAIL"])

        # Then two accepted in a row: no RSET between them.
        for i in range(2, 4):
            submit(a, "alice@a.test", PW, [f"u{i}@ok.test"],
                   f"Subject: txn {i}\r\n\r\nbody {i}\r\n".encode())
        wait_until(lambda: len(peer2.messages) == 3, timeout=30, what="two more delivered")
        self.assertEqual(peer2.commands.count("RSET"), 1, peer2.commands)
        self.assertEqual(peer2.commands.count("MAIL"), 4, peer2.commands)
        a.stop()


if __name__ == "__main__":
    unittest.main()
