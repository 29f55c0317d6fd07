"""`portico serve`, `check-config` and the account commands, driven as a
user would drive them from a shell (the foundation issue)."""

import os
import pwd
import re
import signal
import subprocess
import tempfile
import unittest

from portico import Server, run_cli, wait_until


def openssl_cert(directory, name, cn):
    cert = os.path.join(directory, name + ".pem")
    key = os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                    "/CN=" + cn, "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    fp = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint",
                         "-sha256"], check=True, capture_output=True, text=True)
    return cert, key, fp.stdout.strip().split("=", 1)[1]


def served_fingerprint(port):
    """SHA-256 fingerprint of the certificate a TLS listener presents."""
    import hashlib
    import socket
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


class ServeLifecycle(unittest.TestCase):
    def setUp(self):
        self.server = Server(services=("smtp",))

    def tearDown(self):
        self.server.cleanup()

    def test_first_start_prints_fingerprint_and_account_then_stops_cleanly(self):
        s = self.server.start()
        out = s.stdout()
        fp = re.search(r"SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})", out)
        self.assertIsNotNone(fp, out)
        self.assertIn("postmaster@example.org", out)
        self.assertRegex(s.password or "", r"^[A-Za-z0-9]{16}$")
        # The fingerprint printed is the one of the certificate on disk.
        cert = os.path.join(s.data_dir, "tls", "cert.pem")
        real = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint",
                               "-sha256"], capture_output=True, text=True, check=True)
        self.assertEqual(real.stdout.strip().split("=", 1)[1], fp.group(1))
        self.assertEqual(oct(os.stat(os.path.join(s.data_dir, "tls", "key.pem")).st_mode & 0o777),
                         "0o600")
        self.assertEqual(s.stop(signal.SIGTERM), 0)
        # Second start: same certificate, no new account printed.
        s.start()
        self.assertNotIn("first account", s.stdout())
        self.assertIn(fp.group(1), s.stdout())
        self.assertEqual(s.stop(signal.SIGINT), 0)
        # The printed password works for the printed account.
        p = s.cli("user", "list")
        self.assertEqual(p.stdout.split(), ["postmaster@example.org"])

    def test_sighup_reloads_certificate(self):
        self.server.cleanup()
        self.server = Server(services=("pop3",))  # for its implicit-TLS listener
        d = self.server.tmp.name
        cert, key, fp1 = openssl_cert(d, "one", "one.example.org")
        with open(self.server.config, "a") as f:
            f.write(f"[tls]\ncert = {cert}\nkey = {key}\n")
        s = self.server.start()
        self.assertIn(fp1, s.stdout())
        self.assertEqual(served_fingerprint(s.ports["pop3_tls"]), fp1)
        cert2, key2, fp2 = openssl_cert(d, "two", "two.example.org")
        os.replace(cert2, cert)
        os.replace(key2, key)
        s.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "tls reloaded fingerprint=" + fp2 in s.stderr(),
                   what="reload log line")
        self.assertEqual(served_fingerprint(s.ports["pop3_tls"]), fp2)
        # A broken certificate on reload keeps the old one and says so.
        with open(cert, "w") as f:
            f.write("garbage\n")
        s.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "tls reload_failed" in s.stderr(), what="reload failure line")
        self.assertIsNone(s.proc.poll())
        self.assertEqual(s.stop(), 0)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to drop privileges")
    def test_drops_privileges_to_configured_user(self):
        nobody = pwd.getpwnam("nobody")
        with open(self.server.config, "a") as f:
            f.write("[portico]\nuser = nobody\n")
        os.chmod(self.server.tmp.name, 0o755)
        s = self.server.start()
        with open(f"/proc/{s.proc.pid}/status") as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
        self.assertEqual(set(uids), {str(nobody.pw_uid)})
        self.assertEqual(os.stat(os.path.join(s.data_dir, "portico.db")).st_uid,
                         nobody.pw_uid)
        self.assertEqual(s.stop(), 0)


