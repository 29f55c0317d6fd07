"""Issue 13: configuration that says what it will do, the command line's
help and usage, accounts (IDN, password policy, deletion), the
self-signed certificate verifying with curl, and sd_notify."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import unittest

from portico import BIN, Server, run_cli, wait_until, free_port

import test_serve


def errors(p):
    return [l for l in p.stderr.splitlines() if not l.startswith("portico: warning:")]


class CheckConfig(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name
        self.data = os.path.join(self.d, "data")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, text, listen=True):
        path = os.path.join(self.d, "p.ini")
        with open(path, "w") as f:
            f.write(f"[portico]\ndata_dir = {self.data}\n" + text)
            if listen:
                f.write(f"\n[smtp]\nlisten = 127.0.0.1:{free_port()}\n")
        return path

    def refused(self, path):
        """check-config and serve both refuse, create nothing; the errors."""
        out = []
        for cmd in ("check-config", "serve"):
            p = run_cli(cmd, config=path, check=False)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertNotIn("ready", p.stdout)
            out.append(errors(p))
        self.assertEqual(out[0], out[1])
        self.assertFalse(os.path.exists(self.data))
        return out[0]

    def test_every_error_reported_with_file_line_section_key(self):
        path = self.write("hostname = mail example\ndomains = ok.example no_such!\n"
                          "threads = 2\nthreads = 3\n[imap]\nbogus = 1\n[nosuch]\n"
                          "smarthost = x:25\n[ftp]\npassive_address = not-an-ip\n"
                          "listen = 127.0.0.1:2121\n[http]\nlisten = 127.0.0.1:2121\n")
        lines = self.refused(path)
        f = re.escape(path)
        expected = [rf"^portico: {f}:3: \[portico\] hostname: not a valid host name",
                    rf"^portico: {f}:4: \[portico\] domains: not a valid domain name",
                    rf"^portico: {f}:6: \[portico\] threads: already set on line 5$",
                    rf"^portico: {f}:8: \[imap\] bogus: unknown key$",
                    rf"^portico: {f}:10: \[nosuch\] smarthost: unknown section$",
                    rf"^portico: {f}:12: \[ftp\] passive_address: expected a numeric IPv4",
                    rf"^portico: {f}:15: \[http\] listen: 127.0.0.1:2121 is also \[ftp\] listen$"]
        self.assertEqual(len(lines), len(expected), lines)
        for pattern in expected:
            self.assertTrue(any(re.search(pattern, l) for l in lines), (pattern, lines))

    def test_directory_as_config(self):
        p = run_cli("check-config", config=self.d, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not a regular file", p.stderr)

    def test_no_listener(self):
        lines = self.refused(self.write("[smtp]\nlisten =\n", listen=False))
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("no listener", lines[0])

    def test_certificate_and_key_must_match(self):
        cert, _, _ = test_serve.openssl_cert(self.d, "one", "one.example")
        _, key2, _ = test_serve.openssl_cert(self.d, "two", "two.example")
        lines = self.refused(self.write(f"[tls]\ncert = {cert}\nkey = {key2}\n"))
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r":4: \[tls\] cert: .*(does not match|mismatch)")
        garbage = os.path.join(self.d, "garbage.pem")
        with open(garbage, "w") as f:
            f.write("not a certificate\n")
        lines = self.refused(self.write(f"[tls]\ncert = {garbage}\nkey = {key2}\n"))
        self.assertRegex(lines[0], r"\[tls\] cert: cannot load certificate")

    def test_unknown_user(self):
        lines = self.refused(self.write("user = no-such-user-xyz\n"))
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r":3: \[portico\] user: no such user no-such-user-xyz$")

    @unittest.skipUnless(os.geteuid() == 0, "root only")
    def test_root_without_user_off_loopback_refused_on_loopback_warned(self):
        path = self.write(f"[http]\nlisten = 0.0.0.0:{free_port()}\n")
        lines = self.refused(path)
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"\[portico\] user: running as root without `user =`")
        p = run_cli("check-config", config=self.write(""))
        self.assertIn("warning: running as root without [portico] user", p.stderr)

    def test_embedded_default_refuses_system_directory(self):
        for cwd in ("/", "/usr"):
            for cmd in (["serve"], ["check-config"], ["user", "list"]):
                p = subprocess.run([BIN] + cmd, cwd=cwd, capture_output=True, text=True,
                                   timeout=30)
                self.assertEqual(p.returncode, 1, (cwd, cmd, p.stderr))
                self.assertIn("a system directory", p.stderr)
        self.assertFalse(os.path.exists("/var/portico.db"))
        self.assertFalse(os.path.exists("/usr/var"))

    def test_unimplemented_service_warns(self):
        p = run_cli("check-config", config=self.write("[imap]\nlisten = 127.0.0.1:1\n"))
        if "no imap service" in p.stderr:
            self.assertRegex(p.stderr, r"warning: .*:4: \[imap\] listen: this build has no")


class Usage(unittest.TestCase):
    def test_help_and_usage(self):
        p = run_cli("help")
        for cmd in ("serve", "check-config", "user", "domain", "alias"):
            self.assertIn(cmd, p.stdout)
            h = run_cli(cmd, "--help")
            self.assertRegex(h.stdout, rf"^usage: portico \[-c FILE\] {cmd}")
            self.assertEqual(run_cli("help", cmd).stdout, h.stdout)
        for bad in (["serve", "extra"], ["check-config", "x"], ["user"], ["user", "add"],
                    ["domain", "add"], ["alias", "add", "a"], ["help", "nosuch"], ["nosuch"],
                    ["-c"]):
            p = run_cli(*bad, check=False)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn("usage: portico", p.stderr, bad)
            self.assertEqual(p.stdout, "", bad)


class Accounts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.data = os.path.join(self.tmp.name, "data")
        self.config = os.path.join(self.tmp.name, "p.ini")
        with open(self.config, "w") as f:
            f.write(f"[portico]\ndata_dir = {self.data}\ndomains = example.org bücher.example\n"
                    f"[smtp]\nlisten = 127.0.0.1:{free_port()}\n")

    def tearDown(self):
        self.tmp.cleanup()

    def cli(self, *args, **kw):
        return run_cli(*args, config=self.config, **kw)

    def test_before_first_serve_idn_and_password_policy(self):
        # No serve yet: the configured domains count.
        self.cli("user", "add", "u@bücher.example", "--password-stdin", input="long enough\n")
        self.assertEqual(self.cli("user", "list").stdout.split(), ["u@bücher.example"])
        dup = self.cli("user", "add", "u@xn--bcher-kva.example", "--password-stdin",
                       input="long enough\n", check=False)
        self.assertEqual(dup.returncode, 1)
        self.assertIn("user exists", dup.stderr)
        short = self.cli("user", "add", "v@example.org", "--password-stdin", input="seven77\n",
                         check=False)
        self.assertEqual(short.returncode, 1)
        self.assertIn("password too short: at least 8 characters", short.stderr)
        self.cli("user", "add", "v@example.org", "--password-stdin", input="éééééééé\n")
        p = self.cli("user", "passwd", "v@example.org", "--password-stdin", input="x\n",
                     check=False)
        self.assertEqual(p.returncode, 1)

    def test_del_removes_data_or_keeps_it_aside(self):
        self.cli("user", "add", "a@example.org", "--password-stdin", input="password-a\n")
        tree = os.path.join(self.data, "users", "example.org", "a")
        os.makedirs(os.path.join(tree, "files"))
        with open(os.path.join(tree, "files", "f.txt"), "w") as f:
            f.write("old\n")
        p = self.cli("user", "del", "a@example.org")
        self.assertIn("deleted a@example.org and its mail and files", p.stdout)
        self.assertFalse(os.path.exists(tree))
        self.cli("user", "add", "a@example.org", "--password-stdin", input="password-a\n")
        os.makedirs(os.path.join(tree, "files"))
        with open(os.path.join(tree, "files", "g.txt"), "w") as f:
            f.write("kept\n")
        p = self.cli("user", "del", "a@example.org", "--keep-data")
        m = re.search(r"kept in (\S+)\)", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        self.assertTrue(m.group(1).startswith(os.path.join(self.data, "deleted", "example.org")))
        with open(os.path.join(m.group(1), "files", "g.txt")) as f:
            self.assertEqual(f.read(), "kept\n")
        self.assertFalse(os.path.exists(tree))


class ServiceBehaviour(unittest.TestCase):
    def test_curl_verifies_generated_certificate(self):
        s = Server(services=("http",))
        try:
            s.start()
            cert = os.path.join(s.data_dir, "tls", "cert.pem")
            for host in ("127.0.0.1", "localhost"):
                p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                    "--cacert", cert, f"https://{host}:{s.ports['http_tls']}/"],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 0, p.stderr)
            san = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-ext",
                                  "subjectAltName"], capture_output=True, text=True).stdout
            for name in ("DNS:mail.example.org", "DNS:localhost", "IP Address:127.0.0.1",
                         "IP Address:0:0:0:0:0:0:0:1"):
                self.assertIn(name, san)
            s.stop()
        finally:
            s.cleanup()

    def test_sd_notify_ready_reloading_stopping(self):
        s = Server(services=("pop3",))
        sock_path = os.path.join(s.tmp.name, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        sock.settimeout(20)
        s.env = dict(os.environ, NOTIFY_SOCKET=sock_path)
        try:
            s.start()
            self.assertTrue(sock.recv(4096).startswith(b"READY=1"))
            s.proc.send_signal(signal.SIGHUP)
            self.assertEqual(sock.recv(4096), b"RELOADING=1")
            self.assertTrue(sock.recv(4096).startswith(b"READY=1"))
            s.proc.send_signal(signal.SIGTERM)
            self.assertEqual(sock.recv(4096), b"STOPPING=1")
            # The first SIGTERM is stopping it; stop() must not send a second
            # one (which would end it at once, -15).
            s.proc.wait(timeout=20)
            s.stop()
        finally:
            sock.close()
            s.cleanup()

    def test_json_log_format(self):
        import json
        s = Server(services=("smtp",), extra="[log]\nformat = json\n")
        try:
            s.start()
            s.stop()
            lines = [l for l in s.stderr().splitlines() if l.startswith("{")]
            self.assertTrue(lines, s.stderr())
            for line in lines:
                obj = json.loads(line)
                self.assertEqual(set(obj), {"time", "level", "session", "msg"})
            self.assertTrue(any(json.loads(l)["msg"].startswith("core stop") for l in lines))
        finally:
            s.cleanup()


if __name__ == "__main__":
    unittest.main()
