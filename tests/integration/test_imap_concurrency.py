"""IMAP sessions side by side (issue 9 "Concurrency"): two sessions on two
loop threads see each other's flag changes and expunges, IDLE is woken by
an SMTP delivery within a second, POP3 and IMAP on one INBOX stay
consistent, and a SIGKILL during a burst of APPENDs and STOREs loses
nothing that was acknowledged."""

import glob
import imaplib
import os
import poplib
import re
import select
import smtplib
import threading
import time

from imap_common import DOMAIN, login
from portico import Server, ServerTest, wait_until

MSG = b"From: a@example.net\r\nTo: x@example.org\r\nSubject: %s\r\n\r\nbody\r\n"


def read_until(m, pattern, timeout):
    """Reads lines from imaplib's socket until one matches (IDLE)."""
    deadline = time.monotonic() + timeout
    got = []
    while time.monotonic() < deadline:
        r, _, _ = select.select([m.sock], [], [], max(0, deadline - time.monotonic()))
        if not r:
            break
        line = m.readline()
        got.append(line)
        if re.search(pattern, line):
            return got
    raise AssertionError(f"no {pattern!r} within {timeout}s: {got}")


class ImapConcurrency(ServerTest):
    SERVICES = ("smtp", "imap", "pop3")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for u in ("dave", "erin", "fred"):
            cls.server.add_user(f"{u}@{DOMAIN}", u + "-pw-1")

    def session(self, user):
        m = login(self.server, f"{user}@{DOMAIN}", user + "-pw-1")
        self.addCleanup(lambda: m.shutdown())
        return m

    def deliver(self, rcpt, subject):
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("a@example.net", [rcpt], MSG % subject.encode())

    def test_two_sessions_see_flags_and_expunges(self):
        a, b = self.session("dave"), self.session("dave")
        for i in range(3):
            a.append("INBOX", None, None, MSG % b"m%d" % i)
        a.select("INBOX")
        b.select("INBOX")
        a.store("2", "+FLAGS", r"(\Flagged)")
        typ, data = b.noop()
        fetches = b.untagged_responses.pop("FETCH", [])
        self.assertTrue(any(b"\\Flagged" in f for f in fetches), fetches)
        a.store("1", "+FLAGS", r"(\Deleted)")
        a.expunge()
        b.noop()
        self.assertEqual(b.untagged_responses.pop("EXPUNGE", []), [b"1"])
        # A delivery shows up as EXISTS at the next NOOP.
        self.deliver(f"dave@{DOMAIN}", "new one")
        b.noop()
        self.assertEqual(b.untagged_responses.pop("EXISTS", [])[-1], b"3")

    def test_idle_woken_by_smtp_delivery(self):
        m = self.session("erin")
        m.select("INBOX")
        tag = m._new_tag()
        m.send(tag + b" IDLE\r\n")
        self.assertTrue(m.readline().startswith(b"+ "))
        t0 = time.monotonic()
        self.deliver(f"erin@{DOMAIN}", "wake up")
        read_until(m, rb"^\* 1 EXISTS", 1.0)
        self.assertLess(time.monotonic() - t0, 1.5)
        m.send(b"DONE\r\n")
        read_until(m, rb"^" + tag + rb" OK", 2.0)

    def test_pop3_and_imap_share_inbox(self):
        m = self.session("fred")
        for i in range(3):
            self.deliver(f"fred@{DOMAIN}", f"p{i}")
        m.select("INBOX")
        p = poplib.POP3("127.0.0.1", self.server.ports["pop3"], timeout=10)
        p.user(f"fred@{DOMAIN}")
        p.pass_("fred-pw-1")
        p.dele(1)
        p.quit()
        m.noop()
        self.assertEqual(m.untagged_responses.pop("EXPUNGE", []), [b"1"])
        m.store("1", "+FLAGS", r"(\Deleted)")
        m.expunge()
        p = poplib.POP3("127.0.0.1", self.server.ports["pop3"], timeout=10)
        p.user(f"fred@{DOMAIN}")
        p.pass_("fred-pw-1")
        self.assertEqual(p.stat()[0], 1)
        p.quit()


