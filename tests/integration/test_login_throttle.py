"""Login throttling under concurrency (issue 14): parallel wrong passwords
are counted before any is checked, account names are canonical before the
throttle, an account is locked only for the addresses that failed on it,
and trusted networks are delayed but never refused."""

import socket
import threading
import unittest

from portico import Server, wait_until


def pop3_login(port, user, password, source="127.0.0.1"):
    """The server's answer to PASS (one line)."""
    with socket.socket() as s:
        s.settimeout(60)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        f = s.makefile("rb")
        f.readline()
        s.sendall(f"USER {user}\r\n".encode())
        f.readline()
        s.sendall(f"PASS {password}\r\n".encode())
        return f.readline().decode(errors="replace").strip()


class Throttle(unittest.TestCase):
    # 127.0.0.1 is trusted (delay only); 127.0.0.2.. are not.
    EXTRA = ("[portico]\nmax_connections_per_ip = 1000\n"
             "[auth]\nallow_plaintext_auth = yes\ntrusted_networks = 127.0.0.1\n"
             "throttle_max_delay = 1\n")

    @classmethod
    def setUpClass(cls):
        cls.server = Server(services=("pop3",), extra=cls.EXTRA, tls=False)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        for name in ("alice", "bob", "carol", "dave", "erin"):
            cls.server.add_user(f"{name}@example.org", "right-password")
        cls.server.cli("alias", "add", "carol.alias@example.org", "carol@example.org")
        cls.port = cls.server.ports["pop3"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def checked(self):
        """Password checks that ran: each logs result=ok or result=fail."""
        err = self.server.stderr()
        return err.count("result=fail") + err.count("result=ok")

    def parallel(self, n, user, source):
        answers = []
        lock = threading.Lock()

        def one():
            a = pop3_login(self.port, user, "wrong", source)
            with lock:
                answers.append(a)

        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        return answers

    def test_parallel_wrong_passwords_check_at_most_the_limit(self):
        before = self.checked()
        answers = self.parallel(60, "alice@example.org", "127.0.0.2")
        self.assertEqual(len(answers), 60)
        checked = self.checked() - before
        self.assertLessEqual(checked, 10, "checks beyond the limit")
        self.assertGreaterEqual(sum("too many failed logins" in a for a in answers), 50)
        # The account is not locked for another address.
        self.assertTrue(pop3_login(self.port, "alice@example.org", "right-password",
                                   "127.0.0.3").startswith("+OK"))

    def test_canonical_names_share_one_count(self):
        spellings = ["carol", "CAROL@Example.ORG", "carol.alias@example.org", "Carol"]
        before = self.checked()
        answers = []
        threads = [threading.Thread(target=lambda n=spellings[i % 4]: answers.append(
            pop3_login(self.port, n, "wrong", "127.0.0.4"))) for i in range(14)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertLessEqual(self.checked() - before, 10)
        # The pair (carol, 127.0.0.4) is locked under every spelling.
        for name in spellings:
            self.assertIn("too many failed logins",
                          pop3_login(self.port, name, "right-password", "127.0.0.4"))

    def test_many_addresses_check_at_most_the_limit_each(self):
        # 10 addresses x 20 parallel wrong passwords on one account: each
        # address is refused after its 10, so at most 100 checks in all, and
        # the account is not locked for an address that never failed.
        err_before = len(self.server.stderr())
        answers = []
        lock = threading.Lock()

        def one(src):
            a = pop3_login(self.port, "dave@example.org", "wrong", src)
            with lock:
                answers.append(a)

        sources = [f"127.0.1.{i}" for i in range(1, 11)]
        threads = [threading.Thread(target=one, args=(src,))
                   for src in sources for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(len(answers), 200)
        log = self.server.stderr()[err_before:]
        for src in sources:
            n = sum(1 for line in log.splitlines()
                    if f"peer={src} " in line and "result=fail" in line)
            self.assertLessEqual(n, 10, f"checks from {src}")
            self.assertGreaterEqual(n, 1, f"no check from {src}")
        self.assertTrue(pop3_login(self.port, "dave@example.org", "right-password",
                                   "127.0.2.1").startswith("+OK"))

    def test_trusted_address_never_locks_an_account_out(self):
        # 12 wrong passwords for erin from the trusted address, in parallel
        # (each answer only delayed), then the right one still logs in.
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(
            pop3_login(self.port, "erin@example.org", "wrong"))) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(len(answers), 12)
        self.assertFalse(any("too many failed logins" in a for a in answers), answers)
        self.assertTrue(pop3_login(self.port, "erin@example.org",
                                   "right-password").startswith("+OK"))

    def test_trusted_network_is_delayed_not_refused(self):
        for _ in range(4):
            self.assertTrue(pop3_login(self.port, "nobody", "wrong").startswith("-ERR"))
        self.assertTrue(pop3_login(self.port, "carol@example.org",
                                   "right-password").startswith("+OK"))


if __name__ == "__main__":
    unittest.main()
