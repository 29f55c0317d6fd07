"""Every README example command line, extracted from README.md and run in
README order against a fresh server (so the README cannot drift from what
works). The server has the README's layout (data in ./var of the working
directory, domain localhost); only what a fresh machine cannot share with
other tests is rewritten: the default ports become free ports, PASSWORD
becomes the first account's password, `./build/portico` the binary under
test with the server's config. Lines that need a terminal (a password
prompt), root or the network (make, apt, systemctl), or SSH keys are
listed in SKIP with their reason. The fetchmail example is run from the
README's own .fetchmailrc block."""

import os
import re
import subprocess
import unittest

from ftp_common import passive_extra
from portico import BIN, Server, free_port

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
README = os.path.join(TOP, "README.md")
DEFAULT_PORTS = {"smtp": 2525, "submission": 2587, "submission_tls": 2465, "pop3": 2110,
                 "pop3_tls": 2995, "imap": 2143, "imap_tls": 2993, "ftp": 2121,
                 "ftp_tls": 2990, "http": 8080, "http_tls": 8443, "sftp": 2222}
SKIP = (
    ("make ", "builds and installs as root"),
    ("apt ", "installs a package"),
    ("systemctl", "needs the installed service"),
    ("/etc/portico", "needs the installed service"),
    ("# asks for a password", "prompts on a terminal"),
    ("user passwd", "prompts on a terminal"),
    ("user key", "needs the user's SSH key"),
    ("sftp -P", "interactive"),
    ("scp -P", "needs the user's SSH key"),
    ("rclone", "needs the user's SSH key"),
    ("example.com", "needs the internet (test_proxy*.py run the proxy locally)"),
)


def readme_blocks():
    """[(language, text)] of every fenced block, in order."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)


def command_lines(block):
    """Logical lines of a shell block (backslash continuations joined)."""
    lines, cur = [], ""
    for raw in block.splitlines():
        cur += raw
        if cur.endswith("\\"):
            cur = cur[:-1] + " "
            continue
        if cur.strip():
            lines.append(cur.strip())
        cur = ""
    return lines


class ReadmeExamples(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(services=(), domains="localhost", extra="")
        cls.addClassCleanup(cls.server.cleanup)
        cls.cwd = cls.server.tmp.name
        cls.server.data_dir = os.path.join(cls.cwd, "var")
        cls.ports = {name: free_port() for name in DEFAULT_PORTS}
        conf = ["[portico]", f"data_dir = {cls.server.data_dir}", "hostname = localhost",
                "domains = localhost", "threads = 2", "log_level = debug"]
        for svc in ("smtp", "submission", "pop3", "imap", "ftp", "http", "sftp"):
            conf += [f"[{svc}]", f"listen = 127.0.0.1:{cls.ports[svc]}"]
            if svc + "_tls" in cls.ports:
                conf.append(f"listen_tls = 127.0.0.1:{cls.ports[svc + '_tls']}")
        with open(cls.server.config, "w") as f:
            f.write("\n".join(conf) + "\n" + passive_extra() + "\n")
        cls.server.ports = dict(cls.ports)
        # serve resolves ./var against its working directory.
        old = os.getcwd()
        os.chdir(cls.cwd)
        try:
            cls.server.start()
        finally:
            os.chdir(old)
        cls.server.add_user("alice@localhost", "alice's long password")
        cls.env = dict(os.environ, HOME=cls.cwd)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def rewrite(self, line):
        line = line.replace("./build/portico", f"{BIN} -c {self.server.config}")
        line = line.replace("PASSWORD", self.server.password)
        # `curl -u USER` would prompt for the password: give it.
        line = re.sub(r"-u postmaster@localhost(?=\s)",
                      f"-u postmaster@localhost:{self.server.password}", line)
        for name, port in DEFAULT_PORTS.items():
            line = re.sub(rf"(?<=[:\s]){port}(?=[/\s]|$)", str(self.ports[name]), line)
        return line

    def run_line(self, line):
        p = subprocess.run(["bash", "-c", line], cwd=self.cwd, env=self.env,
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, f"{line}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
        return p

    def write_fetchmailrc(self, block):
        path = os.path.join(self.cwd, ".fetchmailrc")
        with open(path, "w") as f:
            f.write(self.rewrite(block))
        os.chmod(path, 0o600)

    def test_every_example(self):
        ran = 0
        for lang, block in readme_blocks():
            if lang == "fetchmailrc":
                self.write_fetchmailrc(block)
                continue
            if lang != "sh":
                continue
            for line in command_lines(block):
                if any(mark in line for mark, _ in SKIP):
                    continue
                with self.subTest(line=line):
                    self.run_line(self.rewrite(line))
                    ran += 1
        self.assertGreaterEqual(ran, 25)
        # The fetchmail example delivered through its mda.
        with open(os.path.join(self.cwd, "portico.mbox"), errors="replace") as f:
            self.assertIn("Hello from swaks", f.read())
        # The FTP/lftp/HTTP examples left their files.
        files = os.path.join(self.cwd, "var", "users", "localhost", "postmaster", "files")
        self.assertTrue(os.path.exists(os.path.join(files, "site", "index.html")))
        self.assertEqual(os.path.getsize(os.path.join(files, "big.iso")), 10 << 20)


if __name__ == "__main__":
    unittest.main()
