"""A private Postfix (Debian's 3.7) for the interop tests, as
bench/smtp/run.sh runs one: Debian's main.cf and master.cf copied into a
config directory under a temp dir and edited with postconf, loopback only,
smtpd on a free port, no chroot, its own queue, data and mailbox
directories, virtual(8) delivering DOMAIN's users to <mail>/<user>/Maildir/
as nobody, logging to <dir>/maillog. Started with `postfix -c DIR start`
and stopped with `postfix -c DIR stop` (waiting for its master to exit).
Needs root (Postfix's own daemons drop to the postfix user)."""

import os
import pwd
import grp
import shutil
import subprocess
import tempfile
import time

from portico import free_port, wait_until


def _accepts(port):
    import socket
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class PrivatePostfix:
    def __init__(self, domain, users=(), relayhost=None, tls=None, settings=()):
        """domain and users: the virtual mailboxes; relayhost: "[IP]:PORT"
        for everything else; tls: (cert, key) for smtpd STARTTLS;
        settings: more "name = value" for main.cf."""
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="portico-postfix-")
        os.chmod(self.dir, 0o755)
        self.etc = os.path.join(self.dir, "etc")
        self.spool = os.path.join(self.dir, "spool")
        self.mail = os.path.join(self.dir, "mail")
        self.log = os.path.join(self.dir, "maillog")
        data = os.path.join(self.dir, "data")
        for d in (self.etc, self.spool, self.mail, data):
            os.mkdir(d)
        for f in ("main.cf", "master.cf"):
            shutil.copy(os.path.join("/etc/postfix", f), self.etc)
        os.chown(data, pwd.getpwnam("postfix").pw_uid, -1)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.mail, nobody.pw_uid, grp.getgrnam("nogroup").gr_gid)
        with open(os.path.join(self.etc, "vmailbox"), "w") as f:
            for u in users:
                f.write(f"{u}@{domain} {u}/Maildir/\n")
        conf = [
            f"queue_directory = {self.spool}", f"data_directory = {data}",
            "inet_interfaces = 127.0.0.1", "inet_protocols = ipv4",
            f"myhostname = mx.{domain}", "mydestination =",
            "alias_maps =", "alias_database =",
            "mynetworks = 127.0.0.0/8",
            "smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination",
            f"virtual_mailbox_domains = {domain}", f"virtual_mailbox_base = {self.mail}",
            f"virtual_mailbox_maps = texthash:{self.etc}/vmailbox",
            f"virtual_uid_maps = static:{nobody.pw_uid}",
            f"virtual_gid_maps = static:{nobody.pw_gid}",
            f"maillog_file_prefixes = {self.dir}", f"maillog_file = {self.log}",
            "smtp_host_lookup = native", "smtp_tls_security_level = may",
            "minimal_backoff_time = 1s", "maximal_backoff_time = 2s",
            "queue_run_delay = 1s",
        ]
        if relayhost:
            conf.append(f"relayhost = {relayhost}")
        if tls:
            conf += [f"smtpd_tls_cert_file = {tls[0]}", f"smtpd_tls_key_file = {tls[1]}",
                     "smtpd_tls_security_level = may"]
        conf += list(settings)
        self.postconf("-e", *conf)
        self.postconf("-MX", "smtp/inet")
        self.postconf("-M", f"{self.port}/inet = {self.port} inet n - n - - smtpd")
        self.postconf("-F", "*/*/chroot = n")
        p = subprocess.run(["postfix", "-c", self.etc, "start"], capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise AssertionError("postfix did not start: " + p.stdout + p.stderr)
        self.started = True
        wait_until(lambda: _accepts(self.port), timeout=20, what="postfix smtpd")

    def postconf(self, *args):
        subprocess.run(["postconf", "-c", self.etc, *args], check=True, capture_output=True)

    def maildir(self, user):
        return os.path.join(self.mail, user, "Maildir")

    def messages(self, user):
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir(user), sub)
            if os.path.isdir(d):
                for n in sorted(os.listdir(d)):
                    with open(os.path.join(d, n), "rb") as f:
                        out.append(f.read())
        return out

    def maillog(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def master_pid(self):
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return None

    def stop(self):
        if self.started:
            pid = self.master_pid()
            subprocess.run(["postfix", "-c", self.etc, "stop"], capture_output=True)
            self.started = False
            if pid:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
                    time.sleep(0.05)
        shutil.rmtree(self.dir, ignore_errors=True)
