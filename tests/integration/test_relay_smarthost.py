"""[relay] smarthost: every outbound message goes through one relay with
STARTTLS required and AUTH PLAIN (aiosmtpd with TLS and an authenticator
as the provider's relay); the password never reaches the log."""

import os
import ssl
import subprocess
import tempfile
import unittest

from portico import Server, free_port, wait_until
from relay_common import fast_relay, queue_ids, submit

PW = "pw-smart-1"
SECRET = "smart-secret-9"


class Smarthost(unittest.TestCase):
    def test_auth_plain_over_starttls(self):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult
        tmp = tempfile.TemporaryDirectory(prefix="portico-smart-")
        self.addCleanup(tmp.cleanup)
        cert, key = os.path.join(tmp.name, "c.pem"), os.path.join(tmp.name, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1",
                        "-keyout", key, "-out", cert, "-days", "1"],
                       check=True, capture_output=True)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        got, logins = [], []

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                got.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
                return "250 2.0.0 relayed"

        def auth(server, session, envelope, mechanism, data):
            logins.append((mechanism, data.login, data.password))
            ok = data.login == b"me@provider.test" and data.password == SECRET.encode()
            return AuthResult(success=ok)

        port = free_port()
        smart = Controller(Handler(), hostname="127.0.0.1", port=port,
                           tls_context=ctx, require_starttls=True,
                           authenticator=auth, auth_require_tls=True)
        smart.start()
        self.addCleanup(smart.stop)
        a = Server(services=("submission",), domains="a.test", hostname="mx.a.test",
                   extra=fast_relay(f"smarthost = 127.0.0.1:{port}",
                                    "smarthost_user = me@provider.test",
                                    f"smarthost_password = {SECRET}"))
        self.addCleanup(a.cleanup)
        a.start()
        a.add_user("alice@a.test", PW)
        submit(a, "alice@a.test", PW, ["far@example.test"],
               b"Subject: via smarthost\r\n\r\nhello\r\n")
        wait_until(lambda: got, timeout=20, what="relayed by the smarthost")
        self.assertEqual(got[0][1], ["far@example.test"])
        self.assertEqual(logins[-1][0], "PLAIN")
        wait_until(lambda: not queue_ids(a), what="queue empty")
        self.assertRegex(a.stderr(), r"relay attempt id=\S+ rcpt=far@example.test "
                                     r"mx=127.0.0.1 tls=TLSv1\.\d/\S+ reply=\"250")
        self.assertNotIn(SECRET, a.stderr())
        a.stop()


if __name__ == "__main__":
    unittest.main()
