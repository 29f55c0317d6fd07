"""Dates and sizes a cold sync does not learn (store/index_fill.c), with
real clients: files written into a Maildir as another program writes
them (names without S=/W=, known mtimes), index.db removed, so the sync
records them from their names alone; then each reader must report the
file's mtime as INTERNALDATE and its real sizes: imaplib FETCH
INTERNALDATE / RFC822.SIZE / BODY.PEEK[] (with and without ENVELOPE),
SEARCH LARGER/SMALLER/SINCE/BEFORE/ON, SORT SIZE/ARRIVAL/DATE, THREAD,
STATUS SIZE, COPY; poplib STAT/LIST/RETR; the quota over APPEND. The
figures learned are kept in index.db (read with sqlite3 after). The
first sync's commit is not fsynced, an APPEND's after it is (strace).
A new index.db is linked whole, in WAL mode from the start (strace)."""

import os
import poplib
import re
import sqlite3
import time
import unittest

from imap_common import DOMAIN, login
from portico import ServerTest, call_ok, first_call, parse_strace, strace_server

PW = "cold-pass-3"

# (sub, name, bytes, mtime): LF line ends as stored; the third has no
# Date: (RFC 5256 2.2: SORT DATE and THREAD use its INTERNALDATE).
MSGS = [
    ("cur", "1500000000.M1P1Q1.other:2,S",
     b"From: a@example.net\nSubject: alpha\nDate: Sun, 05 Jan 2020 12:00:00 +0000\n"
     b"Message-ID: <a@x>\n\nshort\n", 1578225600),
    ("cur", "1500000001.M2P1Q2.other:2,",
     b"From: b@example.net\nSubject: beta\nDate: Tue, 15 Jun 2021 08:00:00 +0000\n"
     b"Message-ID: <b@x>\n\n" + b"a longer line of body text\n" * 120, 1623744000),
    ("new", "1500000002.M3P1Q3.other",
     b"From: c@example.net\nSubject: gamma\nMessage-ID: <c@x>\n\n"
     + b"middle of the road\n" * 20,
     1600000000),
]


def vsize(data):
    return len(data) + data.count(b"\n")


def imap_date(t):
    return time.strftime("%d-%b-%Y %H:%M:%S +0000", time.gmtime(t)).lstrip("0")


class ColdBase(ServerTest):
    SERVICES = ("imap", "pop3")
    accounts = 0

    def mail(self, user):
        local = user.split("@")[0]
        return os.path.join(self.server.data_dir, "users", DOMAIN, local, "mail")

    def cold_account(self):
        """A new account whose INBOX holds MSGS, no index yet."""
        type(self).accounts += 1
        user = "cold%d@%s" % (self.accounts, DOMAIN)
        self.server.add_user(user, PW)
        m = login(self.server, user, PW)  # the account's Maildir is made
        m.logout()
        root = self.mail(user)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        for sub, name, data, mtime in MSGS:
            path = os.path.join(root, sub, name)
            with open(path, "wb") as f:
                f.write(data)
            os.utime(path, (mtime, mtime))
        self.cold(user)
        return user

    def cold(self, user):
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(os.path.join(self.mail(user), "index.db" + suffix))
            except FileNotFoundError:
                pass

    def rows(self, user):
        """(internaldate, size, vsize) of INBOX's rows in index.db, UID order."""
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.mail(user), "index.db"),
                             uri=True)
        try:
            return db.execute("SELECT m.internaldate, m.size, m.vsize FROM messages m"
                              " JOIN folders f ON f.id = m.folder_id"
                              " WHERE f.name = 'INBOX' ORDER BY m.uid").fetchall()
        finally:
            db.close()

    def client(self, user, folder="INBOX"):
        m = login(self.server, user, PW)
        self.addCleanup(m.logout)
        if folder:
            typ, _ = m.select(folder)
            self.assertEqual(typ, "OK")
        return m

    def uids(self, m, *args):
        typ, data = m.uid(*args)
        self.assertEqual(typ, "OK")
        return [int(x) for x in data[0].split()]

    def assert_kept(self, user, sizes=True):
        rows = self.rows(user)
        self.assertEqual([r[0] for r in rows], [x[3] for x in MSGS])
        if sizes:
            self.assertEqual([r[1] for r in rows], [len(x[2]) for x in MSGS])
            self.assertEqual([r[2] for r in rows], [vsize(x[2]) for x in MSGS])


