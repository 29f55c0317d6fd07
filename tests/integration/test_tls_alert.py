"""TLS 1.0/1.1 after STARTTLS (issue 14): the server refuses them with a
protocol_version alert (RFC 8446 6.2 / RFC 5246 7.2), not a bare close, on
the upgraded connection as on implicit TLS."""

import socket
import ssl
import unittest

from portico import Server


def old_tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    return ctx


class OldTlsAlert(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(services=("smtp", "pop3"))
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def handshake_error(self, sock):
        with self.assertRaises(ssl.SSLError) as cm:
            old_tls_context().wrap_socket(sock).close()
        return str(cm.exception)

    def test_alert_after_starttls(self):
        s = socket.create_connection(("127.0.0.1", self.server.ports["smtp"]), timeout=10)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"EHLO client.example\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        s.sendall(b"STARTTLS\r\n")
        self.assertTrue(f.readline().startswith(b"220"))
        err = self.handshake_error(s)
        self.assertIn("PROTOCOL_VERSION", err.upper())

    def test_alert_on_implicit_tls(self):
        s = socket.create_connection(("127.0.0.1", self.server.ports["pop3_tls"]), timeout=10)
        self.assertIn("PROTOCOL_VERSION", self.handshake_error(s).upper())


if __name__ == "__main__":
    unittest.main()
