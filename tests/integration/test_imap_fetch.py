"""IMAP FETCH (RFC 9051 6.4.5, 7.5.2) with real clients: Python imaplib
over messages delivered by SMTP (smtplib) with known bytes: every data
item, exact BODY[] bytes, partials, HEADER.FIELDS(.NOT), parts of a nested
multipart, BODYSTRUCTURE of real-world shaped messages against strings
written from the RFC, \\Seen after BODY[] and not after BODY.PEEK[],
CONDSTORE/QRESYNC (CHANGEDSINCE, VANISHED), curl imap://, and a 50 MiB
message fetched with bounded RSS."""

import hashlib
import imaplib
import os
import re
import smtplib
import socket
import subprocess
import unittest

from imap_common import DOMAIN, Raw, login
from portico import ServerTest, bounded_memory_env

USER = "fetch@" + DOMAIN
PW = "fetch-pass-9"

SIMPLE = (b"From: Bob Smith <bob@example.net>\r\n"
          b"To: Fetch User <fetch@example.org>\r\n"
          b"Cc: carol@example.net\r\n"
          b"Subject: first message\r\n"
          b"Message-ID: <simple-1@example.net>\r\n"
          b"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
          b"X-Long: part one\r\n"
          b" continued\r\n"
          b"\r\n"
          b"Hello,\r\n"
          b"this is the body.\r\n")

INNER = (b"From: dave@example.net\r\n"
         b"Subject: inner\r\n"
         b"\r\n"
         b"inner body\r\n")

# multipart/mixed: 1 = multipart/alternative (1.1 plain, 1.2 html),
# 2 = a base64 attachment with an RFC 2231 file name, 3 = message/rfc822.
NESTED = (b"From: Alice <alice@example.net>\r\n"
          b"To: fetch@example.org\r\n"
          b"Subject: =?UTF-8?Q?caf=C3=A9_menu?=\r\n"
          b"Message-ID: <nested-1@example.net>\r\n"
          b"Date: Wed, 02 Dec 2026 09:30:00 +0100\r\n"
          b"MIME-Version: 1.0\r\n"
          b"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
          b"\r\n"
          b"preamble\r\n"
          b"--outer\r\n"
          b"Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
          b"\r\n"
          b"--alt\r\n"
          b"Content-Type: text/plain; charset=utf-8\r\n"
          b"\r\n"
          b"plain text\r\n"
          b"--alt\r\n"
          b"Content-Type: text/html; charset=utf-8\r\n"
          b"Content-Transfer-Encoding: quoted-printable\r\n"
          b"\r\n"
          b"<p>html</p>\r\n"
          b"--alt--\r\n"
          b"--outer\r\n"
          b"Content-Type: application/octet-stream\r\n"
          b"Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.bin\r\n"
          b"Content-Transfer-Encoding: base64\r\n"
          b"\r\n"
          b"AAECAw==\r\n"
          b"--outer\r\n"
          b"Content-Type: message/rfc822\r\n"
          b"\r\n" + INNER +
          b"--outer--\r\n")


def deliver(server, msg, rcpt=USER):
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as c:
        c.sendmail("sender@example.net", [rcpt], msg)


def literal(resp):
    """The first literal's bytes of an imaplib FETCH response."""
    for part in resp:
        if isinstance(part, tuple):
            return part[1]
    raise AssertionError(f"no literal in {resp!r}")


def literals(resp):
    """{item name: bytes} of the literals in an imaplib FETCH response."""
    out = {}
    for part in resp:
        if isinstance(part, tuple):
            name = part[0].rsplit(b" {", 1)[0].split(b" ")[-1]
            out[name] = part[1]
    return out


