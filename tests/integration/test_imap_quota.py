"""IMAP QUOTA (RFC 9208) with Python imaplib and smtplib: the account's one
quota root "" reports [mail] quota as STORAGE (KiB) and quota_messages as
MESSAGE, with the usage of every folder, mail delivered by SMTP included;
the capabilities name only the resources that have a limit; SETQUOTA is
refused; an unknown root or mailbox is NO; STATUS DELETED-STORAGE counts
the messages marked \\Deleted. Without a limit there is no QUOTA
capability and INBOX has no quota root."""

import os
import re
import smtplib
import unittest

from imap_common import DOMAIN, Raw, login
from portico import ServerTest

PW = "quota-pass-7"
LIMIT_KIB = 20
LIMIT_MESSAGES = 6


def message(subject, size):
    return (b"From: a@example.net\r\nSubject: " + subject.encode() + b"\r\n\r\n"
            + b"q" * size + b"\r\n")


class QuotaBase(ServerTest):
    SERVICES = ("smtp", "imap")
    accounts = 0

    def account(self):
        type(self).accounts += 1
        user = "quota%d@%s" % (self.accounts, DOMAIN)
        self.server.add_user(user, PW)
        return user

    def client(self, user):
        m = login(self.server, user, PW)
        self.addCleanup(m.logout)
        return m

    def raw(self, user=None):
        r = Raw(self.server.ports["imap"])
        self.addCleanup(r.close)
        if user:
            _, tagged = r.cmd('l LOGIN %s "%s"' % (user, PW))
            self.assertTrue(tagged.startswith(b"l OK"), tagged)
        return r

    def stored_bytes(self, user):
        """Bytes of the message files of every folder, as on disk."""
        local = user.split("@")[0]
        root = os.path.join(self.server.data_dir, "users", DOMAIN, local, "mail")
        total = 0
        for top, dirs, files in os.walk(root):
            if os.path.basename(top) in ("cur", "new"):
                total += sum(os.path.getsize(os.path.join(top, f)) for f in files)
        return total

    @staticmethod
    def kib(n):
        return (n + 1023) // 1024


