"""IMAP sessions sharing one snapshot version per folder (imap/view_apply.c,
store/mailbox_version.c): many sessions on the server's two loop threads
on one INBOX each see exactly their own picture. A session that is in
the middle of FETCH/STORE/SEARCH while another expunges keeps its message
numbers (RFC 9051 7.5.1) and hears the EXPUNGE (or VANISHED) at the next
NOOP; its own STORE is not echoed again; new mail reaches every one."""

import os
import re
import smtplib

from imap_common import DOMAIN, login
from portico import ServerTest

MSG = b"From: a@example.net\r\nTo: x@example.org\r\nSubject: %s\r\n\r\nbody\r\n"


def uids_by_msn(m, spec="1:*"):
    """{message number: UID} from FETCH (UID) responses."""
    typ, data = m.fetch(spec, "(UID)")
    out = {}
    for d in data:
        if isinstance(d, tuple):
            d = d[0]
        mm = re.match(rb"(\d+) \(UID (\d+)\)", d or b"")
        if mm:
            out[int(mm.group(1))] = int(mm.group(2))
    return out


class ImapShared(ServerTest):
    SERVICES = ("smtp", "imap")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for u in ("gina", "hank", "ivy", "jack"):
            cls.server.add_user(f"{u}@{DOMAIN}", u + "-pw-1")

    def session(self, user):
        m = login(self.server, f"{user}@{DOMAIN}", user + "-pw-1")
        self.addCleanup(lambda: m.shutdown())
        return m

    def fill(self, m, n):
        for i in range(n):
            m.append("INBOX", None, None, MSG % b"m%d" % i)

    def test_lagging_fetch_while_other_expunges(self):
        a, b = self.session("gina"), self.session("gina")
        self.fill(a, 5)
        a.select("INBOX")
        b.select("INBOX")
        b.store("2", "+FLAGS", r"(\Deleted)")
        typ, data = b.expunge()
        self.assertEqual(data, [b"2"])
        # a is told nothing of the expunge during FETCH: numbers stay.
        a.untagged_responses.clear()
        self.assertEqual(uids_by_msn(a), {1: 1, 2: 2, 3: 3, 4: 4, 5: 5})
        self.assertNotIn("EXPUNGE", a.untagged_responses)
        # nor during STORE or SEARCH; message 3 is still UID 3.
        typ, data = a.store("3", "+FLAGS", r"(\Flagged)")
        self.assertEqual(typ, "OK")
        self.assertTrue(any(d.startswith(b"3 (") and b"\\Flagged" in d for d in data), data)
        typ, data = a.search(None, "FLAGGED")
        self.assertEqual(data, [b"3"])
        self.assertNotIn("EXPUNGE", a.untagged_responses)
        # NOOP may announce it: then the numbers move.
        a.noop()
        self.assertEqual(a.untagged_responses.pop("EXPUNGE", []), [b"2"])
        self.assertEqual(uids_by_msn(a), {1: 1, 2: 3, 3: 4, 4: 5})
        typ, data = a.search(None, "FLAGGED")
        self.assertEqual(data, [b"2"])
        # b hears a's flag change once, with its own numbers.
        b.untagged_responses.clear()
        b.noop()
        fetches = b.untagged_responses.pop("FETCH", [])
        self.assertEqual(len(fetches), 1, fetches)
        self.assertTrue(fetches[0].startswith(b"2 (") and b"\\Flagged" in fetches[0])

    def test_own_store_not_echoed_and_new_mail_seen(self):
        a, b = self.session("hank"), self.session("hank")
        self.fill(a, 3)
        a.select("INBOX")
        b.select("INBOX")
        a.store("1:*", "+FLAGS", r"(\Seen)")
        a.untagged_responses.clear()
        b.append("INBOX", None, None, MSG % b"later")
        a.noop()
        self.assertEqual(a.untagged_responses.pop("EXISTS", []), [b"4"])
        self.assertNotIn("FETCH", a.untagged_responses)
        b.noop()
        fetches = b.untagged_responses.pop("FETCH", [])
        self.assertEqual(len(fetches), 3, fetches)

    def test_vanished_under_qresync(self):
        a, b = self.session("ivy"), self.session("ivy")
        self.fill(a, 4)
        a.enable("QRESYNC")
        a.select("INBOX")
        b.select("INBOX")
        b.store("2:3", "+FLAGS", r"(\Deleted)")
        b.expunge()
        typ, data = a.fetch("1:*", "(FLAGS)")
        self.assertNotIn("VANISHED", a.untagged_responses)
        a.noop()
        self.assertEqual(a.untagged_responses.pop("VANISHED", []), [b"2:3"])
        self.assertEqual(uids_by_msn(a), {1: 1, 2: 4})

    def test_many_sessions_one_folder(self):
        first = self.session("jack")
        self.fill(first, 10)
        sessions = [self.session("jack") for _ in range(24)]
        for m in sessions:
            typ, data = m.select("INBOX")
            self.assertEqual(data, [b"10"])
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("a@example.net", [f"jack@{DOMAIN}"], MSG % b"to all")
        sessions[0].store("1", "+FLAGS", r"(\Answered)")
        sessions[1].store("2", "+FLAGS", r"(\Deleted)")
        sessions[1].expunge()
        for i, m in enumerate(sessions):
            m.noop()
            if i == 1:
                continue
            self.assertEqual(m.untagged_responses.pop("EXPUNGE", []), [b"2"], i)
            got = uids_by_msn(m)
            self.assertEqual(len(got), 10, i)
            self.assertEqual(got[1], 1)
            self.assertEqual(got[2], 3)
            typ, data = m.search(None, "ANSWERED")
            self.assertEqual(data, [b"1"], i)