class ImapKill(ServerTest):
    """SIGKILL during a burst: every tagged OK is on disk after restart."""

    SERVICES = ("imap",)

    def test_sigkill_during_appends_and_stores(self):
        srv = self.server
        users = [f"k{i}@{DOMAIN}" for i in range(3)]
        for u in users:
            srv.add_user(u, "kill-pw-1")
        acked = {u: [] for u in users}
        flagged = {u: [] for u in users}
        stop = threading.Event()

        def burst(u):
            try:
                m = login(srv, u, "kill-pw-1")
                m.select("INBOX")
                i = 0
                while not stop.is_set():
                    subj = f"{u}-{i}"
                    typ, data = m.append("INBOX", None, None, MSG % subj.encode())
                    if typ != "OK":
                        break
                    acked[u].append(subj)
                    uid = int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))
                    typ, _ = m.uid("STORE", str(uid), "+FLAGS", r"(\Flagged)")
                    if typ == "OK":
                        flagged[u].append(subj)
                    i += 1
            except (OSError, imaplib.IMAP4.error, imaplib.IMAP4.abort):
                pass

        threads = [threading.Thread(target=burst, args=(u,)) for u in users]
        for t in threads:
            t.start()
        wait_until(lambda: sum(len(v) for v in flagged.values()) >= 15, timeout=30,
                   what="some acknowledged APPENDs")
        srv.kill()
        stop.set()
        for t in threads:
            t.join(10)
        for u in users:
            local = u.split("@")[0]
            files = {}
            for path in glob.glob(os.path.join(srv.data_dir, "users", DOMAIN, local, "mail",
                                               "*", "*")):
                if os.path.basename(os.path.dirname(path)) not in ("new", "cur"):
                    continue
                with open(path, "rb") as f:
                    m = re.search(rb"Subject: (\S+)", f.read())
                if m:
                    files[m.group(1).decode()] = os.path.basename(path)
            for subj in acked[u]:
                self.assertIn(subj, files, f"acknowledged APPEND lost: {subj}")
            for subj in flagged[u]:
                self.assertRegex(files[subj], r":2,[A-Z]*F", f"acknowledged STORE lost: {subj}")
        srv.start()
        m = login(srv, users[0], "kill-pw-1")
        typ, data = m.status("INBOX", "(MESSAGES)")
        self.assertGreaterEqual(int(re.search(rb"MESSAGES (\d+)", data[0]).group(1)),
                                len(acked[users[0]]))
        m.logout()

    def test_sigkill_during_big_stores(self):
        """STOREs of 300 messages rename on a helper thread
        (store/rename_pipe.c): killed in the middle of them, the server
        comes back with every message, and the flags it reports are the
        ones in the file names (files are the truth)."""
        srv = self.server
        user = f"big@{DOMAIN}"
        srv.add_user(user, "kill-pw-2")
        m = login(srv, user, "kill-pw-2")
        for i in range(300):
            self.assertEqual(m.append("INBOX", None, None, MSG % b"big-%d" % i)[0], "OK")
        m.select("INBOX")
        acked = []
        stop = threading.Event()

        def flip():
            try:
                for i in range(1000):
                    op = "+FLAGS.SILENT" if i % 2 == 0 else "-FLAGS.SILENT"
                    if stop.is_set() or m.uid("STORE", "1:*", op, r"(\Seen)")[0] != "OK":
                        return
                    acked.append(op)
            except (OSError, imaplib.IMAP4.error, imaplib.IMAP4.abort):
                pass

        t = threading.Thread(target=flip)
        t.start()
        wait_until(lambda: len(acked) >= 3, timeout=60, what="three big STOREs")
        srv.kill()
        stop.set()
        t.join(10)
        srv.start()
        m = login(srv, user, "kill-pw-2")
        m.select("INBOX")
        typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        seen = {}
        for item in data:
            if isinstance(item, tuple):
                subj = re.search(rb"Subject: (\S+)", item[1]).group(1).decode()
                seen[subj] = rb"\Seen" in item[0]
        self.assertEqual(len(seen), 300)
        root = os.path.join(srv.data_dir, "users", DOMAIN, "big", "mail")
        on_disk = {}
        for path in glob.glob(os.path.join(root, "cur", "*")) + glob.glob(
                os.path.join(root, "new", "*")):
            with open(path, "rb") as f:
                subj = re.search(rb"Subject: (\S+)", f.read()).group(1).decode()
            on_disk[subj] = re.search(r":2,[A-Z]*S", os.path.basename(path)) is not None
        self.assertEqual(on_disk, seen)
        m.logout()