class Quota(QuotaBase):
    EXTRA = "[mail]\nquota = %d\nquota_messages = %d\n" % (LIMIT_KIB * 1024,
                                                           LIMIT_MESSAGES)

    def quota_of(self, data):
        """{resource: (usage, limit)} of one QUOTA response's data."""
        m = re.match(rb'^"" \((.*)\)$', data)
        self.assertIsNotNone(m, data)
        words = m.group(1).split()
        return {words[i]: (int(words[i + 1]), int(words[i + 2]))
                for i in range(0, len(words), 3)}

    def test_capabilities_name_both_resources(self):
        m = self.client(self.account())
        caps = m.capabilities
        for c in ("QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"):
            self.assertIn(c, caps)
        self.assertNotIn("QUOTASET", caps)

    def test_getquotaroot_reports_usage_of_every_folder(self):
        user = self.account()
        m = self.client(user)
        self.assertEqual(m.append("INBOX", None, None, message("one", 1500))[0], "OK")
        self.assertEqual(m.create("Projects")[0], "OK")
        self.assertEqual(m.append("Projects", None, None, message("two", 3000))[0], "OK")
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("a@example.net", [user], message("three", 700))
        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        roots, quotas = data
        self.assertEqual(roots, [b'INBOX ""'])
        q = self.quota_of(quotas[0])
        self.assertEqual(q[b"STORAGE"], (self.kib(self.stored_bytes(user)), LIMIT_KIB))
        self.assertEqual(q[b"MESSAGE"], (3, LIMIT_MESSAGES))
        typ, data = m.getquota('""')
        self.assertEqual(typ, "OK")
        self.assertEqual(self.quota_of(data[0]), q)
        typ, data = m.getquotaroot("Projects")
        self.assertEqual(data[0], [b'Projects ""'])

    def test_message_limit_reached(self):
        user = self.account()
        m = self.client(user)
        for i in range(LIMIT_MESSAGES):
            self.assertEqual(m.append("INBOX", None, None, message("m%d" % i, 10))[0], "OK")
        typ, data = m.append("INBOX", None, None, message("over", 10))
        self.assertEqual(typ, "NO")
        self.assertIn(b"OVERQUOTA", data[0])
        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(self.quota_of(data[1][0])[b"MESSAGE"],
                         (LIMIT_MESSAGES, LIMIT_MESSAGES))

    def test_unknown_root_and_mailbox(self):
        r = self.raw(self.account())
        _, tagged = r.cmd('a GETQUOTA "other"')
        self.assertRegex(tagged, rb"^a NO \[NONEXISTENT\]")
        lines, tagged = r.cmd("b GETQUOTAROOT Nowhere")
        self.assertEqual(lines, [])
        self.assertRegex(tagged, rb"^b NO \[NONEXISTENT\]")
        _, tagged = r.cmd("c GETQUOTAROOT")
        self.assertTrue(tagged.startswith(b"c BAD"), tagged)
        _, tagged = r.cmd('d GETQUOTA "" extra')
        self.assertTrue(tagged.startswith(b"d BAD"), tagged)

    def test_setquota_refused(self):
        user = self.account()
        r = self.raw(user)
        _, tagged = r.cmd('a SETQUOTA "" (STORAGE 999999)')
        self.assertRegex(tagged, rb"^a NO \[NOPERM\]")
        lines, tagged = r.cmd('b GETQUOTA ""')
        self.assertTrue(tagged.startswith(b"b OK"), tagged)
        self.assertIn(b"STORAGE 0 %d" % LIMIT_KIB, lines[0])

    def test_needs_login(self):
        r = self.raw()
        _, tagged = r.cmd("a GETQUOTAROOT INBOX")
        self.assertTrue(tagged.startswith(b"a BAD"), tagged)

    def test_status_deleted_storage(self):
        user = self.account()
        m = self.client(user)
        for i, size in enumerate((100, 2500, 4000)):
            self.assertEqual(m.append("INBOX", None, None, message("d%d" % i, size))[0],
                             "OK")
        m.select("INBOX")
        before = self.stored_bytes(user)
        self.assertEqual(m.store("2:3", "+FLAGS", "(\\Deleted)")[0], "OK")
        typ, data = m.status("INBOX", "(DELETED DELETED-STORAGE MESSAGES)")
        self.assertEqual(typ, "OK")
        got = dict(re.findall(rb"([A-Z-]+) (\d+)", data[0]))
        m.expunge()
        freed = before - self.stored_bytes(user)
        self.assertEqual(got, {b"MESSAGES": b"3", b"DELETED": b"2",
                               b"DELETED-STORAGE": str(self.kib(freed)).encode()})


class StorageOnly(QuotaBase):
    EXTRA = "[mail]\nquota = 4096\n"

    def test_only_storage_named(self):
        user = self.account()
        m = self.client(user)
        self.assertIn("QUOTA=RES-STORAGE", m.capabilities)
        self.assertNotIn("QUOTA=RES-MESSAGE", m.capabilities)
        typ, data = m.getquota('""')
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b'"" (STORAGE 0 4)'])


class NoQuota(QuotaBase):
    def test_no_capability_and_no_root(self):
        user = self.account()
        m = self.client(user)
        self.assertNotIn("QUOTA", m.capabilities)
        r = self.raw(user)
        lines, tagged = r.cmd("a GETQUOTAROOT INBOX")
        self.assertEqual(lines, [b"* QUOTAROOT INBOX\r\n"])
        self.assertTrue(tagged.startswith(b"a OK"), tagged)
        _, tagged = r.cmd('b GETQUOTA ""')
        self.assertRegex(tagged, rb"^b NO \[NONEXISTENT\]")
        typ, data = m.status("INBOX", "(DELETED-STORAGE)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"DELETED-STORAGE 0", data[0])


if __name__ == "__main__":
    unittest.main()
