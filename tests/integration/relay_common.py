"""Helpers for the relay tests: a dnsmasq on a free loopback port with the
test domains' MX records, two portico servers (a.test sending, b.test
receiving), and submitting over 2587-style submission with STARTTLS and
AUTH (smtplib)."""

import os
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import unittest

from portico import Server, free_port, wait_until


class Dnsmasq:
    """dnsmasq answering only from its command line: MX for each domain to
    mx.<domain> at 127.0.0.1, plus any extra --mx-host style options."""

    def __init__(self, domains, extra=()):
        self.port = free_port()
        self.tmp = tempfile.TemporaryDirectory(prefix="portico-dns-")
        self.log = os.path.join(self.tmp.name, "log")
        args = ["dnsmasq", "-k", "--no-resolv", "--no-hosts", "--no-poll",
                f"--port={self.port}", "--listen-address=127.0.0.1",
                "--bind-interfaces", f"--pid-file={self.tmp.name}/pid",
                f"--log-facility={self.log}", "--user=root", "--group=root"]
        for d in domains:
            args += [f"--mx-host={d},mx.{d},10", f"--host-record=mx.{d},127.0.0.1"]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        wait_until(self._answers, timeout=10, what="dnsmasq")

    def _answers(self):
        if self.proc.poll() is not None:
            raise AssertionError("dnsmasq exited: " + self.proc.stderr.read().decode())
        p = subprocess.run(["dnsmasq", "--test"], capture_output=True)
        return os.path.exists(os.path.join(self.tmp.name, "pid")) and p.returncode == 0

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.tmp.cleanup()


def fast_relay(*lines, retry_min=1, retry_max=1, connect_timeout=2):
    """A [relay] section for fast tests: the first retry after retry_min s
    (1), then every retry_max s; each of lines (a "key = value" string)
    added after."""
    head = (f"[relay]\nretry_min = {retry_min}\nretry_max = {retry_max}\n"
            f"connect_timeout = {connect_timeout}\n")
    return head + "".join(line + "\n" for line in lines)


def relay_extra(resolver, port, more=""):
    """[relay] keys for tests through the DNS: retries after 1 s, capped at 2 s."""
    return fast_relay(f"resolver = {resolver}", f"port = {port}", "timeout = 5",
                      retry_max=2) + more


def submit(server, user, password, to, body, sender=None, **kw):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", server.ports["submission"], timeout=20) as c:
        c.starttls(context=ctx)
        c.login(user, password)
        return c.sendmail(sender or user, to, body, **kw)


def queue_ids(server):
    """The queued entries: one .msg each (queue/queue.h)."""
    qdir = os.path.join(server.data_dir, "queue")
    return sorted(n[:-4] for n in os.listdir(qdir) if n.endswith(".msg")
                  and not n.startswith(("tmp.", "free.")))


def record(server, qid):
    """An entry's envelope record: its .env once rewritten, else the
    .msg's attribute (queue/queue.h)."""
    base = os.path.join(server.data_dir, "queue", qid)
    if os.path.exists(base + ".env"):
        with open(base + ".env") as f:
            return f.read()
    return os.getxattr(base + ".msg", "user.portico.queue").decode()


# Debian's python3-aiosmtpd lives in dist-packages, which the test runner's
# python3 (a pyenv 3.11) does not search by default.
import sys  # noqa: E402
if "/usr/lib/python3/dist-packages" not in sys.path:
    sys.path.append("/usr/lib/python3/dist-packages")

import socket  # noqa: E402
import threading  # noqa: E402