class ImapUnmeasured(ServerTest):
    """Files another program put in cur/ without S=/W= in their names: a
    SELECT opens none of them (sizes are counted when a client first asks),
    and every size a client is told is the exact CRLF size."""

    SERVICES = ("imap", "pop3")
    BODIES = [b"Subject: s%d\nFrom: a@b\n\n" % i + b"line\n" * (10 * i + 1)
              for i in range(6)]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user(f"kate@{DOMAIN}", "kate-pw-1")
        m = login(cls.server, f"kate@{DOMAIN}", "kate-pw-1")
        m.select("INBOX")  # makes the Maildir
        m.logout()
        from maildir import maildir
        cur = os.path.join(maildir(cls.server, f"kate@{DOMAIN}"), "cur")
        for i, body in enumerate(cls.BODIES):
            with open(os.path.join(cur, f"17000000{i:02d}.M{i}P1Q{i}.gen:2,"), "wb") as f:
                f.write(body)

    def crlf(self, i):
        return len(self.BODIES[i].replace(b"\n", b"\r\n"))

    def session(self):
        m = login(self.server, f"kate@{DOMAIN}", "kate-pw-1")
        self.addCleanup(lambda: m.shutdown())
        m.select("INBOX")
        return m

    def sizes(self, m, items):
        typ, data = m.fetch("1:*", items)
        out = []
        for d in data:
            if isinstance(d, tuple):
                d = d[0]
            mm = re.search(rb"RFC822\.SIZE (\d+)", d or b"")
            if mm:
                out.append(int(mm.group(1)))
        return out

    def test_sizes_everywhere(self):
        m = self.session()
        want = [self.crlf(i) for i in range(len(self.BODIES))]
        self.assertEqual(self.sizes(m, "(RFC822.SIZE)"), want)
        self.assertEqual(self.sizes(m, "(RFC822.SIZE ENVELOPE)"), want)
        typ, data = m.fetch("3", "(BODY.PEEK[])")
        self.assertEqual(data[0][1], self.BODIES[2].replace(b"\n", b"\r\n"))
        typ, data = m.search(None, "LARGER", str(want[2]))
        self.assertEqual(data, [b"4 5 6"])
        typ, data = m.uid("SORT", "(REVERSE SIZE)", "UTF-8", "ALL")
        self.assertEqual(data, [b"6 5 4 3 2 1"])
        typ, data = m.status("INBOX", "(SIZE)")
        self.assertIn(b"SIZE %d" % sum(want), data[0])
        import poplib
        p = poplib.POP3("127.0.0.1", self.server.ports["pop3"], timeout=10)
        p.user(f"kate@{DOMAIN}")
        p.pass_("kate-pw-1")
        listed = [int(x.split()[1]) for x in p.list()[1]]
        p.quit()
        self.assertEqual(listed, want)