class FetchTest(ServerTest):
    SERVICES = ("smtp", "imap")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user(USER, PW)
        deliver(cls.server, SIMPLE)
        deliver(cls.server, NESTED)

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

    def fetch(self, m, uid, items):
        typ, data = m.uid("FETCH", str(uid), items)
        self.assertEqual(typ, "OK", data)
        return data

    # ---- simple items ----
    def test_emailid_search_and_move(self):
        """RFC 8474: EMAILIDs differ per message, SEARCH EMAILID finds the
        one, and a MOVE keeps it (the store derives it from the file)."""
        m = login(self.server, USER, PW)
        self.addCleanup(self._logout, m)
        m.create("ObjIds")
        m.select("ObjIds")
        for n in range(3):
            m.append("ObjIds", None, None, b"Subject: obj %d\r\n\r\nbody\r\n" % n)
        typ, data = m.uid("FETCH", "1:*", "(EMAILID)")
        self.assertEqual(typ, "OK")
        ids = {int(re.search(rb"UID (\d+)", d).group(1)):
               re.search(rb"EMAILID \(([A-Za-z0-9_-]+)\)", d).group(1) for d in data}
        self.assertEqual(len(set(ids.values())), 3, ids)
        typ, found = m.uid("SEARCH", "EMAILID", ids[2].decode())
        self.assertEqual((typ, found), ("OK", [b"2"]))
        typ, found = m.uid("SEARCH", "EMAILID", "Mnosuchid")
        self.assertEqual((typ, found), ("OK", [b""]))
        self.assertEqual(m.uid("MOVE", "2", "INBOX")[0], "OK")
        m.select("INBOX")
        typ, found = m.uid("SEARCH", "EMAILID", ids[2].decode())
        self.assertEqual(typ, "OK")
        self.assertEqual(len(found[0].split()), 1, found)
        moved = found[0].decode()
        self.assertIn(b"EMAILID (" + ids[2] + b")", self.fetch(m, moved, "(EMAILID)")[0])
        m.uid("STORE", moved, "+FLAGS.SILENT", "(\\Deleted)")
        m.expunge()

    def test_flags_date_size_uid_modseq_ids(self):
        m = self.client()
        data = self.fetch(m, 1, "(FLAGS INTERNALDATE RFC822.SIZE UID MODSEQ EMAILID THREADID)")
        line = data[0]
        self.assertRegex(line, rb'^1 \(FLAGS \([^)]*\) INTERNALDATE "[ 0-9]\d-[A-Z][a-z]{2}-\d{4} '
                               rb'\d\d:\d\d:\d\d [+-]\d{4}" RFC822.SIZE \d+ UID 1 MODSEQ \(\d+\) '
                               rb'EMAILID \([A-Za-z0-9_-]+\) THREADID NIL\)$')
        size = int(re.search(rb"RFC822.SIZE (\d+)", line).group(1))
        whole = literal(self.fetch(m, 1, "(BODY.PEEK[])"))
        self.assertEqual(size, len(whole))
        # FAST / ALL / FULL macros (RFC 9051 6.4.5)
        self.assertIn(b"ENVELOPE", self.fetch(m, 1, "ALL")[0])
        self.assertIn(b"BODY (", self.fetch(m, 1, "FULL")[0])
        self.assertNotIn(b"ENVELOPE", self.fetch(m, 1, "FAST")[0])

    def test_envelope(self):
        m = self.client()
        line = self.fetch(m, 1, "(ENVELOPE)")[0]
        self.assertEqual(
            line,
            b'1 (UID 1 ENVELOPE ("Tue, 01 Dec 2026 10:00:00 +0000" "first message" '
            b'(("Bob Smith" NIL "bob" "example.net")) (("Bob Smith" NIL "bob" "example.net")) '
            b'(("Bob Smith" NIL "bob" "example.net")) (("Fetch User" NIL "fetch" "example.org")) '
            b'((NIL NIL "carol" "example.net")) NIL NIL "<simple-1@example.net>"))')

    # ---- body sections ----
    def test_body_exact_bytes_and_sections(self):
        m = self.client()
        whole = literal(self.fetch(m, 1, "(BODY.PEEK[])"))
        # Delivery prepends its trace fields; the rest is the sent bytes.
        self.assertTrue(whole.endswith(SIMPLE), whole)
        self.assertTrue(whole.startswith(b"Return-Path: <sender@example.net>\r\n"))
        got = literals(self.fetch(m, 1, "(BODY.PEEK[HEADER] BODY.PEEK[TEXT])"))
        self.assertEqual(got[b"BODY[HEADER]"] + got[b"BODY[TEXT]"], whole)
        self.assertEqual(got[b"BODY[TEXT]"], b"Hello,\r\nthis is the body.\r\n")
        self.assertTrue(got[b"BODY[HEADER]"].endswith(b"continued\r\n\r\n"))
        # RFC822.HEADER / RFC822.TEXT are the same bytes (RFC 9051 6.4.5).
        got = literals(self.fetch(m, 1, "(RFC822.HEADER)"))
        self.assertEqual(got[b"RFC822.HEADER"], literals(
            self.fetch(m, 1, "(BODY.PEEK[HEADER])"))[b"BODY[HEADER]"])
        # BODY[1] of a non-multipart message is its body (RFC 9051 6.4.5).
        self.assertEqual(literal(self.fetch(m, 1, "(BODY.PEEK[1])")),
                         b"Hello,\r\nthis is the body.\r\n")

    def test_partials(self):
        m = self.client()
        whole = literal(self.fetch(m, 1, "(BODY.PEEK[])"))
        for off, n in ((0, 10), (5, 3), (len(whole) - 4, 100), (30, 1)):
            data = self.fetch(m, 1, f"(BODY.PEEK[]<{off}.{n}>)")
            self.assertIn(b"BODY[]<%d>" % off, data[0][0])
            self.assertEqual(literal(data), whole[off:off + n])
        # An origin past the end: an empty string.
        data = self.fetch(m, 1, f"(BODY.PEEK[]<{len(whole) + 5}.10>)")
        self.assertIn(b"{0}", data[0][0] if isinstance(data[0], tuple) else data[0])
        text = literal(self.fetch(m, 1, "(BODY.PEEK[TEXT]<8.4>)"))
        self.assertEqual(text, b"this")

    def test_header_fields(self):
        m = self.client()
        got = literal(self.fetch(m, 1, "(BODY.PEEK[HEADER.FIELDS (SUBJECT x-long)])"))
        self.assertEqual(got, b"Subject: first message\r\nX-Long: part one\r\n continued\r\n\r\n")
        got = literal(self.fetch(m, 1, "(BODY.PEEK[HEADER.FIELDS.NOT (Received Return-Path "
                                       "X-Long Message-ID Date Cc)])"))
        self.assertEqual(got, b"From: Bob Smith <bob@example.net>\r\n"
                              b"To: Fetch User <fetch@example.org>\r\n"
                              b"Subject: first message\r\n\r\n")
        data = self.fetch(m, 1, "(BODY.PEEK[HEADER.FIELDS (Subject)]<0.7>)")
        self.assertIn(b"BODY[HEADER.FIELDS (Subject)]<0>", data[0][0])
        self.assertEqual(literal(data), b"Subject")

    def test_nested_multipart_parts(self):
        m = self.client()
        got = literals(self.fetch(
            m, 2, "(BODY.PEEK[1.1] BODY.PEEK[1.2] BODY.PEEK[1.2.MIME] BODY.PEEK[2] "
                  "BODY.PEEK[3] BODY.PEEK[3.HEADER] BODY.PEEK[3.TEXT] BODY.PEEK[3.1])"))
        self.assertEqual(got[b"BODY[1.1]"], b"plain text")
        self.assertEqual(got[b"BODY[1.2]"], b"<p>html</p>")
        self.assertEqual(got[b"BODY[1.2.MIME]"],
                         b"Content-Type: text/html; charset=utf-8\r\n"
                         b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
        self.assertEqual(got[b"BODY[2]"], b"AAECAw==")
        # RFC 2046 5.1.1: the CRLF before a boundary belongs to the boundary.
        self.assertEqual(got[b"BODY[3]"], INNER[:-2])
        self.assertEqual(got[b"BODY[3.HEADER]"], b"From: dave@example.net\r\nSubject: inner\r\n\r\n")
        self.assertEqual(got[b"BODY[3.TEXT]"], b"inner body")
        self.assertEqual(got[b"BODY[3.1]"], b"inner body")
        # A part that is not there is NIL.
        self.assertIn(b"BODY[9] NIL", self.fetch(m, 2, "(BODY.PEEK[9])")[0])

    def test_bodystructure(self):
        # Written from RFC 9051 7.5.2: body-type-mpart is the parts, the
        # subtype, then (extension data) the parameters, disposition,
        # language and location; body-type-1part is type, subtype,
        # parameters, id, description, encoding, size [lines] and, for
        # message/rfc822, the envelope and body structure of the message.
        m = self.client()
        line = flat(self.fetch(m, 2, "(BODYSTRUCTURE)"))
        inner_env = (b'(NIL "inner" ((NIL NIL "dave" "example.net")) ((NIL NIL "dave" "example.net")) '
                     b'((NIL NIL "dave" "example.net")) NIL NIL NIL NIL NIL)')
        # RFC 2046 5.1.1: a part's body ends before the CRLF of the next
        # boundary ("plain text" is 10 octets, one line). The RFC 2231
        # file name is given decoded, as UTF-8 in a literal.
        expect = (
            b'2 (UID 2 BODYSTRUCTURE ('
            b'(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 10 1 NIL NIL NIL NIL)'
            b'("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 11 1 NIL NIL NIL NIL)'
            b' "ALTERNATIVE" ("BOUNDARY" "alt") NIL NIL NIL)'
            b'("APPLICATION" "OCTET-STREAM" NIL NIL NIL "BASE64" 8 NIL '
            b'("ATTACHMENT" ("FILENAME" {12}\r\nr\xc3\xa9sum\xc3\xa9.bin)) NIL NIL)'
            b'("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 52 ' + inner_env +
            b' ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 10 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL)'
            b' "MIXED" ("BOUNDARY" "outer") NIL NIL NIL))')
        self.assertEqual(_norm(line), _norm(expect))
        body = self.fetch(m, 1, "(BODY)")[0]
        self.assertEqual(body, b'1 (UID 1 BODY ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL '
                               b'"7BIT" 27 2))')

    # ---- \Seen (RFC 9051 6.4.5) ----
    def test_seen_set_by_body_not_by_peek(self):
        deliver(self.server, b"Subject: seen test\r\n\r\nbody\r\n")
        m = self.client()
        uid = m.uid("SEARCH", None, "SUBJECT", '"seen test"')[1][0].split()[-1].decode()
        self.fetch(m, uid, "(BODY.PEEK[])")
        self.assertIn(b"FLAGS ()", self.fetch(m, uid, "(FLAGS)")[0])
        data = self.fetch(m, uid, "(BODY[TEXT])")
        self.assertIn(b"FLAGS (\\Seen)", data[0][0])  # in the same FETCH response
        self.assertIn(b"FLAGS (\\Seen)", self.fetch(m, uid, "(FLAGS)")[0])
        m.uid("STORE", uid, "-FLAGS.SILENT", "(\\Seen)")
        data = self.fetch(m, uid, "(RFC822)")
        self.assertIn(b"FLAGS (\\Seen)", data[0][0])
        # EXAMINE is read-only: no \Seen.
        m.uid("STORE", uid, "-FLAGS.SILENT", "(\\Seen)")
        m.select("INBOX", readonly=True)
        data = self.fetch(m, uid, "(BODY[])")
        self.assertNotIn(b"\\Seen", data[0][0])

    # ---- CONDSTORE / QRESYNC (RFC 7162) ----
    def test_qresync_reconnect_gets_changes(self):
        for i in range(3):
            deliver(self.server, b"Subject: sync %d\r\n\r\nx\r\n" % i)
        r = Raw(self.server.ports["imap"])
        self.addCleanup(r.close)
        r.cmd(f"a LOGIN {USER} {PW}")
        r.cmd("b ENABLE QRESYNC")
        lines, _ = r.cmd("c SELECT INBOX")
        uidv = int(re.search(rb"UIDVALIDITY (\d+)", b"".join(lines)).group(1))
        hms = int(re.search(rb"HIGHESTMODSEQ (\d+)", b"".join(lines)).group(1))
        lines, _ = r.cmd("d UID SEARCH SUBJECT sync")
        uids = [int(x) for x in lines[0].split()[2:]]
        self.assertEqual(len(uids), 3)
        r.cmd("e LOGOUT")
        # Another client changes a flag and expunges a message.
        m = self.client()
        m.uid("STORE", str(uids[0]), "+FLAGS", "(\\Flagged)")
        m.uid("STORE", str(uids[1]), "+FLAGS", "(\\Deleted)")
        m.expunge()
        # The first client comes back with its last HIGHESTMODSEQ.
        r2 = Raw(self.server.ports["imap"])
        self.addCleanup(r2.close)
        r2.cmd(f"a LOGIN {USER} {PW}")
        r2.cmd("b ENABLE QRESYNC")
        r2.cmd("c SELECT INBOX")
        lines, t = r2.cmd(f"d UID FETCH 1:* (FLAGS) (CHANGEDSINCE {hms} VANISHED)")
        self.assertTrue(t.startswith(b"d OK"), t)
        self.assertEqual(lines[0], b"* VANISHED (EARLIER) %d\r\n" % uids[1])
        fetched = [l for l in lines if b"FETCH" in l]
        self.assertEqual(len(fetched), 1, lines)
        self.assertRegex(fetched[0], rb"UID %d .*FLAGS \(\\Flagged\)" % uids[0])
        self.assertIn(b"MODSEQ (", fetched[0])
        # CHANGEDSINCE alone (CONDSTORE): the changed message only, with MODSEQ.
        lines, t = r2.cmd(f"e FETCH 1:* (FLAGS) (CHANGEDSINCE {hms})")
        self.assertEqual(len([l for l in lines if b"FETCH" in l]), 1, lines)
        # VANISHED without QRESYNC, or without UID, is refused.
        _, t = r2.cmd(f"f FETCH 1:* (FLAGS) (CHANGEDSINCE {hms} VANISHED)")
        self.assertTrue(t.startswith(b"f BAD"), t)
        self.assertTrue(uidv > 0)

    # ---- bad input ----
    def test_bad_fetches(self):
        r = Raw(self.server.ports["imap"])
        self.addCleanup(r.close)
        r.cmd(f"a LOGIN {USER} {PW}")
        r.cmd("b SELECT INBOX")
        for cmd in ("c FETCH 1:* (BODY[)", "c FETCH 99999 FLAGS", "c FETCH x FLAGS",
                    "c FETCH 1 (BINARY[])", "c FETCH 1 BODY[1.2.3.4.5.6.7.8.9.1.2.3.4.5.6.7.8]",
                    "c FETCH 1 (" + "FLAGS " * 200 + ")", "c UID FETCH 1:* BODY[HEADER.FIELDS ()]"):
            _, t = r.cmd(cmd)
            self.assertRegex(t, rb"^c (BAD|NO) ", cmd)
        _, t = r.cmd("d UID FETCH 4000000000 FLAGS")  # unknown UIDs: nothing, OK
        self.assertTrue(t.startswith(b"d OK"))

    # ---- curl imap:// ----
    def test_curl_fetch_by_uid(self):
        m = self.client()
        whole = literal(self.fetch(m, 1, "(BODY.PEEK[])"))
        out = subprocess.run(
            ["curl", "-s", "--max-time", "20", "-u", f"{USER}:{PW}",
             f"imap://127.0.0.1:{self.server.ports['imap']}/INBOX;UID=1"],
            capture_output=True, check=True).stdout
        self.assertEqual(out, whole)
        out = subprocess.run(
            ["curl", "-s", "--max-time", "20", "-u", f"{USER}:{PW}",
             f"imap://127.0.0.1:{self.server.ports['imap']}/INBOX;UID=2;SECTION=1.2"],
            capture_output=True, check=True).stdout
        self.assertEqual(out, b"<p>html</p>")


def flat(data):
    """An imaplib response with its literals put back inline."""
    out = b""
    for part in data:
        if isinstance(part, tuple):
            out += part[0] + b"\r\n" + part[1]
        else:
            out += part
    return out


def _norm(b):
    """Case of atoms differs between servers ("7BIT"/"7bit"): compare
    case-insensitively, strings and all."""
    return b.upper()


class FetchLargeMessage(ServerTest):
    SERVICES = ("imap",)
    ENV = bounded_memory_env()

    def test_50_mib_body_streams(self):
        self.server.add_user("big@" + DOMAIN, "big-pass-9")
        line = b"y" * 76 + b"\n"
        body = b"Subject: big\n\n" + line * (50 * 1024 * 1024 // len(line))
        d = os.path.join(self.server.data_dir, "users", DOMAIN, "big", "mail")
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        with open(os.path.join(d, "new", "1700000000.big.host"), "wb") as f:
            f.write(body)
        wire = body.replace(b"\n", b"\r\n")
        r = Raw(self.server.ports["imap"], timeout=60)
        self.addCleanup(r.close)
        r.cmd("a LOGIN big@%s big-pass-9" % DOMAIN)
        r.cmd("b SELECT INBOX")
        pid = self.server.proc.pid

        def rss():
            with open(f"/proc/{pid}/status") as f:
                for l in f:
                    if l.startswith("VmRSS"):
                        return int(l.split()[1])
        before = rss()
        r.send("c FETCH 1 (RFC822.SIZE BODY.PEEK[])\r\n")
        head = r.line()
        m = re.match(rb"^\* 1 FETCH \(RFC822.SIZE (\d+) BODY\[\] \{(\d+)\}\r\n$", head)
        self.assertTrue(m, head)
        self.assertEqual(int(m.group(1)), len(wire))
        self.assertEqual(int(m.group(2)), len(wire))
        h = hashlib.sha256()
        left = len(wire)
        peak = before
        n = 0
        while left:
            chunk = r.f.read(min(left, 1 << 20))
            self.assertTrue(chunk)
            h.update(chunk)
            left -= len(chunk)
            n += 1
            if n % 4 == 0:
                peak = max(peak, rss())
        self.assertEqual(h.hexdigest(), hashlib.sha256(wire).hexdigest())
        self.assertEqual(r.line(), b")\r\n")
        self.assertTrue(r.line().startswith(b"c OK"))
        self.assertLess(peak - before, 16 * 1024, f"RSS grew {peak - before} KiB")


if __name__ == "__main__":
    unittest.main()
