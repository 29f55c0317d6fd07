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


def relay_extra(resolver, port, more=""):
    """[relay] keys for fast tests: retries after 1 s, capped at 2 s."""
    return (f"[relay]\nresolver = {resolver}\nport = {port}\nretry_min = 1\n"
            f"retry_max = 2\nconnect_timeout = 2\ntimeout = 5\n{more}")


def submit(server, user, password, to, body, sender=None, **kw):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", server.ports["submission"], timeout=20) as c:
        c.starttls(context=ctx)
        c.login(user, password)
        return c.sendmail(sender or user, to, body, **kw)


def queue_ids(server):
    qdir = os.path.join(server.data_dir, "queue")
    return sorted(n[:-4] for n in os.listdir(qdir) if n.endswith(".env")
                  and not n.startswith("tmp."))