class Peer:
    """A scripted receiving server (aiosmtpd): rcpt_replies and data_replies
    are lists of replies used in turn (None: accept); every accepted
    message is kept in .messages as (mail_from, rcpts, content bytes).
    eightbit=False: EHLO does not offer 8BITMIME. tls_context: STARTTLS
    offered with that server context. host: the loopback address to bind
    (127.0.0.2 ... lets several peers share a port, as MX hosts do)."""

    def __init__(self, port=None, rcpt_replies=(), data_replies=(), ehlo_extra=(),
                 eightbit=True, tls_context=None, host="127.0.0.1"):
        from aiosmtpd.controller import Controller
        self.port = port or free_port()
        self.rcpt_replies = list(rcpt_replies)
        self.data_replies = list(data_replies)
        self.messages = []
        self.mail_params = []
        self.commands = []  # EHLO, MAIL and RSET, in the order they came
        self.lock = threading.Lock()
        peer = self

        class Handler:
            async def handle_EHLO(self, server, session, envelope, hostname, responses):
                session.host_name = hostname
                with peer.lock:
                    peer.commands.append("EHLO")
                if not eightbit:
                    responses = [r for r in responses if r != "250-8BITMIME"]
                return responses

            async def handle_RCPT(self, server, session, envelope, address, options):
                with peer.lock:
                    r = peer.rcpt_replies.pop(0) if peer.rcpt_replies else None
                if r:
                    return r
                envelope.rcpt_tos.append(address)
                return "250 2.1.5 OK"

            async def handle_RSET(self, server, session, envelope):
                with peer.lock:
                    peer.commands.append("RSET")
                return "250 2.0.0 OK"

            async def handle_MAIL(self, server, session, envelope, address, options):
                with peer.lock:
                    peer.mail_params.append(list(options))
                    peer.commands.append("MAIL")
                envelope.mail_from = address
                return "250 2.1.0 OK"

            async def handle_DATA(self, server, session, envelope):
                with peer.lock:
                    r = peer.data_replies.pop(0) if peer.data_replies else None
                    if r:
                        return r
                    peer.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                          envelope.original_content))
                return "250 2.0.0 accepted"

        self.controller = Controller(Handler(), hostname=host, port=self.port,
                                     decode_data=False, enable_SMTPUTF8=True,
                                     tls_context=tls_context, require_starttls=False)
        self.controller.start()
        self.running = True

    def stop(self):
        if self.running:
            self.running = False
            self.controller.stop()


class RawPeer:
    """A misbehaving peer on raw sockets: mode "silent" accepts and never
    answers, "hugeline" greets with a 1 MiB line, "cut" drops the
    connection in the middle of the first DATA and behaves afterwards
    (counting the messages it accepted in .accepted)."""

    def __init__(self, mode):
        self.mode = mode
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.accepted = []
        self.connections = 0
        self.stopping = False
        self.held = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(c, self.connections),
                             daemon=True).start()

    def _one(self, c, n):
        c.settimeout(30)
        try:
            if self.mode == "silent":
                self.held.append(c)
                return
            if self.mode == "hugeline":
                c.sendall(b"220 " + b"x" * (1 << 20) + b"\r\n")
                c.recv(100)
                c.close()
                return
            self._smtp(c, cut=(n == 1))
        except OSError:
            pass

    def _smtp(self, c, cut):
        f = c.makefile("rb")
        c.sendall(b"220 raw.test ESMTP\r\n")
        data = None
        for _ in range(1000):
            line = f.readline()
            if not line:
                return
            if data is not None:
                if cut and len(data) > 2:
                    c.close()  # in the middle of DATA
                    return
                if line == b".\r\n":
                    self.accepted.append(b"".join(data))
                    data = None
                    c.sendall(b"250 2.0.0 ok\r\n")
                else:
                    data.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                c.sendall(b"250-raw.test\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                data = []
                c.sendall(b"354 go\r\n")
            elif verb == b"QUIT":
                c.sendall(b"221 bye\r\n")
                c.close()
                return
            else:
                c.sendall(b"250 ok\r\n")

    def stop(self):
        self.stopping = True
        self.sock.close()
        for c in self.held:
            c.close()


class TestCA:
    """A throw-away certificate authority (openssl) in its own temp dir:
    .ca is its certificate (PEM), issue(name, sans) makes a leaf
    certificate and key for the SANs ("IP:127.0.0.1", "DNS:mx.b.test")
    and returns (cert, key) paths."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="portico-ca-")
        self.dir = self.tmp.name
        self.ca = os.path.join(self.dir, "ca.pem")
        self.ca_key = os.path.join(self.dir, "ca.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=portico test CA", "-keyout", self.ca_key, "-out", self.ca,
                        "-addext", "basicConstraints=critical,CA:TRUE",
                        "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                       check=True, capture_output=True)

    def issue(self, name, sans):
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        cert = os.path.join(self.dir, name + ".pem")
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=" + ",".join(sans) + "\n"
                    "extendedKeyUsage=serverAuth\n")
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + name,
                        "-keyout", key, "-out", csr], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca,
                        "-CAkey", self.ca_key, "-CAcreateserial", "-days", "2",
                        "-extfile", ext, "-out", cert], check=True, capture_output=True)
        return cert, key

    def server_context(self, name, sans):
        cert, key = self.issue(name, sans)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        return ctx

    def cleanup(self):
        self.tmp.cleanup()
