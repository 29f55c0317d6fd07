"""SMTP receiver (issue 3) with real clients: smtplib (EHLO, STARTTLS, AUTH,
8-bit UTF-8, attachments, several recipients), curl smtp:// and swaks, the
delivered bytes checked exactly in the Maildir; and the negative cases, each
followed by a check that the server still serves."""

import email
import email.policy
import os
import smtplib
import ssl
import subprocess
import time
import unittest
from email.message import EmailMessage

from maildir import Raw, delivered, lf, split_trace
from portico import ServerTest, free_port, wait_until
from relay_common import fast_relay, queue_ids, record

PASSWORD = "correct horse battery"
MAX_SIZE = 262144


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class SmtpTest(ServerTest):
    SERVICES = ("smtp", "submission")
    # remote.test goes to a port nobody listens on, retried after 10 min:
    # what is queued for it stays queued while a test reads it (through the
    # machine's resolver it could bounce at once).
    EXTRA = (f"[smtp]\nmax_message_size = {MAX_SIZE}\ntimeout = 3\n"
             + fast_relay(f"route = remote.test 127.0.0.1:{free_port()}", retry_min=600,
                          retry_max=600))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for user in ("alice", "bob", "carol", "dave", "erin", "frank", "gina"):
            cls.server.add_user(f"{user}@example.org", PASSWORD)
        cls.server.cli("alias", "add", "sales@example.org", "bob@example.org")
        cls.server.cli("alias", "add", "team@example.org", "sales@example.org")

    # -- helpers --
    def mx(self):
        return smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=20)

    def submission(self, login="alice@example.org"):
        c = smtplib.SMTP("127.0.0.1", self.server.ports["submission"], timeout=20)
        c.starttls(context=tls_context())
        if login:
            c.login(login, PASSWORD)
        return c

    def assert_serving(self):
        with self.mx() as c:
            self.assertEqual(c.noop()[0], 250)

    def count(self, address):
        return len(delivered(self.server, address))

    def wait_count(self, address, n):
        wait_until(lambda: self.count(address) >= n, what=f"{n} messages for {address}")

    # -- real clients --
    def test_mx_delivers_exact_bytes(self):
        body = (b"From: sender@remote.test\r\nTo: carol@example.org\r\n"
                b"Subject: exact\r\n\r\nline one\r\n.leading dot\r\n..two dots\r\n")
        before = self.count("carol@example.org")
        with self.mx() as c:
            c.ehlo("client.remote.test")
            c.sendmail("sender@remote.test", ["carol@example.org"], body)
        msgs = delivered(self.server, "carol@example.org")
        self.assertEqual(len(msgs), before + 1)
        name, data = msgs[-1]
        trace, rest = split_trace(data)
        self.assertEqual(trace[0], b"Return-Path: <sender@remote.test>")
        self.assertTrue(trace[1].startswith(b"Received: from client.remote.test ([127.0.0.1])"))
        self.assertIn(b"for <carol@example.org>", b"\n".join(trace))
        self.assertEqual(rest, lf(body))
        # Maildir++ size fields: S= bytes on disk, W= with CRLF line ends.
        vsize = len(data) + data.count(b"\n")
        self.assertIn(f",S={len(data)},W={vsize}", name)

    def test_submission_utf8_attachment_several_recipients(self):
        msg = EmailMessage()
        msg["From"] = "Alice Ä <alice@example.org>"
        msg["To"] = "dave@example.org, sales@example.org, erin+news@example.org"
        msg["Subject"] = "Grüße — 8-bit"
        msg.set_content("Hällo wörld, ünïcode ✓\n", charset="utf-8", cte="8bit")
        msg.add_attachment(bytes(range(256)) * 40, maintype="application",
                           subtype="octet-stream", filename="blob.bin")
        raw = msg.as_bytes(policy=email.policy.SMTP)
        with self.submission() as c:
            c.send_message(msg)
        for rcpt in ("dave@example.org", "bob@example.org", "erin@example.org"):
            self.wait_count(rcpt, 1)
            trace, rest = split_trace(delivered(self.server, rcpt)[-1][1])
            self.assertIn(b"with ESMTPSA", b"\n".join(trace))
            self.assertIn(b"(using TLSv1.3 with cipher", b"\n".join(trace))
            self.assertEqual(rest, lf(raw))
            parsed = email.message_from_bytes(rest, policy=email.policy.default)
            self.assertEqual(parsed["Subject"], "Grüße — 8-bit")
            att = next(parsed.iter_attachments())
            self.assertEqual(att.get_content(), bytes(range(256)) * 40)

    def test_pipelined_transactions(self):
        r = Raw(self.server.ports["smtp"])
        r.reply()
        before = self.count("frank@example.org")
        batch = b"EHLO pipe.test\r\n"
        for i in range(5):
            batch += (b"MAIL FROM:<p@remote.test>\r\nRCPT TO:<frank@example.org>\r\n"
                      b"DATA\r\nSubject: pipe %d\r\n\r\nbody %d\r\n.\r\n" % (i, i))
        batch += b"QUIT\r\n"
        r.send(batch)
        codes = [r.reply()[0] for _ in range(1 + 5 * 4 + 1)]
        self.assertEqual(codes, [250] + [250, 250, 354, 250] * 5 + [221])
        self.assertEqual(self.count("frank@example.org"), before + 5)

    def test_curl(self):
        path = os.path.join(self.server.tmp.name, "curl.eml")
        body = b"From: c@remote.test\r\nSubject: curl\r\n\r\nsent by curl\r\n"
        with open(path, "wb") as f:
            f.write(body)
        before = self.count("gina@example.org")
        subprocess.run(["curl", "-sS", f"smtp://127.0.0.1:{self.server.ports['smtp']}",
                        "--mail-from", "c@remote.test", "--mail-rcpt", "gina@example.org",
                        "--upload-file", path], check=True, timeout=30)
        msgs = delivered(self.server, "gina@example.org")
        self.assertEqual(len(msgs), before + 1)
        self.assertEqual(split_trace(msgs[-1][1])[1], lf(body))

    def test_swaks(self):
        # (swaks's TLS needs Net::SSLeay, which Debian's swaks does not pull in.)
        before = self.count("gina@example.org")
        p = subprocess.run(
            ["swaks", "--server", f"127.0.0.1:{self.server.ports['smtp']}",
             "--from", "someone@remote.test",
             "--to", "gina@example.org", "--header", "Subject: swaks",
             "--body", "from swaks"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        msgs = delivered(self.server, "gina@example.org")
        self.assertEqual(len(msgs), before + 1)
        rest = split_trace(msgs[-1][1])[1]
        self.assertIn(b"Subject: swaks\n", rest)
        self.assertIn(b"\n\nfrom swaks\n", rest)

    def test_bdat_chunking(self):
        r = Raw(self.server.ports["smtp"])
        r.reply()
        before = self.count("carol@example.org")
        self.assertEqual(r.cmd("EHLO bdat.test")[0], 250)
        chunk1, chunk2 = b"Subject: bdat\r\n\r\nab", b"cd\r\n.\r\n"
        r.send(b"MAIL FROM:<b@remote.test>\r\nRCPT TO:<carol@example.org>\r\n"
               b"BDAT %d\r\n%sBDAT %d LAST\r\n%s" % (len(chunk1), chunk1, len(chunk2), chunk2))
        self.assertEqual([r.reply()[0] for _ in range(4)], [250, 250, 250, 250])
        data = delivered(self.server, "carol@example.org")[-1][1]
        self.assertEqual(self.count("carol@example.org"), before + 1)
        self.assertEqual(split_trace(data)[1], b"Subject: bdat\n\nabcd\n.\n")
        # A refused chunk is consumed, never run as commands.
        r.send(b"BDAT 6\r\nQUIT\r\n")
        self.assertTrue(r.reply()[1].startswith("503 5.5.1"))
        self.assertEqual(r.cmd("NOOP")[0], 250)
        r.close()

    def test_tls_submission_listener(self):
        c = smtplib.SMTP_SSL("127.0.0.1", self.server.ports["submission_tls"],
                             context=tls_context(), timeout=20)
        c.login("alice@example.org", PASSWORD)
        c.sendmail("alice@example.org", ["dave@example.org"], b"Subject: tls\r\n\r\nx\r\n")
        c.quit()

    def test_aliases_plus_and_postmaster(self):
        before = self.count("bob@example.org")
        with self.mx() as c:
            c.sendmail("x@remote.test", ["team@example.org"], b"Subject: a\r\n\r\nx\r\n")
            self.assertEqual(c.docmd("MAIL FROM:<x@remote.test>")[0], 250)
            self.assertEqual(c.rcpt("<Postmaster>")[0], 250)
            c.rset()
        self.assertEqual(self.count("bob@example.org"), before + 1)

    # -- refusals --
    def test_open_relay_refused(self):
        with self.mx() as c:
            c.ehlo()
            c.mail("spammer@remote.test")
            code, msg = c.rcpt("victim@elsewhere.test")
            self.assertEqual(code, 554)
            self.assertTrue(msg.startswith(b"5.7.1"))
            code, _ = c.rcpt("victim@[192.0.2.1]")
            self.assertEqual(code, 554)
        qdir = os.path.join(self.server.data_dir, "queue")
        for n in os.listdir(qdir):
            if os.path.isdir(os.path.join(qdir, n)):  # ctl/ and corrupt/
                continue
            with open(os.path.join(qdir, n), "rb") as f:
                self.assertNotIn(b"elsewhere.test", f.read())
        self.assert_serving()

    def test_submission_to_remote_is_queued(self):
        with self.submission() as c:
            c.sendmail("alice@example.org", ["friend@remote.test"], b"Subject: q\r\n\r\nq\r\n")
        qdir = os.path.join(self.server.data_dir, "queue")
        found = [i for i in queue_ids(self.server)
                 if "friend@remote.test" in record(self.server, i)]
        self.assertEqual(len(found), 1)
        lines = record(self.server, found[0]).split("\n")
        self.assertEqual(lines[0], "from <alice@example.org>")
        self.assertIn("to <friend@remote.test>", lines)
        self.assertEqual(lines[-2:], ["end", ""])
        with open(os.path.join(qdir, found[0] + ".msg"), "rb") as f:
            self.assertTrue(f.read().endswith(b"Subject: q\n\nq\n"))

    def test_sender_not_owned(self):
        with self.submission() as c:
            code, msg = c.mail("bob@example.org")
            self.assertEqual((code, msg[:5]), (553, b"5.7.1"))
            self.assertEqual(c.mail("alice+x@example.org")[0], 250)
        self.assert_serving()

    def test_auth_needs_tls(self):
        c = smtplib.SMTP("127.0.0.1", self.server.ports["submission"], timeout=20)
        c.ehlo()
        self.assertFalse(c.has_extn("auth"))
        code, msg = c.docmd("AUTH", "PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHg=")
        self.assertEqual(code, 538)
        code, msg = c.docmd("MAIL", "FROM:<alice@example.org>")
        self.assertEqual(code, 530)
        c.quit()

    def test_bad_auth(self):
        c = smtplib.SMTP("127.0.0.1", self.server.ports["submission"], timeout=30)
        c.starttls(context=tls_context())
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            c.login("alice@example.org", "wrong password")
        self.assertEqual(cm.exception.smtp_code, 535)
        c.quit()
        self.assert_serving()

    def test_unknown_user(self):
        with self.mx() as c:
            c.ehlo()
            c.mail("x@remote.test")
            code, msg = c.rcpt("nobody@example.org")
            self.assertEqual((code, msg[:5]), (550, b"5.1.1"))
        self.assert_serving()

    def test_too_many_recipients(self):
        with self.mx() as c:
            c.ehlo()
            c.mail("x@remote.test")
            for i in range(100):
                self.assertEqual(c.rcpt(f"dave+{i}@example.org")[0], 250)
            code, msg = c.rcpt("dave+100@example.org")
            self.assertEqual((code, msg[:5]), (452, b"4.5.3"))
            before = self.count("dave@example.org")
            self.assertEqual(c.data(b"Subject: many\r\n\r\nx\r\n")[0], 250)
            self.assertEqual(self.count("dave@example.org"), before + 1)  # once per account
        self.assert_serving()

    def test_message_too_big(self):
        with self.mx() as c:
            c.ehlo()
            code, msg = c.docmd("MAIL", f"FROM:<x@remote.test> SIZE={MAX_SIZE + 1}")
            self.assertEqual((code, msg[:5]), (552, b"5.3.4"))
            c.rset()
            c.mail("x@remote.test")
            c.rcpt("carol@example.org")
            code, msg = c.data(b"Subject: big\r\n\r\n" + b"x" * 1000 + b"\r\n" * 300)
            self.assertEqual(code, 250)
            c.mail("x@remote.test")
            c.rcpt("carol@example.org")
            code, msg = c.data(b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 300)
            self.assertEqual((code, msg[:5]), (552, b"5.3.4"))
        self.assert_serving()

    def test_starttls_injection(self):
        r = Raw(self.server.ports["submission"])
        r.reply()
        r.cmd("EHLO inject.test")
        r.send(b"STARTTLS\r\nRSET\r\n")
        self.assertEqual(r.reply()[0], 220)
        tls = tls_context().wrap_socket(r.sock)
        r.sock, r.buf = tls, b""
        # The first reply over TLS must answer our EHLO, not the injected RSET.
        r.send(b"EHLO after.test\r\n")
        line = r.line()
        self.assertTrue(line.startswith("250-"), line)
        r.reply()
        self.assertEqual(r.cmd("QUIT")[0], 221)
        self.assertIn("plaintext_discarded", self.server.stderr())

    def test_long_command_line(self):
        r = Raw(self.server.ports["smtp"])
        r.reply()
        r.send(b"NOOP " + b"a" * 102400 + b"\r\n")
        code, line = r.reply()
        self.assertEqual((code, line[:9]), (500, "500 5.5.6"))
        self.assertEqual(r.cmd("NOOP")[0], 250)
        r.close()
        self.assert_serving()

    def test_smuggling(self):
        for sep in (b"\n.\n", b"\r.\r", b"\r\n.\n", b"\n.\r\n"):
            before = self.count("carol@example.org")
            r = Raw(self.server.ports["smtp"])
            r.reply()
            r.cmd("EHLO smuggle.test")
            r.cmd("MAIL FROM:<a@remote.test>")
            r.cmd("RCPT TO:<carol@example.org>")
            self.assertEqual(r.cmd("DATA")[0], 354)
            r.send(b"Subject: smuggle\r\n\r\nvisible" + sep +
                   b"MAIL FROM:<evil@remote.test>\r\nRCPT TO:<dave@example.org>\r\n"
                   b"DATA\r\nSubject: smuggled\r\n\r\nhidden\r\n.\r\n")
            code, line = r.reply()
            self.assertEqual(code, 250, line)
            self.assertEqual(r.cmd("NOOP")[0], 250)  # no further replies were queued
            r.close()
            self.assertEqual(self.count("carol@example.org"), before + 1)
            data = split_trace(delivered(self.server, "carol@example.org")[-1][1])[1]
            self.assertIn(b"MAIL FROM:<evil@remote.test>", data)  # content, not a command
            self.assertTrue(data.endswith(b"hidden\n"))
        self.assert_serving()

    def test_silent_client_mid_data(self):
        before = self.count("carol@example.org")
        r = Raw(self.server.ports["smtp"], timeout=20)
        r.reply()
        r.cmd("EHLO slow.test")
        r.cmd("MAIL FROM:<a@remote.test>")
        r.cmd("RCPT TO:<carol@example.org>")
        self.assertEqual(r.cmd("DATA")[0], 354)
        r.send(b"Subject: half\r\n\r\nhalf a message")
        t0 = time.monotonic()
        code, line = r.reply()
        self.assertEqual((code, line[:9]), (421, "421 4.4.2"))
        self.assertTrue(r.closed())
        self.assertLess(time.monotonic() - t0, 15)
        self.assertEqual(self.count("carol@example.org"), before)
        self.assert_serving()


class QuotaTest(ServerTest):
    SERVICES = ("smtp",)
    EXTRA = "[mail]\nquota_messages = 2\n"

    def test_over_quota_is_temporary(self):
        self.server.add_user("q@example.org", PASSWORD)
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=20) as c:
            for i in range(2):
                c.sendmail("x@remote.test", ["q@example.org"], b"Subject: q\r\n\r\nq\r\n")
            c.ehlo()
            c.mail("x@remote.test")
            code, msg = c.rcpt("q@example.org")
            self.assertEqual((code, msg[:5]), (452, b"4.2.2"))
            c.rset()
            self.assertEqual(c.noop()[0], 250)
        self.assertEqual(len(delivered(self.server, "q@example.org")), 2)


if __name__ == "__main__":
    unittest.main()