class BadConfig(unittest.TestCase):
    """Each bad config: one clear line naming file, line and key; non-zero
    exit; nothing started (no data directory, no listener)."""

    def check_refused(self, text, pattern):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.ini")
            data = os.path.join(d, "data")
            with open(path, "w") as f:
                f.write(f"[portico]\ndata_dir = {data}\n" + text +
                        "\n[pop3]\nlisten = 127.0.0.1:1\n")
            for cmd in (["check-config"], ["serve"]):
                p = run_cli(*cmd, config=path, check=False)
                self.assertNotEqual(p.returncode, 0)
                lines = [l for l in p.stderr.strip().splitlines()
                         if not l.startswith("portico: warning:")]
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertRegex(lines[0], pattern.replace("FILE", re.escape(path)))
                self.assertNotIn("ready", p.stdout)
            self.assertFalse(os.path.exists(data))

    def test_unknown_key(self):
        self.check_refused("colour = blue\n", r"^portico: FILE:3: \[portico\] colour: unknown key$")

    def test_bad_port(self):
        self.check_refused("[smtp]\nlisten = 127.0.0.1:70000\n",
                           r"^portico: FILE:4: \[smtp\] listen: .*port")

    def test_bad_routes(self):
        """[relay] route and smarthost: each bad line named with its line."""
        good = "[relay]\nroute = a.example 127.0.0.1:2525 required\n"
        for text, why in [
                ("route = b.example\n", "expected DOMAIN HOST:PORT"),
                ("route = b.example mx.b.example:0\n", "not HOST:PORT"),
                ("route = b.example [::1:25\n", "not HOST:PORT"),
                ("route = b.example mx.b.example:25 sometimes\n",
                 "not one of opportunistic, required, verified"),
                ("route = b.example mx:25 verified extra\n", "too many words"),
                ("route = c.example h:25, b.example\n", "expected DOMAIN HOST:PORT"),
                ("smarthost = smtp.example:99999\n", "expected HOST:PORT")]:
            key = "smarthost" if text.startswith("smarthost") else "route"
            self.check_refused(good + text, r"^portico: FILE:5: \[relay\] " + key +
                               ": .*" + re.escape(why))

    def test_unreadable_cert(self):
        self.check_refused("[tls]\ncert = /nonexistent/cert.pem\nkey = /nonexistent/key.pem\n",
                           r"^portico: FILE:4: \[tls\] cert: cannot read /nonexistent/cert.pem")

    def test_missing_file(self):
        p = run_cli("check-config", config="/nonexistent/portico.ini", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("/nonexistent/portico.ini: cannot read", p.stderr)

    def test_check_config_ok(self):
        s = Server(services=("smtp", "pop3"))
        try:
            p = s.cli("check-config")
            self.assertIn("ok", p.stdout)
        finally:
            s.cleanup()


class AccountCommands(unittest.TestCase):
    def setUp(self):
        self.server = Server(services=("smtp",), domains="example.org")
        self.server.start()
        self.server.stop()

    def tearDown(self):
        self.server.cleanup()

    def cli(self, *args, **kw):
        return self.server.cli(*args, **kw)

    def test_user_add_list_passwd_del(self):
        self.server.add_user("alice@example.org", "correct horse")
        self.cli("user", "add", "bob", "--password-stdin", input="s3cret\n")
        users = self.cli("user", "list").stdout.split()
        self.assertEqual(sorted(users), ["alice@example.org", "bob@example.org",
                                         "postmaster@example.org"])
        dup = self.cli("user", "add", "alice@example.org", "--password-stdin",
                       input="x\n", check=False)
        self.assertEqual(dup.returncode, 1)
        self.assertEqual(len(dup.stderr.strip().splitlines()), 1)
        self.cli("user", "passwd", "alice@example.org", "--password-stdin", input="new one\n")
        self.cli("user", "del", "bob@example.org")
        self.assertNotIn("bob@example.org", self.cli("user", "list").stdout)
        gone = self.cli("user", "del", "bob@example.org", check=False)
        self.assertEqual(gone.returncode, 1)

    def test_bad_addresses_and_domains(self):
        for bad in ("alice@nowhere.example", "a b@example.org", "@example.org",
                    "alice@", "../x@example.org"):
            p = self.cli("user", "add", bad, "--password-stdin", input="pw\n", check=False)
            self.assertEqual(p.returncode, 1, bad)
        empty = self.cli("user", "add", "carol@example.org", "--password-stdin", input="\n",
                         check=False)
        self.assertNotEqual(empty.returncode, 0)

    def test_domains_and_aliases(self):
        self.cli("domain", "add", "example.net")
        self.assertEqual(sorted(self.cli("domain", "list").stdout.split()),
                         ["example.net", "example.org"])
        self.server.add_user("dave@example.net", "pw-dave")
        self.cli("alias", "add", "info@example.net", "dave@example.net")
        self.assertIn("info@example.net -> dave@example.net", self.cli("alias", "list").stdout)
        busy = self.cli("domain", "del", "example.net", check=False)
        self.assertEqual(busy.returncode, 1)
        self.cli("alias", "del", "info@example.net")
        self.cli("user", "del", "dave@example.net")
        self.cli("domain", "del", "example.net")
        self.assertEqual(self.cli("domain", "list").stdout.split(), ["example.org"])

    def test_unknown_command_and_usage(self):
        p = run_cli("frobnicate", check=False)
        self.assertEqual(p.returncode, 2)
        p = run_cli("--version")
        self.assertRegex(p.stdout, r"^portico \d+\.\d+\.\d+")
        p = self.cli("user", "explode", check=False)
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main()
