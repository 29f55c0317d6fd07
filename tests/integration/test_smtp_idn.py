"""International domain names in SMTP (RFC 6531 with SMTPUTF8): a
recipient written with a U-label is compared as its A-label, so
u@bücher.example reaches the account stored as u@xn--bcher-kva.example;
without SMTPUTF8 the Unicode form is refused (RFC 6531 3.4) and the A-label
form works; the session's access line shows the U-label."""

import os
import smtplib
import unittest

from portico import ServerTest, wait_until

ACCOUNT = "u@xn--bcher-kva.example"


class SmtpIdnTest(ServerTest):
    SERVICES = ("smtp", "submission")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.cli("domain", "add", "bücher.example")
        cls.server.add_user("u@bücher.example", "pw")

    def inbox_count(self):
        d = os.path.join(self.server.data_dir, "users", "xn--bcher-kva.example", "u",
                         "mail", "new")
        return len(os.listdir(d)) if os.path.isdir(d) else 0

    def test_unicode_recipient_with_smtputf8(self):
        before = self.inbox_count()
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.ehlo()
            self.assertTrue(s.has_extn("smtputf8"))
            s.sendmail("x@example.net", ["u@bücher.example"],
                       "Subject: idn\r\n\r\nhi\r\n".encode(), mail_options=["SMTPUTF8"])
        self.assertEqual(self.inbox_count(), before + 1)

    def test_a_label_recipient_without_smtputf8(self):
        before = self.inbox_count()
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("x@example.net", [ACCOUNT], b"Subject: ascii\r\n\r\nhi\r\n")
        self.assertEqual(self.inbox_count(), before + 1)

    def test_unicode_recipient_without_smtputf8_refused(self):
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.ehlo()
            s.command_encoding = "utf-8"  # the raw command, not smtplib's SMTPUTF8
            self.assertEqual(s.mail("x@example.net")[0], 250)
            code, _ = s.docmd("RCPT TO:<u@bücher.example>")
            self.assertEqual(code, 553)

    def test_unknown_unicode_domain_is_not_local(self):
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.ehlo()
            s.command_encoding = "utf-8"
            self.assertEqual(s.docmd("MAIL FROM:<x@example.net> SMTPUTF8")[0], 250)
            code, _ = s.docmd("RCPT TO:<u@bücher.invalid>")
            self.assertGreaterEqual(code, 500)

    def test_submission_sender_in_unicode_and_log_shows_u_label(self):
        with smtplib.SMTP("127.0.0.1", self.server.ports["submission"], timeout=10) as s:
            s.starttls()
            s.login(ACCOUNT, "pw")  # smtplib encodes AUTH as ASCII
            s.sendmail("u@bücher.example", ["u@bücher.example"],
                       "Subject: own\r\n\r\nhi\r\n".encode(), mail_options=["SMTPUTF8"])
        wait_until(lambda: "submission session_end" in self.server.stderr() and
                   "user=u@bücher.example" in self.server.stderr(),
                   what="access line with the U-label")


if __name__ == "__main__":
    unittest.main()
