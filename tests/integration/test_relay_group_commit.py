"""The queue's group commit (queue/sync.c) keeps every 250: several
submission sessions at once, kill -9 of the server right after their last
250s, and every acknowledged message is on disk and delivered after the
restart. And the order of the durable steps, from the system calls
themselves (strace -f -y on the running server): for every acknowledged
entry its .msg got its record (its attribute) and was fsynced under
another name (a tmp. or a reused free. file) before its rename, and a
fsync of queue/ that began after the rename ended before the 250 was
written. The same with
files reused from the pool, and a kill -9 after that."""

import os
import re
import smtplib
import threading
import unittest

from portico import (Server, call_ok, first_call, free_port, parse_strace, strace_server,
                     wait_until)
from relay_common import fast_relay, Peer, queue_ids

PW = "pw-gc-1"
SESSIONS = 8
PER_SESSION = 25
QUEUED = re.compile(r"queued as (\S+)")


def submit_batch(server, tag, per_session=PER_SESSION, sessions=SESSIONS):
    """SESSIONS concurrent plaintext-AUTH sessions; returns {queue id: Message-ID}
    of every message answered 250."""
    acked, errors, lock = {}, [], threading.Lock()

    def one(s):
        try:
            with smtplib.SMTP("127.0.0.1", server.ports["submission"], timeout=60) as c:
                c.login("alice@a.test", PW)
                for i in range(per_session):
                    mid = f"{tag}-{s}-{i}"
                    c.mail("alice@a.test")
                    c.rcpt("u@ok.test")
                    body = "x" * 70 + "\r\n"
                    code, text = c.data((f"Subject: {mid}\r\nMessage-ID: <{mid}@a.test>\r\n"
                                         f"\r\n{body * 30}").encode())
                    m = QUEUED.search(text.decode())
                    if code == 250 and m:
                        with lock:
                            acked[m.group(1)] = mid
        except Exception as e:  # reported below, with the thread's name
            errors.append(f"session {s}: {e!r}")

    threads = [threading.Thread(target=one, args=(s,)) for s in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise AssertionError("; ".join(errors))
    return acked


def sender(peer_port):
    a = Server(services=("submission",), domains="a.test", hostname="mx.a.test",
               extra="[auth]\nallow_plaintext_auth = yes\n"
                     + fast_relay(f"route = ok.test 127.0.0.1:{peer_port}"))
    a.start()
    a.add_user("alice@a.test", PW)
    return a


class KillAfterBatch(unittest.TestCase):
    def test_kill9_right_after_concurrent_250s(self):
        peer_port = free_port()  # nobody listens yet: everything stays queued
        a = sender(peer_port)
        self.addCleanup(a.cleanup)
        acked = submit_batch(a, "k")
        a.kill()
        self.assertEqual(len(acked), SESSIONS * PER_SESSION, "every message got its 250")
        on_disk = set(queue_ids(a))
        qdir = os.path.join(a.data_dir, "queue")
        for qid in acked:
            self.assertIn(qid, on_disk, f"acknowledged {qid} has no record")
            self.assertTrue(os.path.getsize(os.path.join(qdir, qid + ".msg")) > 2000)
        peer = Peer(port=peer_port)
        self.addCleanup(peer.stop)
        a.start()
        mids = lambda: {re.search(rb"Message-ID: <([^@]+)@", m[2]).group(1).decode()
                        for m in peer.messages}
        want = set(acked.values())
        wait_until(lambda: want <= mids(), timeout=120, what="every acknowledged message")
        wait_until(lambda: not queue_ids(a), timeout=30, what="queue empty")
        a.stop()


RELAY_CALLS = "openat,fsync,fdatasync,fsetxattr,renameat,renameat2,write,writev,sendto,sendmsg"


class DurableOrder(unittest.TestCase):
    def test_fsyncs_before_each_250(self):
        a = sender(free_port())
        self.addCleanup(a.cleanup)
        tracer, log = strace_server(self, a, RELAY_CALLS)
        acked = submit_batch(a, "o", per_session=6, sessions=5)
        tracer.terminate()
        tracer.wait(20)
        self.assertEqual(len(acked), 30)
        calls = parse_strace(log)
        for qid in acked:
            check_entry(self, calls, qid)
        a.stop()


def free_files(a):
    return [n for n in os.listdir(os.path.join(a.data_dir, "queue")) if n.startswith("free.")]


def bodies_by_mid(peer):
    out = {}
    for m in peer.messages:
        mid = re.search(rb"Message-ID: <([^@]+)@", m[2]).group(1).decode()
        out.setdefault(mid, []).append(m[2])
    return out


class ReusedFiles(unittest.TestCase):
    """Delivered entries leave their files in the pool (queue/pool.c); the
    next entries are written into them under the same durable order, and
    a kill -9 right after their 250s loses none, resurrects no delivered
    entry and mixes no old bytes into a new message."""

    def test_reuse_durable_and_clean(self):
        peer = Peer()
        self.addCleanup(peer.stop)
        a = sender(peer.port)
        self.addCleanup(a.cleanup)
        first_batch = submit_batch(a, "r1", per_session=10, sessions=4)
        wait_until(lambda: not queue_ids(a), timeout=60, what="first batch delivered")
        # Entries written while others were delivered reused their files
        # already; what is left waits in the pool.
        self.assertTrue(free_files(a), "no delivered entry's file was pooled")
        peer.stop()  # the second batch stays queued
        tracer, log = strace_server(self, a, RELAY_CALLS)
        second = submit_batch(a, "r2", per_session=6, sessions=4)
        tracer.terminate()
        tracer.wait(20)
        a.kill()
        calls = parse_strace(log)
        reused = 0
        for qid in second:
            check_entry(self, calls, qid)
            msg, _ = published(self, calls, qid + ".msg")
            reused += '"free.' in msg[3]
        self.assertGreater(reused, 0, "no new entry was written into a pooled file")
        self.assertEqual(set(queue_ids(a)), set(second), "exactly the second batch is queued")

        peer2 = Peer(port=peer.port)
        self.addCleanup(peer2.stop)
        a.start()
        want = set(second.values())
        wait_until(lambda: want <= set(bodies_by_mid(peer2)), timeout=120,
                   what="the second batch delivered")
        wait_until(lambda: not queue_ids(a), timeout=30, what="queue empty")
        got = bodies_by_mid(peer2)
        self.assertFalse(set(first_batch.values()) & set(got), "a delivered entry came back")
        for mid, bodies in got.items():
            for b in bodies:
                self.assertIn(f"Subject: {mid}".encode(), b)
                self.assertTrue(b.rstrip(b"\r\n").endswith(b"x" * 70), f"{mid} has a strange end")
                self.assertEqual(b.count(b"x" * 70), 30, f"{mid} holds other bytes")
        a.stop()


def published(test, calls, name):
    """The rename that put name in queue/ and the fsync of the file under
    its earlier name (a tmp. file, or a reused free. one) before it."""
    rename = first_call(calls, lambda c: c[2] in ("renameat", "renameat2") and call_ok(c)
                   and re.search(r', "' + re.escape(name) + r'"', c[3]))
    test.assertIsNotNone(rename, f"{name} never renamed into place")
    src = re.search(r'^\d+<[^>]*>, "([^"]+)"', rename[3]).group(1)
    test.assertTrue(src.startswith(("tmp.", "free.")), f"{name} came from {src}")
    sync = first_call(calls, lambda c: c[2] == "fsync" and call_ok(c) and c[1] < rename[0] and
                 re.match(r"\d+<[^>]*/" + re.escape(src) + ">", c[3]))
    test.assertIsNotNone(sync, f"{name} ({src}) not fsynced before its rename")
    return rename, sync


def check_entry(test, calls, qid):
    # The 250 that names the entry (the reply to the end of DATA).
    reply = first_call(calls, lambda c: c[2] in ("write", "writev", "sendto", "sendmsg")
                  and re.search(r"250 [^\"]*queued as " + re.escape(qid), c[3]))
    test.assertIsNotNone(reply, f"no 250 for {qid} in the trace")
    # One file: the message with its record in its attribute, written and
    # fsynced under another name and renamed into place. (A .env may come
    # before the 250 is written: the relay's first attempt can be quicker.)
    msg, sync = published(test, calls, qid + ".msg")
    attr = first_call(calls, lambda c: c[2] == "fsetxattr" and call_ok(c) and c[1] < sync[0]
                 and re.match(re.escape(sync[3].split(">")[0]) + ">", c[3])
                 and "user.portico.queue" in c[3] and "to <" in c[3])
    test.assertIsNotNone(attr, f"{qid}'s record not set on its file before the fsync")
    # A fsync of queue/ that began after the rename and ended before the 250.
    dir_sync = first_call(calls, lambda c: c[2] == "fsync" and call_ok(c) and c[1] < reply[0] and
                     re.match(r"\d+<[^>]*/queue>", c[3]), after=msg[1])
    test.assertIsNotNone(dir_sync, f"no fsync of queue/ between {qid}'s rename and its 250")


if __name__ == "__main__":
    unittest.main()
