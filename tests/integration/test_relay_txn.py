"""Transactions on one relay connection (relay/attempt.c): after a
transaction that ended with the reply to its body the next MAIL follows
at once (RFC 5321 4.1.1.4: the server has cleared its state), and after
one that did not (every RCPT refused, so DATA was refused) an RSET comes
first; the refused recipient's sender gets a bounce, the other message
arrives. With PIPELINING the next transaction's MAIL, RCPT and DATA come
right behind a body, before its reply (RFC 2920 3.1), and each message
still gets its own reply."""

import select
import socket
import threading
import unittest

from portico import Server, free_port, wait_until
from relay_common import fast_relay, Peer, queue_ids, submit

PW = "pw-txn-1"


def sender(test, port):
    """alice@a.test's server, relaying ok.test to port over one connection."""
    a = Server(services=("submission",), domains="a.test", hostname="mx.a.test",
               extra=fast_relay(f"route = ok.test 127.0.0.1:{port}", "max_per_destination = 1"))
    test.addCleanup(a.cleanup)
    a.start()
    a.add_user("alice@a.test", PW)
    return a


def submit_some(a, numbers):
    for i in numbers:
        submit(a, "alice@a.test", PW, [f"u{i}@ok.test"],
               f"Subject: txn {i}\r\n\r\nbody {i}\r\n".encode())


class RelayTransactions(unittest.TestCase):
    def test_rset_only_after_an_open_transaction(self):
        peer = Peer(rcpt_replies=["550 5.1.1 no such user here"])
        self.addCleanup(peer.stop)
        port = peer.port
        peer.stop()  # both messages queue before the first attempt
        a = sender(self, port)
        submit_some(a, range(2))
        self.assertEqual(len(queue_ids(a)), 2)
        peer2 = Peer(port=port, rcpt_replies=["550 5.1.1 no such user here"])
        self.addCleanup(peer2.stop)
        wait_until(lambda: not queue_ids(a), timeout=30, what="both entries done")
        self.assertEqual(len(peer2.messages), 1)
        self.assertEqual(peer2.commands[:4], ["EHLO", "MAIL", "RSET", "MAIL"])

        # Then two accepted in a row: no RSET between them.
        submit_some(a, range(2, 4))
        wait_until(lambda: len(peer2.messages) == 3, timeout=30, what="two more delivered")
        self.assertEqual(peer2.commands.count("RSET"), 1, peer2.commands)
        self.assertEqual(peer2.commands.count("MAIL"), 4, peer2.commands)
        a.stop()


class BehindPeer:
    """A raw SMTP peer offering PIPELINING that greets its one connection
    once .go is set and, after each body's ".", waits up to 5 s for more
    input before it answers 250: what arrived in that time is in .behind
    (one entry per body)."""

    def __init__(self):
        self.port = free_port()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.behind, self.bodies = [], []
        self.go = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        with c:
            if self.go.wait(30):
                self._smtp(c)

    def _smtp(self, c):
        buf = b""

        def line(timeout=30):
            nonlocal buf
            for _ in range(10000):
                if b"\r\n" in buf:
                    ln, buf = buf.split(b"\r\n", 1)
                    return ln
                if not select.select([c], [], [], timeout)[0]:
                    return None
                chunk = c.recv(65536)
                if not chunk:
                    return None
                buf += chunk
            return None

        c.sendall(b"220 behind.test ESMTP\r\n")
        for _ in range(1000):
            ln = line()
            if ln is None:
                return
            verb = ln[:4].upper()
            if verb == b"EHLO":
                c.sendall(b"250-behind.test\r\n250 PIPELINING\r\n")
            elif verb == b"DATA":
                c.sendall(b"354 go\r\n")
                body = []
                while (ln := line()) not in (None, b"."):
                    body.append(ln)
                self.bodies.append(b"\r\n".join(body))
                if not select.select([c], [], [], 0)[0] and b"\r\n" not in buf:
                    select.select([c], [], [], 5)
                peek = buf
                if select.select([c], [], [], 0)[0]:
                    peek += c.recv(65536, socket.MSG_PEEK)
                self.behind.append(peek)
                c.sendall(b"250 2.0.0 ok\r\n")
            elif verb == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"250 ok\r\n")

    def stop(self):
        self.sock.close()


class BehindTheBody(unittest.TestCase):
    def test_next_transaction_right_behind_the_body(self):
        peer = BehindPeer()
        self.addCleanup(peer.stop)
        a = sender(self, peer.port)
        submit_some(a, range(3))  # the first one's connection waits for the greeting
        peer.go.set()
        wait_until(lambda: not queue_ids(a), timeout=30, what="all three delivered")
        self.assertEqual(len(peer.bodies), 3)
        # The first two bodies had the next MAIL (and its RCPT, DATA) behind them.
        for b in peer.behind[:2]:
            self.assertTrue(b.startswith(b"MAIL FROM:<alice@a.test>"), b)
            self.assertIn(b"\r\nDATA\r\n", b)
        self.assertNotIn(b"MAIL", peer.behind[2])  # nothing left to send (QUIT may come)
        a.stop()


if __name__ == "__main__":
    unittest.main()
