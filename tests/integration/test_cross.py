"""One storage tree, several protocols: a file uploaded over FTP is
downloadable over HTTP /files/ and the other way round (issues 5 and 6), and
a message delivered by SMTP is read over POP3 and, once deleted there, is
gone from the Maildir (issues 3 and 4). Real clients on every side."""

import base64
import ftplib
import hashlib
import http.client
import io
import os
import poplib
import smtplib
import subprocess

from ftp_common import passive_extra
from portico import ServerTest

USER, PASSWORD = "frank@example.org", "frank's password"


class CrossProtocol(ServerTest):
    SERVICES = ("smtp", "pop3", "ftp", "http")

    @classmethod
    def setUpClass(cls):
        cls.EXTRA = passive_extra()
        super().setUpClass()
        cls.server.add_user(USER, PASSWORD)
        cls.auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def ftp(self):
        f = ftplib.FTP()
        f.connect("127.0.0.1", self.server.ports["ftp"], timeout=30)
        f.login(USER, PASSWORD)
        return f

    def http(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.server.ports["http"], timeout=30)
        c.request(method, path, body=body, headers={"Authorization": self.auth})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def test_ftp_upload_then_http_download(self):
        data = os.urandom(300 * 1024)
        f = self.ftp()
        f.mkd("shared")
        f.storbinary("STOR shared/from-ftp.bin", io.BytesIO(data))
        f.quit()
        status, got = self.http("GET", "/files/shared/from-ftp.bin")
        self.assertEqual(status, 200)
        self.assertEqual(hashlib.sha256(got).digest(), hashlib.sha256(data).digest())
        status, listing = self.http("GET", "/files/shared/")
        self.assertIn(b"from-ftp.bin", listing)

    def test_http_upload_then_ftp_download_and_delete(self):
        data = b"uploaded over HTTP\r\n" * 1000
        out = subprocess.run(
            ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-u", f"{USER}:{PASSWORD}",
             "-T", "-", f"http://127.0.0.1:{self.server.ports['http']}/files/from-http.txt"],
            input=data, capture_output=True, check=True).stdout
        self.assertEqual(out, b"201")
        f = self.ftp()
        self.assertIn("from-http.txt", f.nlst())
        buf = io.BytesIO()
        f.retrbinary("RETR from-http.txt", buf.write)
        self.assertEqual(buf.getvalue(), data)
        self.assertEqual(f.size("from-http.txt"), len(data))
        f.delete("from-http.txt")
        f.quit()
        status, _ = self.http("GET", "/files/from-http.txt")
        self.assertEqual(status, 404)

    def test_uploads_in_progress_are_out_of_reach(self):
        # Temporary upload names (either protocol's) are reserved.
        area = os.path.join(self.server.data_dir, "users", "example.org", "frank", "files")
        os.makedirs(area, exist_ok=True)
        for name in (".portico-up-http-1-1-0", ".portico-up-ftp-1-1"):
            with open(os.path.join(area, name), "wb") as f:
                f.write(b"half an upload")
            status, _ = self.http("GET", "/files/" + name)
            self.assertIn(status, (403, 404))
            status, _ = self.http("PUT", "/files/" + name, b"x")
            self.assertIn(status, (403, 404))
            f = self.ftp()
            with self.assertRaises(ftplib.error_perm):
                f.retrbinary("RETR " + name, lambda b: None)
            with self.assertRaises(ftplib.error_perm):
                f.storbinary("STOR " + name, io.BytesIO(b"x"))
            self.assertNotIn(name, [n for n, _ in f.mlsd()])
            f.quit()
            with open(os.path.join(area, name), "rb") as fh:
                self.assertEqual(fh.read(), b"half an upload")

    def test_smtp_delivery_read_and_deleted_over_pop3(self):
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=30) as s:
            s.sendmail("someone@example.net", [USER],
                       b"Subject: cross\r\nMessage-ID: <cross@example.net>\r\n\r\nhello frank\r\n")
        p = poplib.POP3("127.0.0.1", self.server.ports["pop3"], timeout=30)
        p.user(USER)
        p.pass_(PASSWORD)
        self.assertEqual(p.stat()[0], 1)
        lines = p.retr(1)[1]
        self.assertIn(b"hello frank", lines)
        self.assertTrue(any(l.startswith(b"Received: from") for l in lines))
        p.dele(1)
        p.quit()
        maildir = os.path.join(self.server.data_dir, "users", "example.org", "frank", "mail")
        left = os.listdir(os.path.join(maildir, "new")) + os.listdir(os.path.join(maildir, "cur"))
        self.assertEqual(left, [])