class ColdReaders(ColdBase):
    def test_fetch_date_size_body(self):
        user = self.cold_account()
        m = self.client(user)
        self.assertEqual(self.rows(user)[0], (0, 0, 0))  # the sync stat'd nothing
        typ, data = m.uid("FETCH", "1:*", "(INTERNALDATE RFC822.SIZE)")
        self.assertEqual(typ, "OK")
        for i, (_, _, body, mtime) in enumerate(MSGS):
            self.assertIn(b'INTERNALDATE "%s"' % imap_date(mtime).rjust(26).encode(),
                          data[i])
            self.assertIn(b"RFC822.SIZE %d" % vsize(body), data[i])
        self.assert_kept(user)
        typ, data = m.uid("FETCH", "1:*", "(INTERNALDATE RFC822.SIZE)")  # from the rows
        self.assertIn(b"RFC822.SIZE %d" % vsize(MSGS[1][2]), data[1])

    def test_fetch_body_and_envelope(self):
        user = self.cold_account()
        m = self.client(user)
        typ, data = m.uid("FETCH", "2", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], MSGS[1][2].replace(b"\n", b"\r\n"))
        typ, data = m.uid("FETCH", "1:*", "(ENVELOPE INTERNALDATE RFC822.SIZE)")
        self.assertEqual(typ, "OK")
        for i, (_, _, body, mtime) in enumerate(MSGS):
            self.assertIn(b"RFC822.SIZE %d" % vsize(body), data[i])
            self.assertIn(imap_date(mtime).encode(), data[i])
        self.assertEqual([r[0] for r in self.rows(user)], [x[3] for x in MSGS])

    def test_search_sizes_and_dates(self):
        user = self.cold_account()
        m = self.client(user)
        self.assertEqual(self.uids(m, "SEARCH", "LARGER", str(vsize(MSGS[2][2]))), [2])
        self.cold(user)
        m = self.client(user)
        self.assertEqual(self.uids(m, "SEARCH", "SMALLER", "200"), [1])
        self.cold(user)
        m = self.client(user)
        self.assertEqual(self.uids(m, "SEARCH", "SINCE", "1-Jan-2021"), [2])
        self.cold(user)
        m = self.client(user)
        self.assertEqual(self.uids(m, "SEARCH", "BEFORE", "1-Jan-2021"), [1, 3])
        self.assertEqual(self.uids(m, "SEARCH", "ON", "13-Sep-2020"), [3])
        # SENTSINCE: the third has no Date:, its INTERNALDATE stands in.
        self.cold(user)
        m = self.client(user)
        self.assertEqual(self.uids(m, "SEARCH", "SENTSINCE", "1-Sep-2020"), [2, 3])
        self.assert_kept(user, sizes=False)

    def test_sort(self):
        user = self.cold_account()
        m = self.client(user)
        self.assertEqual(self.uids(m, "SORT", "(SIZE)", "UTF-8", "ALL"), [1, 3, 2])
        self.cold(user)
        m = self.client(user)
        self.assertEqual(self.uids(m, "SORT", "(REVERSE ARRIVAL)", "UTF-8", "ALL"),
                         [2, 3, 1])
        self.cold(user)
        m = self.client(user)
        # 2020-01-05, (no Date: 2020-09-13 from the file), 2021-06-15
        self.assertEqual(self.uids(m, "SORT", "(DATE)", "UTF-8", "ALL"), [1, 3, 2])
        self.assertEqual(self.rows(user)[2][0], MSGS[2][3])

    def test_thread(self):
        user = self.cold_account()
        m = self.client(user)
        typ, data = m.uid("THREAD", "ORDEREDSUBJECT", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0], b"(1)(3)(2)")

    def test_status_size(self):
        user = self.cold_account()
        m = self.client(user, folder=None)
        typ, data = m.status("INBOX", "(MESSAGES SIZE)")
        self.assertEqual(typ, "OK")
        total = sum(vsize(x[2]) for x in MSGS)
        self.assertIn(b"SIZE %d" % total, data[0])
        self.assertEqual([r[2] for r in self.rows(user)], [vsize(x[2]) for x in MSGS])

    def test_copy_keeps_date(self):
        user = self.cold_account()
        m = self.client(user)
        self.assertEqual(m.create("Kept")[0], "OK")
        typ, _ = m.uid("COPY", "1:*", "Kept")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.select("Kept")[0], "OK")
        typ, data = m.fetch("1:*", "(INTERNALDATE RFC822.SIZE)")
        self.assertEqual(typ, "OK")
        for i, (_, _, body, mtime) in enumerate(MSGS):
            self.assertIn(imap_date(mtime).encode(), data[i])
            self.assertIn(b"RFC822.SIZE %d" % vsize(body), data[i])

    def test_pop3_sizes(self):
        user = self.cold_account()
        p = poplib.POP3("127.0.0.1", self.server.ports["pop3"], timeout=10)
        try:
            p.user(user)
            p.pass_(PW)
            count, octets = p.stat()
            self.assertEqual(count, len(MSGS))
            self.assertEqual(octets, sum(vsize(x[2]) for x in MSGS))
            _, listing, _ = p.list()
            self.assertEqual(listing, [b"%d %d" % (i + 1, vsize(x[2]))
                                       for i, x in enumerate(MSGS)])
            _, lines, _ = p.retr(2)
            self.assertEqual(b"\n".join(lines) + b"\n", MSGS[1][2])
        finally:
            p.quit()
        self.assert_kept(user)


