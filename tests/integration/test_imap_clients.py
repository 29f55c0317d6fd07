"""IMAP (issue 9) with the mail clients people use, each a real program:
mbsync (isync) syncing both ways, mutt reading and moving a message under
tmux, fetchmail over IMAP in keep and nokeep mode. Messages arrive by SMTP
(smtplib); what the clients did is checked with imaplib. mbsync and mutt
(imap_deflate) run compressed (COMPRESS=DEFLATE, RFC 4978)."""

import imaplib
import os
import re
import shutil
import smtplib
import subprocess
import unittest

from portico import Server, wait_until

DOMAIN = "example.org"
USER = "carol@example.org"
PASSWORD = "carol-secret-pw"


def message(i, subject=None):
    subject = subject or f"client test {i}"
    return (f"From: sender@example.net\r\nTo: {USER}\r\nSubject: {subject}\r\n"
            f"Message-ID: <client{i}@example.net>\r\n"
            f"Date: Tue, 01 Dec 2026 10:00:0{i % 10} +0000\r\n\r\n"
            f"Body of message {i}.\r\n").encode()


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(services=("smtp", "imap"), tls=False)
        self.server.start()
        self.server.add_user(USER, PASSWORD)
        self.dir = self.server.tmp.name
        self.port = self.server.ports["imap"]

    def tearDown(self):
        try:
            self.server.stop()
        finally:
            self.server.cleanup()

    def deliver(self, n, start=0):
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=30) as s:
            for i in range(start, start + n):
                s.sendmail("sender@example.net", [USER], message(i))

    def imap(self):
        m = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        m.login(USER, PASSWORD)
        return m

    def subjects(self, folder):
        """Subject -> flags of every message in folder, over IMAP."""
        m = self.imap()
        try:
            typ, _ = m.select(f'"{folder}"', readonly=True)
            self.assertEqual(typ, "OK")
            typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            out = {}
            if typ != "OK" or data == [None]:
                return out
            for item in data:
                if not isinstance(item, tuple):
                    continue
                flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode()
                subject = item[1].decode().split(":", 1)[1].strip()
                out[subject] = set(flags.split())
            return out
        finally:
            m.logout()


class MbsyncTest(ClientTest):
    """mbsync: new mail down; local flag changes, a move and a deletion up;
    a third run that transfers nothing."""

    def mbsync(self):
        rc = os.path.join(self.dir, "mbsyncrc")
        local = os.path.join(self.dir, "local")
        os.makedirs(local, exist_ok=True)  # isync 1.4 does not create its Path
        with open(rc, "w") as f:
            f.write(f"IMAPAccount portico\nHost 127.0.0.1\nPort {self.port}\n"
                    f"User {USER}\nPass {PASSWORD}\nSSLType None\nAuthMechs LOGIN\n\n"
                    f"IMAPStore remote\nAccount portico\n\n"
                    f"MaildirStore local\nPath {local}/\nInbox {local}/INBOX\n"
                    f"SubFolders Verbatim\n\n"
                    f"Channel sync\nFar :remote:\nNear :local:\nPatterns *\n"
                    f"Create Both\nExpunge Both\nSyncState *\n")
        p = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, text=True,
                           timeout=120, env=dict(os.environ, HOME=self.dir))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return local

    def local_files(self, local, folder):
        d = os.path.join(local, folder)
        found = {}
        for sub in ("new", "cur"):
            path = os.path.join(d, sub)
            if not os.path.isdir(path):
                continue
            for name in os.listdir(path):
                with open(os.path.join(path, name), "rb") as f:
                    m = re.search(rb"^Subject: (.*)$", f.read(), re.M)
                found[m.group(1).decode().strip()] = os.path.join(path, name)
        return found

    def commands_logged(self):
        return len(re.findall(r"imap command (APPEND|STORE|UID STORE|EXPUNGE|UID EXPUNGE)",
                              self.server.stderr()))

    def test_sync_both_ways(self):
        self.deliver(3)
        local = self.mbsync()
        files = self.local_files(local, "INBOX")
        self.assertEqual(set(files), {"client test 0", "client test 1", "client test 2"})
        with open(files["client test 1"], "rb") as f:
            self.assertIn(b"Body of message 1.", f.read())

        # Local changes: 0 read and flagged, 1 moved to Archive, 2 deleted.
        path0 = files["client test 0"]
        base0 = os.path.basename(path0).split(":2,")[0]
        os.rename(path0, os.path.join(local, "INBOX", "cur", base0 + ":2,FS"))
        archive = os.path.join(local, "Archive")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(archive, sub), exist_ok=True)
        moved = os.path.basename(files["client test 1"]).split(",U=")[0]
        shutil.move(files["client test 1"], os.path.join(archive, "new", moved))
        os.unlink(files["client test 2"])
        self.mbsync()

        inbox = self.subjects("INBOX")
        self.assertEqual(set(inbox), {"client test 0"})
        self.assertTrue({"\\Seen", "\\Flagged"} <= inbox["client test 0"])
        self.assertEqual(set(self.subjects("Archive")), {"client test 1"})

        before = self.commands_logged()
        self.mbsync()
        self.assertEqual(self.commands_logged(), before, "a sync with nothing new wrote")
        self.assertEqual(set(self.local_files(local, "INBOX")), {"client test 0"})
        # isync 1.4 compresses whenever COMPRESS=DEFLATE is offered (RFC 4978).
        self.assertIn("imap compress mechanism=deflate", self.server.stderr())


