"""IMAP SEARCH (RFC 9051 6.4.4), ESEARCH (RFC 4731, and the IMAP4rev2
form), the MODSEQ key (RFC 7162 3.1.5), SORT/ESORT (RFC 5256, RFC 5267,
RFC 5957) and THREAD (RFC 5256 ORDEREDSUBJECT and REFERENCES) with real
clients: Python imaplib and a raw client over messages delivered by SMTP,
and curl's imap://...?SEARCH URL."""

import imaplib
import re
import smtplib
import subprocess
import time
import unittest

from imap_common import DOMAIN, Raw, login
from portico import ServerTest

USER = "search@" + DOMAIN
PW = "search-pass-9"


def msg(subject, frm, to, date, body, mid, refs=None, cc=None, extra=b""):
    h = (b"From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n"
         % (frm, to, subject, date, mid))
    if cc:
        h += b"Cc: %s\r\n" % cc
    if refs:
        h += b"References: %s\r\nIn-Reply-To: %s\r\n" % (refs, refs.split()[-1])
    return h + extra + b"\r\n" + body


# UIDs 1..6 in delivery order.
MESSAGES = [
    msg(b"Lunch plans", b"Carol <carol@example.net>", b"zed@example.org",
        b"Mon, 30 Nov 2026 12:00:00 +0000", b"shall we eat pizza?\r\n", b"a@x"),
    msg(b"Re: Lunch plans", b"alice@example.net", b"carol@example.net",
        b"Tue, 01 Dec 2026 09:00:00 +0000", b"yes, pizza it is\r\n" + b"padding\r\n" * 200,
        b"b@x", refs=b"<a@x>", cc=b"bob@example.net"),
    msg(b"=?UTF-8?B?Q2Fmw6kgcmVwb3J0?=", b"Bob <bob@example.net>", b"amy@example.org",
        b"Sun, 29 Nov 2026 08:00:00 +0000",
        b"quoted =E2=82=AC price\r\n", b"c@x",
        extra=b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
              b"Content-Transfer-Encoding: quoted-printable\r\n"),
    msg(b"Re: Lunch plans", b"bob@example.net", b"carol@example.net",
        b"Wed, 02 Dec 2026 10:00:00 +0000", b"count me in\r\n", b"d@x",
        refs=b"<a@x> <b@x>"),
    msg(b"status", b"dave@example.net", b"bob@example.net",
        b"Thu, 03 Dec 2026 10:00:00 +0000", b"all fine\r\n", b"e@x",
        refs=b"<missing@x>", extra=b"X-Priority: 1\r\n"),
    msg(b"Status", b"erin@example.net", b"bob@example.net",
        b"Fri, 04 Dec 2026 10:00:00 +0000", b"all fine too\r\n", b"f@x",
        refs=b"<missing@x>"),
]