class ColdQuota(ColdBase):
    # Room for MSGS and 300 bytes more: a quota that counted the unstat'd
    # files as 0 would take the 1 KiB APPEND.
    EXTRA = "[mail]\nquota = %d\n" % (sum(len(x[2]) for x in MSGS) + 300)

    def test_append_over_quota(self):
        user = self.cold_account()
        m = self.client(user)
        big = b"Subject: big\r\n\r\n" + b"x" * 1024 + b"\r\n"
        typ, data = m.append("INBOX", None, None, big)
        self.assertEqual(typ, "NO")
        self.assertIn(b"OVERQUOTA", data[0])
        typ, _ = m.append("INBOX", None, None, b"Subject: small\r\n\r\nok\r\n")
        self.assertEqual(typ, "OK")
        self.assertEqual([r[1] for r in self.rows(user)][:3], [len(x[2]) for x in MSGS])


class FirstSyncCommit(ColdBase):
    """store/index.c sync_txn: the commit of a folder's first sync is not
    fsynced (its UIDs are under a UIDVALIDITY the uidvalidity file made
    durable), nor a FETCH's cache fill (summaries: work done again if
    lost); the index's next commits are, an APPEND's before its OK."""

    def test_first_sync_and_cache_fill_not_fsynced_append_is(self):
        user = self.cold_account()
        tracer, log = strace_server(self, self.server,
                                    "fsync,fdatasync,pwrite64,write,writev,sendmsg",
                                    size=4096)
        m = login(self.server, user, PW)
        self.assertEqual(m.select("INBOX")[1], [b"3"])
        typ, data = m.fetch("1:*", "(ENVELOPE)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"alpha", data[0])
        typ, _ = m.append("INBOX", None, None, b"Subject: after\r\n\r\nbody\r\n")
        self.assertEqual(typ, "OK")
        m.logout()
        tracer.terminate()
        tracer.wait(20)
        calls = parse_strace(log)
        wal = lambda c: re.match(r"\d+<[^>]*/index\.db-wal>", c[3]) is not None
        written = lambda c: c[2] == "pwrite64" and wal(c) and call_ok(c)
        synced = lambda c: c[2] in ("fsync", "fdatasync") and wal(c) and call_ok(c)
        replied = lambda text: lambda c: c[2] in ("write", "writev", "sendmsg") and text in c[3]
        select_ok = first_call(calls, replied("OK [READ-WRITE]"))
        fetch_ok = first_call(calls, replied("OK FETCH completed"))
        append_ok = first_call(calls, replied("[APPENDUID "))
        self.assertIsNotNone(select_ok, "no SELECT reply in the trace")
        self.assertIsNotNone(fetch_ok, "no FETCH reply in the trace")
        self.assertIsNotNone(append_ok, "no APPEND reply in the trace")
        # The sync's rows went to the WAL before the SELECT's OK, and no
        # fsync of the WAL came after them.
        rows = [c for c in calls if written(c) and c[1] < select_ok[0]]
        self.assertTrue(rows, "the first sync wrote nothing to the WAL")
        self.assertIsNone(first_call(calls, lambda c: synced(c) and c[1] < select_ok[0],
                                     after=rows[-1][1]))
        # The summaries went to the WAL before the FETCH's OK, unsynced.
        fills = [c for c in calls if written(c) and select_ok[0] < c[0] < fetch_ok[0]]
        self.assertTrue(fills, "the FETCH kept no summary")
        self.assertIsNone(first_call(calls, lambda c: synced(c) and c[1] < fetch_ok[0],
                                     after=fills[-1][1]))
        # The APPEND's last WAL write is fsynced before its OK.
        last = [c for c in calls if written(c) and c[1] < append_ok[0]][-1]
        self.assertGreater(last[0], select_ok[0], "the APPEND wrote nothing to the WAL")
        self.assertIsNotNone(first_call(calls, lambda c: synced(c) and c[1] < append_ok[0],
                                        after=last[1]),
                             "the APPEND's commit was not fsynced before its OK")



class NewIndexFromImage(ColdBase):
    """store/index_create.c: a cold SELECT of an account with no index.db
    links one written whole (an O_TMPFILE, fsynced, then linkat), in WAL
    mode from the start: no rollback journal is ever opened, and the WAL
    exists before the SELECT's OK. sqlite3 then reads it whole."""

    def test_cold_select_links_a_whole_index(self):
        user = self.cold_account()
        tracer, log = strace_server(self, self.server, "openat,linkat,fdatasync,fsync")
        m = login(self.server, user, PW)
        self.assertEqual(m.select("INBOX")[1], [b"3"])
        m.logout()
        tracer.terminate()
        tracer.wait(20)
        calls = parse_strace(log)
        tmpfile = [c for c in calls if c[2] == "openat" and "O_TMPFILE" in c[3]]
        linked = [c for c in calls if c[2] == "linkat" and '"index.db"' in c[3]]
        self.assertEqual(len(tmpfile), 1, "the image was not written to a tmpfile")
        self.assertEqual(len(linked), 1)
        self.assertTrue(call_ok(linked[0]), linked[0][3])
        synced = first_call(calls, lambda c: c[2] in ("fsync", "fdatasync"), after=tmpfile[0][1])
        self.assertIsNotNone(synced)
        self.assertLess(synced[0], linked[0][0], "linked before its data was on disk")
        self.assertFalse([c for c in calls if "index.db-journal" in c[3]],
                         "a rollback journal was used")
        db = sqlite3.connect(os.path.join(self.mail(user), "index.db"))
        self.assertEqual(db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
        self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        self.assertEqual(db.execute("SELECT count(*) FROM messages").fetchone()[0], 3)
        db.close()


if __name__ == "__main__":
    unittest.main()