class MuttTest(ClientTest):
    """mutt under tmux: the index shows the message, Enter shows its body,
    `s` saves (moves) it to Archive, `q` leaves with INBOX expunged."""

    def setUp(self):
        super().setUp()
        self.session = f"portico-mutt-{os.getpid()}-{self.port}"
        # A tmux server of its own: on the shared default socket another
        # user's last session ending takes the server away mid-test.
        self.tmux = ["tmux", "-S", os.path.join(self.dir, "tmux.sock")]

    def tearDown(self):
        subprocess.run(self.tmux + ["kill-server"], capture_output=True)
        super().tearDown()

    def screen(self):
        p = subprocess.run(self.tmux + ["capture-pane", "-p", "-t", self.session],
                           capture_output=True, text=True)
        return p.stdout

    def alive(self):
        return subprocess.run(self.tmux + ["has-session", "-t", self.session],
                              capture_output=True).returncode == 0

    def keys(self, *keys, check=True):
        subprocess.run(self.tmux + ["send-keys", "-t", self.session] + list(keys),
                       check=check, capture_output=not check)

    def test_read_and_move(self):
        self.deliver(1)
        rc = os.path.join(self.dir, "muttrc")
        with open(rc, "w") as f:
            f.write(f"set folder=imap://{USER.replace('@', '%40')}@127.0.0.1:{self.port}/\n"
                    f"set imap_pass='{PASSWORD}'\nset spoolfile=+INBOX\n"
                    f"set ssl_starttls=no\nset ssl_force_tls=no\n"
                    f"set confirmappend=no\nset delete=yes\nset move=no\n"
                    f"set header_cache=''\nset message_cachedir=''\nset sort=date\n"
                    f"set imap_check_subscribed=no\nset mail_check=1\nset timeout=1\n"
                    f"set imap_deflate=yes\n")
        env = dict(os.environ, HOME=self.dir, TERM="xterm")
        subprocess.run(self.tmux + ["new-session", "-d", "-s", self.session, "-x", "160",
                                    "-y", "40", f"mutt -n -F {rc}"], check=True, env=env)
        wait_until(lambda: "client test 0" in self.screen(), timeout=30, what="mutt index")
        self.keys("Enter")
        wait_until(lambda: "Body of message 0." in self.screen(), timeout=15,
                   what="message body")
        self.keys("s")
        wait_until(lambda: "Save to mailbox" in self.screen(), timeout=15, what="save prompt")
        self.keys("C-u", "=Archive", "Enter")
        wait_until(lambda: "client test 0" in self.subjects("Archive"), timeout=15,
                   what="message in Archive")
        # q leaves the pager if mutt is still in it (after the save it may
        # be back in the index already), then q quits, purging the original.
        self.keys("q")
        wait_until(lambda: not self.alive() or "Body of message 0." not in self.screen(),
                   timeout=15, what="out of the pager")
        if self.alive():
            # mutt may quit between the check and the key (the session is
            # gone then): what counts is the INBOX below.
            self.keys("q", check=False)
        wait_until(lambda: self.subjects("INBOX") == {}, timeout=15, what="INBOX empty")
        self.assertIn("\\Seen", self.subjects("Archive")["client test 0"])
        self.assertIn("imap compress mechanism=deflate", self.server.stderr())  # imap_deflate


class FetchmailImapTest(ClientTest):
    """fetchmail over IMAP: keep fetches each message once; nokeep empties
    the INBOX."""

    def fetchmail(self, keep):
        rc = os.path.join(self.dir, "fetchmailrc")
        self.mbox = os.path.join(self.dir, "mbox")
        with open(rc, "w") as f:
            f.write(f"poll 127.0.0.1 service {self.port} protocol imap\n"
                    f"  user '{USER}' there with password '{PASSWORD}' is 'carol' here\n"
                    f"  {'keep' if keep else 'nokeep fetchall'} sslproto ''"
                    f" mda \"cat >> {self.mbox}\"\n")
        os.chmod(rc, 0o600)
        p = subprocess.run(["fetchmail", "-f", rc, "-i", os.path.join(self.dir, "ids"),
                            "--nodetach", "--nosyslog", "-v"], capture_output=True,
                           text=True, env=dict(os.environ, HOME=self.dir), timeout=120)
        self.assertIn(p.returncode, (0, 1), p.stdout + p.stderr)  # 1: no mail

    def fetched(self):
        if not os.path.exists(self.mbox):
            return []
        with open(self.mbox, "rb") as f:
            return re.findall(rb"^Message-ID: (\S+)", f.read(), re.M)

    def test_keep_then_nokeep(self):
        self.deliver(3)
        self.fetchmail(keep=True)
        self.assertEqual(len(self.fetched()), 3)
        self.fetchmail(keep=True)  # keep: seen messages are not fetched again
        self.assertEqual(len(self.fetched()), 3)
        self.assertEqual(len(self.subjects("INBOX")), 3)
        self.deliver(1, start=5)
        self.fetchmail(keep=False)  # fetchall: the seen ones too, then deleted
        self.assertIn(b"<client5@example.net>", self.fetched())
        self.assertEqual(self.subjects("INBOX"), {})


if __name__ == "__main__":
    unittest.main()
