"""TLS on a real listener (foundation requirement): on the submission
implicit-TLS port `openssl s_client -tls1_3` completes a handshake, TLS 1.0
and 1.1 are refused; STARTTLS plaintext injection is covered in test_smtp."""

import subprocess
import unittest

from portico import ServerTest


class TlsTest(ServerTest):
    SERVICES = ("submission",)

    def s_client(self, *opts):
        port = self.server.ports["submission_tls"]
        return subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-brief", *opts],
            input=b"QUIT\r\n", capture_output=True, timeout=30)

    def test_tls13_handshake(self):
        p = self.s_client("-tls1_3")
        out = (p.stdout + p.stderr).decode(errors="replace")
        self.assertIn("Protocol version: TLSv1.3", out)

    def test_old_versions_refused(self):
        for opt in ("-tls1", "-tls1_1"):
            p = self.s_client(opt, "-cipher", "DEFAULT@SECLEVEL=0")
            out = (p.stdout + p.stderr).decode(errors="replace")
            self.assertNotEqual(p.returncode, 0, out)
            self.assertNotIn("Protocol version: TLSv1", out.replace("TLSv1.3", ""))
            self.assertNotIn("220 ", out)


if __name__ == "__main__":
    unittest.main()
