"""POP3 (issue 4) with real clients: Python poplib, curl, fetchmail.
Messages arrive by SMTP (smtplib) or are dropped into the Maildir's new/
as another program would."""

import base64
import hashlib
import os
import poplib
import smtplib
import socket
import ssl
import subprocess
import time
import unittest

from portico import Server, ServerTest, bounded_memory_env, wait_until

DOMAIN = "example.org"


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def drop_message(server, local, body, name):
    """Writes a message into new/ as another program (an MDA) would."""
    d = os.path.join(server.data_dir, "users", DOMAIN, local, "mail")
    for sub in ("tmp", "new", "cur"):  # an MDA creates the Maildir if needed
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    tmp = os.path.join(d, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(body)
    os.rename(tmp, os.path.join(d, "new", name))


def message(i, extra=b""):
    return (b"From: sender@example.net\nTo: alice@example.org\n"
            b"Subject: message %d\nMessage-ID: <m%d@example.net>\n\n"
            b"line one of %d\n.starts with a dot\n" % (i, i, i) + extra)


def wire(stored):
    """What RETR must send for stored (LF) bytes, before the final ".": CRLF
    line ends and dot-stuffing, as poplib hands lines back un-stuffed."""
    return stored.replace(b"\n", b"\r\n")


class Pop3Basics(ServerTest):
    SERVICES = ("smtp", "pop3")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user("alice@example.org", "alice-pw")
        cls.server.add_user("bob@example.org", "bob-pw")

    def setUp(self):
        # Each test starts from a known maildrop for alice.
        self.port = self.server.ports["pop3"]

    def connect(self):
        return poplib.POP3("127.0.0.1", self.port, timeout=20)

    def login(self, user="alice@example.org", password="alice-pw"):
        p = self.connect()
        p.user(user)
        p.pass_(password)
        return p

    def empty_maildrop(self, user="alice@example.org", password="alice-pw"):
        p = self.login(user, password)
        for i in range(1, p.stat()[0] + 1):
            p.dele(i)
        p.quit()

    def test_retr_bytes_sizes_top_uidl(self):
        self.empty_maildrop()
        msgs = [message(i) for i in range(3)]
        for i, m in enumerate(msgs):
            drop_message(self.server, "alice", m, f"{time.time():.0f}.basic{i}.host")
        p = self.login()
        count, octets = p.stat()
        self.assertEqual(count, 3)
        self.assertEqual(octets, sum(len(wire(m)) for m in msgs))
        listing = p.list()[1]
        self.assertEqual(len(listing), 3)
        for i, m in enumerate(msgs):
            resp, lines, size = p.retr(i + 1)
            got = b"\r\n".join(lines) + b"\r\n"
            self.assertEqual(got, wire(m))
            self.assertEqual(int(listing[i].split()[1]), len(wire(m)))
            self.assertTrue(resp.startswith(b"+OK %d octets" % len(wire(m))))
        resp, lines, _ = p.top(1, 1)
        self.assertEqual(lines[-1], b"line one of 0")
        self.assertIn(b"", lines)
        self.assertEqual(len(lines), 6)
        uidls = [l.split()[1] for l in p.uidl()[1]]
        self.assertEqual(len(set(uidls)), 3)
        self.assertEqual(p.uidl(2).split()[2], uidls[1])
        p.quit()

    def test_sizes_exact_for_files_written_by_other_programs(self):
        # No S=/W= in the names; one file with CRLF line ends, one mixed.
        self.empty_maildrop()
        crlf = b"Subject: crlf\r\n\r\nline\r\n.dot\r\n"
        mixed = b"Subject: mixed\n\r\nline\nother\r\n"
        drop_message(self.server, "alice", crlf, "1700000100.crlf.host")
        drop_message(self.server, "alice", mixed, "1700000101.mixed.host")
        for _ in range(2):  # measured once, then from the index
            p = self.login()
            listing = [int(l.split()[1]) for l in p.list()[1]]
            for i in (1, 2):
                lines = p.retr(i)[1]  # poplib un-stuffs and strips CRLF
                self.assertEqual(listing[i - 1], sum(len(l) + 2 for l in lines))
            p.quit()
        self.assertEqual(listing, [len(crlf), len(mixed) + 2])  # two bare LFs

    def test_message_with_unsorted_flags_is_readable(self):
        # Another program's file in cur/ with its flags not in ASCII order.
        self.empty_maildrop()
        d = os.path.join(self.server.data_dir, "users", DOMAIN, "alice", "mail")
        with open(os.path.join(d, "cur", "1700000200.unsorted.host:2,SR"), "wb") as f:
            f.write(message(200))
        p = self.login()
        self.assertEqual(b"\r\n".join(p.retr(1)[1]) + b"\r\n", wire(message(200)))
        p.dele(1)
        p.quit()
        self.assertEqual(os.listdir(os.path.join(d, "cur")), [])

    def test_dele_rset_and_quit_apply(self):
        self.empty_maildrop()
        for i in range(4):
            drop_message(self.server, "alice", message(i), f"{time.time():.0f}.dele{i}.host")
        p = self.login()
        uidls = p.uidl()[1]
        p.dele(1)
        with self.assertRaisesRegex(poplib.error_proto, "already deleted"):
            p.retr(1)
        self.assertEqual(p.stat()[0], 3)
        p.rset()
        self.assertEqual(p.stat()[0], 4)
        p.dele(2)
        p.dele(4)
        self.assertIn(b"2 messages left", p.quit())
        p = self.login()
        remaining = p.uidl()[1]
        # Numbers are renumbered, but the UIDLs are those of messages 1 and 3.
        self.assertEqual([l.split()[1] for l in remaining],
                         [uidls[0].split()[1], uidls[2].split()[1]])
        p.quit()

    def test_dropped_connection_deletes_nothing(self):
        self.empty_maildrop()
        drop_message(self.server, "alice", message(9), f"{time.time():.0f}.drop.host")
        p = self.login()
        p.dele(1)
        # No QUIT: no UPDATE state. (poplib's file object holds the fd too.)
        p.sock.shutdown(socket.SHUT_RDWR)
        p.file.close()
        p.sock.close()
        p2 = wait_until(lambda: self._try_login(), what="lock released")
        self.assertEqual(p2.stat()[0], 1)
        p2.quit()

    def _try_login(self):
        try:
            return self.login()
        except poplib.error_proto as e:
            if b"IN-USE" in e.args[0]:
                return None
            raise

    def test_second_session_is_in_use(self):
        p = self.login()
        other = self.connect()
        other.user("alice@example.org")
        with self.assertRaisesRegex(poplib.error_proto, r"\[IN-USE\]"):
            other.pass_("alice-pw")
        other.quit()
        p.quit()
        self.login().quit()  # released at QUIT

    def test_smtp_delivery_appears_in_next_session_only(self):
        self.empty_maildrop("bob@example.org", "bob-pw")
        p = self.login("bob@example.org", "bob-pw")
        self.assertEqual(p.stat()[0], 0)
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=20) as smtp:
            smtp.sendmail("x@example.net", ["bob@example.org"],
                          b"Subject: during\r\n\r\nhello bob\r\n")
        self.assertEqual(p.stat()[0], 0)
        self.assertEqual(p.list()[1], [])
        p.quit()
        p = self.login("bob@example.org", "bob-pw")
        self.assertEqual(p.stat()[0], 1)
        self.assertIn(b"hello bob", p.retr(1)[1])
        p.quit()

    def test_capa_and_auth_plain_login(self):
        p = self.connect()
        caps = p.capa()
        for cap in ("TOP", "UIDL", "USER", "SASL", "RESP-CODES", "AUTH-RESP-CODE",
                    "PIPELINING", "STLS", "IMPLEMENTATION"):
            self.assertIn(cap, caps)
        self.assertEqual(caps["SASL"], ["PLAIN", "LOGIN"])
        token = base64.b64encode(b"\0alice@example.org\0alice-pw").decode()
        self.assertTrue(p._shortcmd("AUTH PLAIN " + token).startswith(b"+OK"))
        self.assertNotIn("STLS", p.capa())
        p.quit()
        p = self.connect()
        self.assertTrue(p._shortcmd("AUTH LOGIN").startswith(b"+ "))
        self.assertTrue(p._shortcmd(base64.b64encode(b"alice").decode()).startswith(b"+ "))
        self.assertTrue(p._shortcmd(base64.b64encode(b"alice-pw").decode()).startswith(b"+OK"))
        p.quit()
        p = self.connect()
        p._shortcmd("AUTH PLAIN")  # "+ " continuation
        with self.assertRaisesRegex(poplib.error_proto, "cancelled"):
            p._shortcmd("*")
        with self.assertRaisesRegex(poplib.error_proto, "APOP"):
            p.apop("alice@example.org", "alice-pw")
        p.quit()

    def test_stls_then_login(self):
        p = self.connect()
        p.stls(context=tls_context())
        self.assertIn("TLSv1.", p.sock.version())
        p.user("alice@example.org")
        p.pass_("alice-pw")
        p.stat()
        p.quit()

    def test_implicit_tls(self):
        p = poplib.POP3_SSL("127.0.0.1", self.server.ports["pop3_tls"], context=tls_context(),
                            timeout=20)
        p.user("alice@example.org")
        p.pass_("alice-pw")
        p.stat()
        p.quit()

    def test_wrong_state_range_and_syntax(self):
        p = self.connect()
        for cmd in ("STAT", "LIST", "RETR 1", "DELE 1", "UIDL", "TOP 1 1", "NOOP", "RSET"):
            with self.assertRaisesRegex(poplib.error_proto, "not valid in this state"):
                p._shortcmd(cmd)
        with self.assertRaisesRegex(poplib.error_proto, "USER first"):
            p._shortcmd("PASS x")
        with self.assertRaisesRegex(poplib.error_proto, "unknown command"):
            p._shortcmd("FROB")
        p.quit()
        self.empty_maildrop()
        drop_message(self.server, "alice", message(1), f"{time.time():.0f}.range.host")
        p = self.login()
        for cmd, pattern in (("RETR 2", "no such message"), ("RETR 0", "syntax"),
                             ("RETR x", "syntax"), ("TOP 1", "syntax"),
                             ("LIST 99", "no such message"), ("USER bob", "not valid")):
            with self.assertRaisesRegex(poplib.error_proto, pattern):
                p._shortcmd(cmd)
        p.quit()

    def test_long_line_refused_and_session_goes_on(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as s:
            f = s.makefile("rb")
            self.assertTrue(f.readline().startswith(b"+OK"))
            s.sendall(b"USER " + b"a" * 10240 + b"\r\nNOOP\r\nCAPA\r\n")
            self.assertEqual(f.readline(), b"-ERR line too long\r\n")
            self.assertTrue(f.readline().startswith(b"-ERR"))  # NOOP before login
            self.assertEqual(f.readline(), b"+OK capability list follows\r\n")

    def test_pipelined_commands_in_order(self):
        self.empty_maildrop()
        for i in range(3):
            drop_message(self.server, "alice", message(i), f"{time.time():.0f}.pipe{i}.host")
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as s:
            f = s.makefile("rb")
            f.readline()
            s.sendall(b"USER alice@example.org\r\nPASS alice-pw\r\nSTAT\r\nRETR 1\r\n"
                      b"DELE 2\r\nSTAT\r\nQUIT\r\n")
            replies = [f.readline() for _ in range(4)]
            self.assertTrue(replies[2].startswith(b"+OK 3 "), replies)
            body = b""
            while not body.endswith(b"\r\n.\r\n"):
                body += f.readline()
            self.assertIn(b"..starts with a dot", body)
            self.assertTrue(f.readline().startswith(b"+OK message 2 deleted"))
            self.assertTrue(f.readline().startswith(b"+OK 2 "))
            self.assertIn(b"signing off", f.readline())

    def test_wrong_password_is_throttled(self):
        p = self.connect()
        times = []
        for _ in range(5):
            p.user("bob@example.org")
            t0 = time.monotonic()
            with self.assertRaisesRegex(poplib.error_proto, r"\[AUTH\]"):
                p.pass_("wrong")
            times.append(time.monotonic() - t0)
        self.assertLess(times[0], 1.0)
        self.assertGreaterEqual(times[4], 0.9)  # growing delay after 3 failures
        p.quit()
        self.server.cli  # the server still serves
        self.login("alice@example.org", "alice-pw").quit()


class Pop3Curl(ServerTest):
    SERVICES = ("pop3",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user("carol@example.org", "carol-pw")
        cls.msg = message(42)
        drop_message(cls.server, "carol", cls.msg, "1700000000.curl.host")

    def curl(self, *args):
        return subprocess.run(["curl", "-sS", "--max-time", "20", "-u", "carol@example.org:carol-pw"]
                              + list(args), capture_output=True, check=True).stdout

    def test_list_and_retrieve(self):
        port = self.server.ports["pop3"]
        listing = self.curl(f"pop3://127.0.0.1:{port}/")
        self.assertEqual(listing, b"1 %d\r\n" % len(wire(self.msg)))
        self.assertEqual(self.curl(f"pop3://127.0.0.1:{port}/1"), wire(self.msg))

    def test_pop3s(self):
        port = self.server.ports["pop3_tls"]
        self.assertEqual(self.curl("-k", f"pop3s://127.0.0.1:{port}/1"), wire(self.msg))

    def test_pop3_with_stls_required(self):
        port = self.server.ports["pop3"]
        self.assertEqual(self.curl("-k", "--ssl-reqd", f"pop3://127.0.0.1:{port}/1"),
                         wire(self.msg))


class Pop3Fetchmail(unittest.TestCase):
    """fetchmail in keep mode fetches each message once (UIDL), in nokeep mode
    empties the maildrop; across a server restart too."""

    def setUp(self):
        self.server = Server(services=("pop3",))
        self.server.start()
        self.server.add_user("dave@example.org", "dave-pw")
        self.dir = self.server.tmp.name
        self.mbox = os.path.join(self.dir, "mbox")

    def tearDown(self):
        try:
            self.server.stop()
        finally:
            self.server.cleanup()

    def fetchmail(self, keep):
        rc = os.path.join(self.dir, "fetchmailrc")
        with open(rc, "w") as f:
            f.write(f"poll 127.0.0.1 service {self.server.ports['pop3']} protocol pop3 uidl\n"
                    f"  user 'dave@example.org' there with password 'dave-pw' is 'dave' here\n"
                    f"  {'keep' if keep else 'nokeep'} sslproto '' mda \"cat >> {self.mbox}\"\n")
        os.chmod(rc, 0o600)
        env = dict(os.environ, HOME=self.dir)
        p = subprocess.run(["fetchmail", "-f", rc, "-i", os.path.join(self.dir, "ids"),
                            "--nodetach", "--nosyslog", "-v"],
                           capture_output=True, text=True, env=env, timeout=120)
        # 0: mail fetched, 1: no mail.
        self.assertIn(p.returncode, (0, 1), p.stdout + p.stderr)
        return p

    def fetched(self):
        if not os.path.exists(self.mbox):
            return []
        with open(self.mbox, "rb") as f:
            return [l for l in f.read().splitlines() if l.startswith(b"Message-ID:")]

    def test_keep_mode_downloads_each_message_once(self):
        for i in range(5):
            drop_message(self.server, "dave", message(i), f"1700000000.keep{i}.host")
        self.fetchmail(keep=True)
        self.assertEqual(len(self.fetched()), 5)
        self.fetchmail(keep=True)
        self.assertEqual(len(self.fetched()), 5)
        self.server.stop()
        self.server.start()
        drop_message(self.server, "dave", message(7), "1700000001.keep7.host")
        self.fetchmail(keep=True)
        ids = self.fetched()
        self.assertEqual(len(ids), 6)
        self.assertEqual(len(set(ids)), 6)

    def test_nokeep_mode_empties_maildrop(self):
        for i in range(4):
            drop_message(self.server, "dave", message(i), f"1700000000.nokeep{i}.host")
        self.fetchmail(keep=False)
        self.assertEqual(len(self.fetched()), 4)
        p = poplib.POP3("127.0.0.1", self.server.ports["pop3"], timeout=20)
        p.user("dave@example.org")
        p.pass_("dave-pw")
        self.assertEqual(p.stat(), (0, 0))
        p.quit()
        self.fetchmail(keep=False)
        self.assertEqual(len(self.fetched()), 4)


class Pop3LargeMessage(ServerTest):
    SERVICES = ("pop3",)
    ENV = bounded_memory_env()

    def test_50_mib_retr_streams(self):
        self.server.add_user("erin@example.org", "erin-pw")
        line = b"x" * 76 + b"\n"
        body = b"Subject: big\n\n" + line * (50 * 1024 * 1024 // len(line))
        drop_message(self.server, "erin", body, "1700000000.big.host")
        p = poplib.POP3("127.0.0.1", self.server.ports["pop3"], timeout=60)
        p.user("erin@example.org")
        p.pass_("erin-pw")
        pid = self.server.proc.pid

        def rss():
            with open(f"/proc/{pid}/status") as f:
                for l in f:
                    if l.startswith("VmRSS"):
                        return int(l.split()[1])
        before = rss()
        p._putcmd("RETR 1")
        self.assertTrue(p._getline()[0].startswith(b"+OK %d octets" % len(wire(body))))
        h = hashlib.sha256()
        peak = before
        n = 0
        while True:
            l, _ = p._getline()
            if l == b".":
                break
            h.update(l + b"\r\n")
            n += 1
            if n % 50000 == 0:
                peak = max(peak, rss())
        self.assertEqual(h.hexdigest(), hashlib.sha256(wire(body)).hexdigest())
        # Bounded memory: far less than the 50 MiB message.
        self.assertLess(peak - before, 16 * 1024, f"RSS grew {peak - before} KiB")
        p.quit()


if __name__ == "__main__":
    unittest.main()