class SearchTest(ServerTest):
    SERVICES = ("smtp", "imap")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user(USER, PW)
        with smtplib.SMTP("127.0.0.1", cls.server.ports["smtp"], timeout=10) as c:
            for m in MESSAGES:
                c.sendmail("sender@example.net", [USER], m)
        m = login(cls.server, USER, PW)
        m.select("INBOX")
        m.uid("STORE", "1", "+FLAGS", "(\\Seen \\Flagged)")
        m.uid("STORE", "2", "+FLAGS", "(\\Answered work)")
        m.uid("STORE", "5", "+FLAGS", "(\\Deleted \\Draft)")
        m.logout()

    def client(self):
        m = login(self.server, USER, PW)
        self.addCleanup(self._logout, m)
        m.select("INBOX")
        return m

    @staticmethod
    def _logout(m):
        try:
            m.logout()
        except Exception:
            pass

    def raw(self):
        r = Raw(self.server.ports["imap"])
        self.addCleanup(r.close)
        r.cmd(f"a LOGIN {USER} {PW}")
        return r

    def uids(self, m, *criteria):
        typ, data = m.uid("SEARCH", *criteria)
        self.assertEqual(typ, "OK", data)
        return [int(x) for x in data[0].split()]

    # ---- key families ----
    def test_flag_keys(self):
        m = self.client()
        self.assertEqual(self.uids(m, "ALL"), [1, 2, 3, 4, 5, 6])
        self.assertEqual(self.uids(m, "SEEN"), [1])
        self.assertEqual(self.uids(m, "UNSEEN"), [2, 3, 4, 5, 6])
        self.assertEqual(self.uids(m, "FLAGGED"), [1])
        self.assertEqual(self.uids(m, "ANSWERED"), [2])
        self.assertEqual(self.uids(m, "DELETED"), [5])
        self.assertEqual(self.uids(m, "UNDELETED", "UNDRAFT"), [1, 2, 3, 4, 6])
        self.assertEqual(self.uids(m, "KEYWORD", "work"), [2])
        self.assertEqual(self.uids(m, "UNKEYWORD", "work"), [1, 3, 4, 5, 6])
        self.assertEqual(self.uids(m, "NEW"), [])
        self.assertEqual(self.uids(m, "OLD"), [1, 2, 3, 4, 5, 6])

    def test_sets_sizes_logic(self):
        m = self.client()
        self.assertEqual(self.uids(m, "UID", "2:4"), [2, 3, 4])
        self.assertEqual(self.uids(m, "5:*"), [5, 6])
        self.assertEqual(self.uids(m, "LARGER", "1000"), [2])
        self.assertEqual(self.uids(m, "SMALLER", "1000"), [1, 3, 4, 5, 6])
        self.assertEqual(self.uids(m, "OR", "SEEN", "DELETED"), [1, 5])
        self.assertEqual(self.uids(m, "NOT", "(OR SEEN DELETED)"), [2, 3, 4, 6])
        typ, data = m.search(None, "2,4")  # message numbers
        self.assertEqual(data[0], b"2 4")

    def test_dates(self):
        m = self.client()
        # Internal dates are all "now": the delivery day.
        self.assertEqual(len(self.uids(m, "SINCE", "1-Jan-2000")), 6)
        self.assertEqual(self.uids(m, "BEFORE", "1-Jan-2000"), [])
        self.assertEqual(self.uids(m, "SENTON", "1-Dec-2026"), [2])
        self.assertEqual(self.uids(m, "SENTBEFORE", "1-Dec-2026"), [1, 3])
        self.assertEqual(self.uids(m, "SENTSINCE", "3-Dec-2026"), [5, 6])

    def test_header_and_text_keys(self):
        m = self.client()
        self.assertEqual(self.uids(m, "SUBJECT", "lunch"), [1, 2, 4])
        self.assertEqual(self.uids(m, "SUBJECT", "LUNCH"), [1, 2, 4])  # any case
        self.assertEqual(self.uids(m, "FROM", "bob"), [3, 4])
        self.assertEqual(self.uids(m, "TO", "carol"), [2, 4])
        self.assertEqual(self.uids(m, "CC", "bob@"), [2])
        self.assertEqual(self.uids(m, "BCC", "bob"), [])
        self.assertEqual(self.uids(m, "HEADER", "X-Priority", "1"), [5])
        self.assertEqual(self.uids(m, "HEADER", "X-Priority", '""'), [5])
        self.assertEqual(self.uids(m, "BODY", "pizza"), [1, 2])
        self.assertEqual(self.uids(m, "TEXT", "pizza"), [1, 2])
        self.assertEqual(self.uids(m, "TEXT", "dave@"), [5])  # TEXT covers the header
        # Decoded: an RFC 2047 subject, a quoted-printable body in UTF-8.
        self.m_literal(m, "SUBJECT", "café", [3])
        self.m_literal(m, "BODY", "€ price", [3])
        self.assertEqual(self.uids(m, "SUBJECT", "lunch", "FROM", "bob"), [4])

    def m_literal(self, m, key, text, expect):
        m.literal = text.encode()
        typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", key)
        self.assertEqual([int(x) for x in data[0].split()], expect)

    def test_charset(self):
        m = self.client()
        self.assertEqual(self.uids(m, "CHARSET", "US-ASCII", "SUBJECT", "status"), [5, 6])
        r = self.raw()
        r.cmd("b SELECT INBOX")
        _, t = r.cmd("c SEARCH CHARSET KOI8-R SUBJECT x")
        self.assertTrue(t.startswith(b"c NO [BADCHARSET (UTF-8 US-ASCII)]"), t)
        _, t = r.cmd("d SEARCH FROB")
        self.assertTrue(t.startswith(b"d BAD"), t)

    # ---- ESEARCH, rev2, MODSEQ ----
    def test_esearch(self):
        r = self.raw()
        r.cmd("b SELECT INBOX")
        lines, t = r.cmd("c UID SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN")
        self.assertEqual(lines, [b'* ESEARCH (TAG "c") UID MIN 2 MAX 6 COUNT 5 ALL 2:6\r\n'])
        lines, _ = r.cmd("d SEARCH RETURN (COUNT) SEEN")
        self.assertEqual(lines, [b'* ESEARCH (TAG "d") COUNT 1\r\n'])
        lines, _ = r.cmd("e SEARCH RETURN () OR SEEN DELETED")
        self.assertEqual(lines, [b'* ESEARCH (TAG "e") ALL 1,5\r\n'])
        lines, _ = r.cmd("f SEARCH RETURN (MIN) KEYWORD nothing")
        self.assertEqual(lines, [b'* ESEARCH (TAG "f")\r\n'])

    def test_saved_result(self):
        # RFC 5182: RETURN (SAVE) keeps the result for "$"; SAVE alone
        # returns no ESEARCH.
        r = self.raw()
        r.cmd("b SELECT INBOX")
        lines, t = r.cmd("c UID SEARCH RETURN (SAVE) SUBJECT lunch")
        self.assertEqual(lines, [])
        self.assertTrue(t.startswith(b"c OK"), t)
        lines, _ = r.cmd("d UID FETCH $ (UID)")
        self.assertEqual([re.search(rb"UID (\d+)", l).group(1) for l in lines], [b"1", b"2", b"4"])
        lines, _ = r.cmd("e SEARCH $ UNSEEN")
        self.assertEqual(lines, [b"* SEARCH 2 4\r\n"])

    def test_rev2_gets_esearch(self):
        r = self.raw()
        r.cmd("b ENABLE IMAP4rev2")
        r.cmd("c SELECT INBOX")
        lines, t = r.cmd("d SEARCH SUBJECT lunch")
        self.assertEqual(lines, [b'* ESEARCH (TAG "d") ALL 1:2,4\r\n'])
        lines, t = r.cmd("e UID SEARCH KEYWORD none")
        self.assertEqual(lines, [b'* ESEARCH (TAG "e") UID\r\n'])

    def test_modseq_key(self):
        r = self.raw()
        r.cmd("b SELECT INBOX")
        lines, _ = r.cmd("c FETCH 1:* (MODSEQ)")
        mods = {int(re.search(rb"^\* (\d+)", l).group(1)): int(re.search(rb"MODSEQ \((\d+)\)", l).group(1))
                for l in lines if b"FETCH" in l}
        top = max(mods.values())
        lines, t = r.cmd(f"d SEARCH MODSEQ {top}")
        want = sorted(k for k, v in mods.items() if v >= top)
        self.assertEqual(lines, [("* SEARCH " + " ".join(map(str, want)) +
                                  f" (MODSEQ {top})\r\n").encode()])
        lines, _ = r.cmd("e SEARCH RETURN (COUNT) MODSEQ 1")
        self.assertEqual(lines, [b'* ESEARCH (TAG "e") COUNT 6 MODSEQ %d\r\n' % top])

    # ---- SORT (RFC 5256 3) ----
    def sort(self, m, crit, *search):
        typ, data = m.uid("SORT", crit, "UTF-8", *(search or ("ALL",)))
        self.assertEqual(typ, "OK", data)
        return [int(x) for x in data[0].split()]

    def test_sort_keys(self):
        m = self.client()
        self.assertEqual(self.sort(m, "(DATE)"), [3, 1, 2, 4, 5, 6])
        self.assertEqual(self.sort(m, "(REVERSE DATE)"), [6, 5, 4, 2, 1, 3])
        self.assertEqual(self.sort(m, "(ARRIVAL)"), [1, 2, 3, 4, 5, 6])
        # Equal arrival times (delivered within one second) stay in mailbox
        # order whatever REVERSE says (RFC 5256 3): the expected order is
        # computed from the internal dates, as a slow delivery may split them.
        typ, data = m.uid("FETCH", "1:6", "(INTERNALDATE)")
        arrival = {}
        for item in data:
            uid = int(re.search(rb"UID (\d+)", item).group(1))
            arrival[uid] = time.mktime(imaplib.Internaldate2tuple(item))
        self.assertEqual(self.sort(m, "(REVERSE ARRIVAL)"),
                         sorted(arrival, key=lambda u: (-arrival[u], u)))
        self.assertEqual(self.sort(m, "(REVERSE SIZE)")[0], 2)
        self.assertEqual(self.sort(m, "(SIZE)")[-1], 2)
        # Base subjects: "café report", "lunch plans" x3, "status" x2.
        self.assertEqual(self.sort(m, "(SUBJECT)"), [3, 1, 2, 4, 5, 6])
        self.assertEqual(self.sort(m, "(SUBJECT REVERSE DATE)"), [3, 4, 2, 1, 6, 5])
        self.assertEqual(self.sort(m, "(FROM)"), [2, 3, 4, 1, 5, 6])
        self.assertEqual(self.sort(m, "(TO DATE)"), [3, 5, 6, 2, 4, 1])
        self.assertEqual(self.sort(m, "(CC)"), [1, 3, 4, 5, 6, 2])
        self.assertEqual(self.sort(m, "(DISPLAYFROM)"), [2, 3, 4, 1, 5, 6])
        self.assertEqual(self.sort(m, "(DATE)", "UNSEEN"), [3, 2, 4, 5, 6])
        typ, data = m.sort("(DATE)", "UTF-8", "ALL")  # message numbers
        self.assertEqual(data[0], b"3 1 2 4 5 6")

    def test_esort(self):
        r = self.raw()
        r.cmd("b SELECT INBOX")
        lines, t = r.cmd("c UID SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL")
        self.assertEqual(lines, [b'* ESEARCH (TAG "c") UID MIN 3 MAX 6 COUNT 6 ALL 3,1:2,4:6\r\n'])
        _, t = r.cmd("d SORT (FROB) UTF-8 ALL")
        self.assertTrue(t.startswith(b"d BAD"), t)

    # ---- THREAD (RFC 5256 3) ----
    def test_thread_references(self):
        m = self.client()
        typ, data = m.uid("THREAD", "REFERENCES", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        # 1 <- 2 <- 4 by References; 3 alone; 5 and 6 reply to a missing
        # message: the dummy keeps both as one thread (step 3).
        self.assertEqual(data[0], b"(3)(1 2 4)((5)(6))")
        typ, data = m.uid("THREAD", "REFERENCES", "UTF-8", "SUBJECT", "lunch", "NOT", "UID", "2")
        self.assertEqual(data[0], b"(1 4)")

    def test_thread_orderedsubject(self):
        m = self.client()
        typ, data = m.uid("THREAD", "ORDEREDSUBJECT", "UTF-8", "ALL")
        self.assertEqual(data[0], b"(3)(1 (2)(4))(5 6)")
        typ, data = m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
        self.assertEqual(data[0], b"(3)(1 (2)(4))(5 6)")
        r = self.raw()
        r.cmd("b SELECT INBOX")
        _, t = r.cmd("c THREAD FROB UTF-8 ALL")
        self.assertTrue(t.startswith(b"c BAD"), t)

    # ---- curl ----
    def test_curl_search(self):
        out = subprocess.run(
            ["curl", "-s", "--max-time", "20", "-u", f"{USER}:{PW}",
             f"imap://127.0.0.1:{self.server.ports['imap']}/INBOX?SUBJECT%20lunch"],
            capture_output=True, check=True).stdout
        self.assertEqual(out.strip(), b"* SEARCH 1 2 4")


if __name__ == "__main__":
    unittest.main()
