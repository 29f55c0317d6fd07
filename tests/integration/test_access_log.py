"""One access-log line per session for every protocol, written once by
core when the connection goes: `PROTO session_end peer= port= user=
duration_ms= commands= bytes_in= bytes_out=`. One session of each protocol
with a known shape, then its line is checked; an international domain's
account is shown with its U-label."""

import ftplib
import http.client
import imaplib
import io
import poplib
import re
import smtplib
import unittest

from ftp_common import passive_extra
from portico import ServerTest, wait_until
from sftp_common import paramiko

USER = "alice@example.org"
IDN_USER = "bob@xn--bcher-kva.example"
PASSWORD = "alice-pw"
LINE = re.compile(r"(\w+) session_end peer=(\S+) port=(\d+) user=(\S+) duration_ms=(\d+) "
                  r"commands=(\d+) bytes_in=(\d+) bytes_out=(\d+)")


class AccessLogTest(ServerTest):
    SERVICES = ("smtp", "pop3", "imap", "ftp", "http", "sftp")

    @classmethod
    def setUpClass(cls):
        cls.EXTRA = passive_extra()
        super().setUpClass()
        cls.server.cli("domain", "add", "bücher.example")
        cls.server.add_user(USER, PASSWORD)
        cls.server.add_user(IDN_USER, PASSWORD)

    def lines(self, proto):
        return [m for m in LINE.finditer(self.server.stderr()) if m.group(1) == proto]

    def last_line(self, proto, count_before):
        wait_until(lambda: len(self.lines(proto)) > count_before, what=proto + " session_end")
        m = self.lines(proto)[-1]
        return {"peer": m.group(2), "user": m.group(4), "commands": int(m.group(6)),
                "in": int(m.group(7)), "out": int(m.group(8))}

    def test_smtp(self):
        n = len(self.lines("smtp"))
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("x@example.net", [USER], b"Subject: a\r\n\r\n" + b"z" * 3000 + b"\r\n")
        e = self.last_line("smtp", n)
        self.assertEqual((e["peer"], e["user"]), ("127.0.0.1", "-"))
        self.assertGreaterEqual(e["commands"], 5)  # EHLO MAIL RCPT DATA QUIT
        self.assertGreater(e["in"], 3000)

    def test_pop3_with_international_domain(self):
        n = len(self.lines("pop3"))
        p = poplib.POP3("127.0.0.1", self.server.ports["pop3"], timeout=10)
        p.user("bob@bücher.example")
        p.pass_(PASSWORD)
        p.stat()
        p.quit()
        e = self.last_line("pop3", n)
        self.assertEqual(e["user"], "bob@bücher.example")
        self.assertEqual(e["commands"], 4)  # USER PASS STAT QUIT

    def test_imap(self):
        n = len(self.lines("imap"))
        m = imaplib.IMAP4("127.0.0.1", self.server.ports["imap"], timeout=10)
        m.login(USER, PASSWORD)
        m.select("INBOX")
        m.logout()
        e = self.last_line("imap", n)
        self.assertEqual(e["user"], USER)
        self.assertGreaterEqual(e["commands"], 3)

    def test_ftp_counts_data_connection_bytes(self):
        n = len(self.lines("ftp"))
        f = ftplib.FTP()
        f.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        f.login(USER, PASSWORD)
        f.storbinary("STOR big.bin", io.BytesIO(b"q" * 200000))
        f.quit()
        e = self.last_line("ftp", n)
        self.assertEqual(e["user"], USER)
        self.assertGreater(e["in"], 200000)

    def test_http_requests_and_failed_login(self):
        n = len(self.lines("http"))
        c = http.client.HTTPConnection("127.0.0.1", self.server.ports["http"], timeout=10)
        for _ in range(2):
            c.request("GET", "/nothing-here")
            c.getresponse().read()
        c.close()
        e = self.last_line("http", n)
        self.assertEqual((e["user"], e["commands"]), ("-", 2))

    def test_sftp(self):
        n = len(self.lines("sftp"))
        t = paramiko.Transport(("127.0.0.1", self.server.ports["sftp"]))
        try:
            t.connect(username=USER, password=PASSWORD)
            sftp = paramiko.SFTPClient.from_transport(t)
            sftp.listdir(".")
            sftp.close()
        finally:
            t.close()
        e = self.last_line("sftp", n)
        self.assertEqual(e["user"], USER)
        self.assertGreaterEqual(e["commands"], 2)  # INIT, OPENDIR, READDIR...
        self.assertGreater(e["out"], 0)


if __name__ == "__main__":
    unittest.main()
