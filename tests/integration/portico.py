"""Integration test helper: runs a real `portico serve` on free loopback
ports with a temporary data directory, waits until every listener accepts,
and on stop fails the test if the server exited non-zero or printed a
sanitizer report. Python standard library only."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("PORTICO_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build-test", "portico")

SERVICES = ("smtp", "submission", "pop3", "imap", "ftp", "http")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "ERROR: UndefinedBehaviorSanitizer")
_used_ports = set()


def bounded_memory_env():
    """Environment for a server whose RSS a test measures: AddressSanitizer
    keeps freed memory in a quarantine (256 MiB by default), which would
    hide whether the server's memory is really bounded."""
    env = dict(os.environ)
    opts = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
    return env


def free_port():
    """A port no other test of this run was given and nothing listens on."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _used_ports and not (30000 <= port <= 30999):
            _used_ports.add(port)
            return port
    raise RuntimeError("no free port")


def wait_until(predicate, timeout=10.0, what="condition"):
    """Polls predicate until it is true; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    raise AssertionError(f"timed out waiting for {what}")


def traced_threads_attached(pid):
    """True once every thread of pid has a tracer."""
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/status") as f:
                if re.search(r"^TracerPid:\s+0$", f.read(), re.M):
                    return False
        return True
    except FileNotFoundError:
        return False


def strace_server(test, server, calls, size=256):
    """strace -f -y of the running server, the system calls named in calls
    (a comma list); returns (tracer, log path). Stop the tracer
    (terminate, wait) before reading the log. size: the bytes of each
    buffer shown."""
    log = os.path.join(server.tmp.name, "strace")
    tracer = subprocess.Popen(
        ["strace", "-f", "-y", "-s", str(size), "-o", log, "-e", "trace=" + calls,
         "-p", str(server.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    test.addCleanup(lambda: tracer.poll() is None and tracer.kill())
    wait_until(lambda: traced_threads_attached(server.proc.pid), timeout=20, what="strace")
    return tracer, log


STRACE_CALL = re.compile(r"^(\d+)\s+(?:<\.\.\. (\w+) resumed>(.*)|(\w+)\((.*))$")


def parse_strace(path):
    """Every traced call as [start line, end line, name, text]: an
    interrupted call (<unfinished ...> then <... resumed>) spans two lines,
    its text both halves."""
    calls, pending = [], {}
    with open(path, errors="replace") as f:
        for i, line in enumerate(f):
            m = STRACE_CALL.match(line.rstrip("\n"))
            if not m:
                continue
            pid = m.group(1)
            if m.group(2):
                c = pending.pop((pid, m.group(2)), None)
                if c:
                    c[1] = i
                    c[3] += m.group(3)
                continue
            c = [i, i, m.group(4), m.group(5)]
            if c[3].endswith("<unfinished ...>"):
                c[1] = None
                pending[(pid, c[2])] = c
            calls.append(c)
    return [c for c in calls if c[1] is not None]


def first_call(calls, pred, after=-1):
    """The first call that started after line after and matches."""
    return next((c for c in calls if c[0] > after and pred(c)), None)


def call_ok(c):
    """The call returned a count (no error)."""
    return re.search(r"\)\s+= \d+", c[3]) is not None

def run_cli(*args, config=None, input=None, check=True):
    """Runs `portico [-c config] args...`; returns CompletedProcess."""
    cmd = [BIN] + (["-c", config] if config else []) + list(args)
    p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=60)
    for mark in SANITIZER_MARKS:
        if mark in p.stderr:
            raise AssertionError(f"sanitizer report from {cmd}:\n{p.stderr}")
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


class Server:
    """One `portico serve`. services: names of the sections whose listeners
    are turned on (each gets free ports); extra: more INI text."""

    def __init__(self, services=SERVICES, extra="", tls=True, threads=2,
                 domains="example.org", data_dir=None, env=None,
                 hostname="mail.example.org"):
        self.env = env
        self.tmp = tempfile.TemporaryDirectory(prefix="portico-it-")
        self.data_dir = data_dir or os.path.join(self.tmp.name, "data")
        self.ports = {}
        lines = ["[portico]", f"data_dir = {self.data_dir}",
                 f"hostname = {hostname}", f"domains = {domains}",
                 f"threads = {threads}", "log_level = debug",
                 # Tests use short passwords; test_accounts checks the policy.
                 "[auth]", "min_password_length = 1"]
        for svc in services:
            self.ports[svc] = free_port()
            lines += [f"[{svc}]", f"listen = 127.0.0.1:{self.ports[svc]}"]
            if tls and svc not in ("smtp", "sftp", "metrics", "proxy"):  # no TLS listener
                self.ports[svc + "_tls"] = free_port()
                lines.append(f"listen_tls = 127.0.0.1:{self.ports[svc + '_tls']}")
        self.config = os.path.join(self.tmp.name, "portico.ini")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n" + extra + "\n")
        self.proc = None
        self.stdout_path = os.path.join(self.tmp.name, "stdout")
        self.stderr_path = os.path.join(self.tmp.name, "stderr")
        self.password = None

    # -- lifecycle --
    def start(self, wait=True):
        self.proc = subprocess.Popen(
            [BIN, "-c", self.config, "serve"], env=self.env,
            stdout=open(self.stdout_path, "w"), stderr=open(self.stderr_path, "w"))
        if wait:
            wait_until(lambda: self.proc.poll() is not None or "ready:" in self.stdout(),
                       timeout=30, what="server ready")
            if self.proc.poll() is not None:
                raise AssertionError("server exited at start:\n" + self.stderr())
            for port in self.ports.values():
                wait_until(lambda: self._accepts(port), what=f"port {port}")
            m = re.search(r"first account: (\S+)\s+password: (\S+)", self.stdout())
            if m:
                self.password = m.group(2)
        return self

    def _accepts(self, port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stops the server and checks it ended well; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("server did not stop:\n" + self.stderr()[-4000:])
        self.proc = None
        self.check_sanitizers()
        if sig in (signal.SIGTERM, signal.SIGINT) and rc != 0:
            raise AssertionError(f"server exited {rc}:\n" + self.stderr()[-4000:])
        return rc

    def kill(self):
        """SIGKILL, as a crash would; no exit-status check."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def cleanup(self):
        try:
            self.kill()
        finally:
            self.tmp.cleanup()

    # -- output --
    def stdout(self):
        with open(self.stdout_path, errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def check_sanitizers(self):
        err = self.stderr()
        for mark in SANITIZER_MARKS:
            if mark in err:
                raise AssertionError("sanitizer report:\n" + err[-8000:])

    def cli(self, *args, **kw):
        return run_cli(*args, config=self.config, **kw)

    def add_user(self, address, password):
        self.cli("user", "add", address, "--password-stdin", input=password + "\n")


class ServerTest(unittest.TestCase):
    """Base class: one server per test class (setUpClass), stopped and
    checked in tearDownClass. Subclasses set SERVICES / EXTRA."""

    SERVICES = SERVICES
    EXTRA = ""
    ENV = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server(services=cls.SERVICES, extra=cls.EXTRA, env=cls.ENV)
        # Runs even when a subclass's setUpClass fails after this point.
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
