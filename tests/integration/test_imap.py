"""IMAP (issue 9) with real clients: Python imaplib (plain, STARTTLS,
IMAP4_SSL) over every command of the server core, curl imap:// and
imaps://, and raw malformed input. FETCH/SEARCH/SORT/THREAD are tested by
the imapfetch files."""

import base64
import imaplib
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from imap_common import DOMAIN, Raw, login, tls_context
from portico import ServerTest

ALICE = "alice@" + DOMAIN
BOB = "bob@" + DOMAIN
PW = "alice-pass-9"
BOB_PW = "bob-pass-9"
MSG = b"From: a@example.net\r\nTo: alice@example.org\r\nSubject: hello\r\n\r\nbody text\r\n"


class ImapTest(ServerTest):
    SERVICES = ("smtp", "imap", "pop3")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user(ALICE, PW)
        cls.server.add_user(BOB, BOB_PW)

    def client(self, user=ALICE, pw=PW):
        m = login(self.server, user, pw)
        self.addCleanup(self._logout, m)
        return m

    @staticmethod
    def _logout(m):
        try:
            m.logout()
        except Exception:
            pass

    def raw(self, port=None):
        r = Raw(port or self.server.ports["imap"])
        self.addCleanup(r.close)
        return r

    # ---- any state ----
    def test_greeting_and_capability(self):
        r = self.raw()
        self.assertRegex(r.greeting, rb"^\* OK \[CAPABILITY IMAP4rev1 IMAP4rev2 .*\] portico")
        self.assertIn(b"STARTTLS", r.greeting)
        self.assertIn(b"AUTH=PLAIN", r.greeting)  # loopback: plaintext allowed
        lines, tagged = r.cmd("a CAPABILITY")
        self.assertTrue(tagged.startswith(b"a OK"))
        caps = lines[0].split()
        for c in (b"IDLE", b"UIDPLUS", b"MOVE", b"CONDSTORE", b"QRESYNC", b"LITERAL+",
                  b"SASL-IR", b"ENABLE", b"NAMESPACE", b"ID", b"UNSELECT", b"LIST-STATUS",
                  b"SPECIAL-USE", b"STATUS=SIZE", b"OBJECTID", b"CHILDREN", b"LIST-EXTENDED"):
            self.assertIn(c, caps)
        self.assertTrue(any(c.startswith(b"APPENDLIMIT=") for c in caps))
        _, t = r.cmd("b NOOP")
        self.assertTrue(t.startswith(b"b OK"))
        lines, t = r.cmd("c LOGOUT")
        self.assertTrue(lines[0].startswith(b"* BYE"))
        self.assertTrue(t.startswith(b"c OK"))

    def test_starttls_and_imaps(self):
        m = imaplib.IMAP4("127.0.0.1", self.server.ports["imap"], timeout=10)
        m.starttls(ssl_context=tls_context())
        typ, caps = m.capability()
        self.assertNotIn(b"STARTTLS", caps[0].split())
        m.login(ALICE, PW)
        self.assertEqual(m.noop()[0], "OK")
        m.logout()
        s = imaplib.IMAP4_SSL("127.0.0.1", self.server.ports["imap_tls"],
                              ssl_context=tls_context(), timeout=10)
        self.assertNotIn("STARTTLS", s.capabilities)
        s.login(ALICE, PW)
        self.assertEqual(s.select("INBOX")[0], "OK")
        s.logout()

    def test_starttls_discards_buffered_plaintext(self):
        r = self.raw()
        r.send("a STARTTLS\r\nb LOGIN alice x\r\n")
        self.assertTrue(r.line().startswith(b"a OK"))
        tls = tls_context().wrap_socket(r.sock)
        tls.sendall(b"c NOOP\r\n")
        got = tls.recv(4096)
        self.assertTrue(got.startswith(b"c OK"), got)
        tls.close()

    # ---- not authenticated ----
    def test_login_failures_and_throttle(self):
        m = imaplib.IMAP4("127.0.0.1", self.server.ports["imap"], timeout=20)
        times = []
        for _ in range(5):
            t0 = time.monotonic()
            with self.assertRaises(imaplib.IMAP4.error) as e:
                m.login("carol@" + DOMAIN, "wrong")
            times.append(time.monotonic() - t0)
            self.assertRegex(str(e.exception), "AUTHENTICATIONFAILED|UNAVAILABLE")
        self.assertLess(times[0], 1.0)
        self.assertGreaterEqual(times[4], 0.9)  # growing delay after 3 failures
        m.logout()
        self.client().logout()  # the right password still works

    def test_authenticate_plain_sasl_ir_and_cancel(self):
        r = self.raw()
        ir = base64.b64encode(b"\0" + BOB.encode() + b"\0" + BOB_PW.encode()).decode()
        lines, t = r.cmd("a AUTHENTICATE PLAIN " + ir)
        self.assertTrue(t.startswith(b"a OK [CAPABILITY"), t)
        r2 = self.raw()
        r2.send("b AUTHENTICATE LOGIN\r\n")
        self.assertTrue(r2.line().startswith(b"+ "))
        r2.send("*\r\n")
        self.assertTrue(r2.line().startswith(b"b BAD"))
        m = imaplib.IMAP4("127.0.0.1", self.server.ports["imap"], timeout=10)
        m.authenticate("PLAIN", lambda _: b"\0" + BOB.encode() + b"\0" + BOB_PW.encode())
        self.assertEqual(m.noop()[0], "OK")
        m.logout()

    def test_wrong_state(self):
        r = self.raw()
        _, t = r.cmd("a SELECT INBOX")
        self.assertTrue(t.startswith(b"a BAD"), t)
        _, t = r.cmd("b FROB")
        self.assertTrue(t.startswith(b"b BAD"), t)
        r.cmd("c LOGIN " + ALICE + " " + PW)
        _, t = r.cmd("d EXPUNGE")
        self.assertTrue(t.startswith(b"d BAD"), t)
        _, t = r.cmd("e LOGIN x y")
        self.assertTrue(t.startswith(b"e BAD"), t)
        _, t = r.cmd("f STARTTLS")
        self.assertTrue(t.startswith(b"f BAD"), t)

    # ---- authenticated ----
    def test_enable_id_namespace(self):
        r = self.raw()
        r.cmd(f"a LOGIN {BOB} {BOB_PW}")
        lines, t = r.cmd("b ENABLE CONDSTORE UTF8=ACCEPT X-UNKNOWN")
        self.assertEqual(lines, [b"* ENABLED CONDSTORE UTF8=ACCEPT\r\n"])
        lines, t = r.cmd("c ENABLE CONDSTORE")
        self.assertEqual(lines, [b"* ENABLED\r\n"])
        lines, t = r.cmd('d ID ("name" "test" "version" NIL)')
        self.assertTrue(lines[0].startswith(b'* ID ("name" "portico"'))
        lines, t = r.cmd("e NAMESPACE")
        self.assertEqual(lines, [b'* NAMESPACE (("" "/")) NIL NIL\r\n'])

    def test_folders(self):
        m = self.client(BOB, BOB_PW)
        self.assertEqual(m.create("Projects/2026")[0], "OK")
        self.assertEqual(m.create("Projects/2026")[0], "NO")
        typ, lst = m.list('""', "Projects*")
        names = b" ".join(lst)
        self.assertIn(b"\\HasChildren", lst[0])
        self.assertIn(b"Projects/2026", names)
        self.assertEqual(m.rename("Projects", "Old")[0], "OK")
        typ, lst = m.list('""', "*")
        self.assertIn(b'"Old/2026"', b" ".join(lst).replace(b"Old/2026", b'"Old/2026"'))
        self.assertEqual(m.subscribe("Old/2026")[0], "OK")
        typ, lsub = m.lsub('""', "*")
        self.assertTrue(any(b"Old/2026" in x for x in lsub), lsub)
        typ, lst = m._simple_command("LIST", "(SUBSCRIBED)", '""', '"*"', "RETURN",
                                     "(CHILDREN STATUS (MESSAGES UIDNEXT))")
        typ, data = m._untagged_response(typ, lst, "LIST")
        self.assertTrue(any(b"\\Subscribed" in x for x in data if x), data)
        self.assertEqual(m.unsubscribe("Old/2026")[0], "OK")
        self.assertEqual(m.delete("Old/2026")[0], "OK")
        self.assertEqual(m.delete("INBOX")[0], "NO")
        self.assertEqual(m.delete("Nope")[0], "NO")
        typ, lst = m.list('""', '""')
        self.assertIn(b'(\\Noselect) "/" ""', lst[0])

    def test_list_status_and_special_use(self):
        m = self.client(BOB, BOB_PW)
        typ, data = m._simple_command("LIST", '""', '"%"', "RETURN",
                                      "(SPECIAL-USE STATUS (MESSAGES UIDVALIDITY))")
        self.assertEqual(typ, "OK")
        self.assertIn("STATUS", m.untagged_responses)

    def test_status(self):
        m = self.client()
        m.append("INBOX", None, None, MSG)
        typ, data = m.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE "
                                      "HIGHESTMODSEQ APPENDLIMIT MAILBOXID)")
        self.assertEqual(typ, "OK")
        for item in (b"MESSAGES", b"UIDNEXT", b"UNSEEN", b"SIZE", b"HIGHESTMODSEQ",
                     b"APPENDLIMIT", b"MAILBOXID ("):
            self.assertIn(item, data[0])
        self.assertEqual(m.status("NoSuch", "(MESSAGES)")[0], "NO")

    def test_append(self):
        m = self.client()
        m.create("Drafts2")
        typ, data = m.append("Drafts2", r"(\Draft \Seen $Label1)",
                             imaplib.Time2Internaldate(1700000000), MSG)
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0], rb"^\[APPENDUID \d+ 1\]")
        typ, data = m.append("NoSuchBox", None, None, MSG)
        self.assertEqual(typ, "NO")
        self.assertIn(b"TRYCREATE", data[0])
        r = self.raw()
        r.cmd(f"a LOGIN {ALICE} {PW}")
        body = b"Subject: plus\r\n\r\nnon-synchronising\r\n"
        r.send(b"b APPEND Drafts2 {%d+}\r\n" % len(body) + body + b"\r\n")
        lines, t = r.until("b")
        self.assertTrue(t.startswith(b"b OK [APPENDUID"), t)
        lines, t = r.cmd("c STATUS Drafts2 (MESSAGES)")
        self.assertIn(b"MESSAGES 2", lines[0])

    def test_select_examine(self):
        m = self.client()
        m.append("INBOX", None, None, MSG)
        typ, data = m.select("INBOX")
        self.assertEqual(typ, "OK")
        for k in ("FLAGS", "PERMANENTFLAGS", "UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ",
                  "MAILBOXID", "READ-WRITE", "EXISTS"):
            self.assertIn(k, m.untagged_responses, k)
        m.unselect() if hasattr(m, "unselect") else m._simple_command("UNSELECT")
        typ, data = m.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK")
        self.assertIn("READ-ONLY", m.untagged_responses)
        self.assertEqual(m.store("1", "+FLAGS", r"\Seen")[0], "NO")
        self.assertEqual(m.select("NoSuch")[0], "NO")

    def test_store_expunge_copy_move(self):
        m = self.client()
        m.create("Src")
        for i in range(4):
            m.append("Src", None, None, MSG.replace(b"hello", b"m%d" % i))
        m.create("Dst")
        m.select("Src")
        typ, data = m.store("1:2", "+FLAGS", r"(\Flagged kw1)")
        self.assertEqual(typ, "OK")
        self.assertTrue(all(b"\\Flagged" in d and b"kw1" in d for d in data), data)
        typ, data = m.uid("STORE", "3", "+FLAGS.SILENT", r"(\Seen)")
        self.assertEqual(data, [None])
        typ, data = m.copy("1", "Dst")
        self.assertIn(b"COPYUID", data[0])
        typ, data = m.uid("MOVE", "2", "Dst")
        self.assertEqual(typ, "OK")
        self.assertIn("COPYUID", m.untagged_responses)
        self.assertEqual(m.untagged_responses.pop("EXPUNGE"), [b"2"])
        m.store("1", "+FLAGS", r"\Deleted")
        typ, data = m.expunge()
        self.assertEqual(data, [b"1"])
        # UID EXPUNGE removes only \Deleted messages of the set (RFC 4315).
        m.uid("STORE", "3:4", "+FLAGS", r"\Deleted")
        typ, data = m.uid("EXPUNGE", "4")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.status("Src", "(MESSAGES)")[1][0], b"Src (MESSAGES 1)")
        m.close()
        self.assertEqual(m.status("Src", "(MESSAGES)")[1][0], b"Src (MESSAGES 0)")
        self.assertEqual(m.status("Dst", "(MESSAGES)")[1][0], b"Dst (MESSAGES 2)")

    def test_condstore_qresync(self):
        r = self.raw()
        r.cmd(f"a LOGIN {ALICE} {PW}")
        r.cmd("b CREATE Q")
        for i in range(3):
            body = b"Subject: q%d\r\n\r\nx\r\n" % i
            r.send(b"c%d APPEND Q {%d+}\r\n" % (i, len(body)) + body + b"\r\n")
            r.until("c%d" % i)
        r.cmd("d ENABLE QRESYNC")
        lines, t = r.cmd("e SELECT Q (CONDSTORE)")
        hms = int(re.search(rb"HIGHESTMODSEQ (\d+)", b"".join(lines)).group(1))
        uidv = int(re.search(rb"UIDVALIDITY (\d+)", b"".join(lines)).group(1))
        lines, t = r.cmd(f"f STORE 1 (UNCHANGEDSINCE {hms}) +FLAGS (\\Seen)")
        self.assertTrue(any(b"MODSEQ" in x for x in lines), lines)
        lines, t = r.cmd("g STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Answered)")
        self.assertIn(b"[MODIFIED 1]", t)
        lines, t = r.cmd("h UID STORE 3 +FLAGS (\\Deleted)")
        self.assertIn(b"UID 3", lines[0])
        lines, t = r.cmd("i EXPUNGE")
        self.assertEqual(lines, [b"* VANISHED 3\r\n"])
        lines, t = r.cmd("j UNSELECT")
        lines, t = r.cmd(f"k SELECT Q (QRESYNC ({uidv} {hms}))")
        text = b"".join(lines)
        self.assertIn(b"* VANISHED (EARLIER) 3", text)
        self.assertRegex(text, rb"\* 1 FETCH \(UID 1 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)")
        lines, t = r.cmd("l SELECT Q")
        self.assertTrue(t.startswith(b"l OK"))
        self.assertIn(b"* OK [CLOSED]", b"".join(lines))

    def test_idle_self(self):
        m = self.client()
        m.select("INBOX")
        tag = m._new_tag().decode()
        m.send(f"{tag} IDLE\r\n".encode())
        self.assertTrue(m.readline().startswith(b"+ idling"))
        m.send(b"DONE\r\n")
        self.assertTrue(m.readline().startswith(tag.encode() + b" OK"))

    # ---- curl ----
    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_list_and_append(self):
        url = f"imap://127.0.0.1:{self.server.ports['imap']}/"
        user = ["-u", f"{ALICE}:{PW}"]
        p = subprocess.run(["curl", "-sS", "--max-time", "10"] + user + [url],
                           capture_output=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"INBOX", p.stdout)
        with tempfile.NamedTemporaryFile(suffix=".eml") as f:
            f.write(MSG.replace(b"hello", b"by curl"))
            f.flush()
            p = subprocess.run(["curl", "-sS", "--max-time", "10", "-T", f.name] + user +
                               [url + "CurlBox"], capture_output=True, timeout=20)
        self.assertNotEqual(p.returncode, 0)  # no such mailbox: TRYCREATE
        m = self.client()
        m.create("CurlBox")
        with tempfile.NamedTemporaryFile(suffix=".eml") as f:
            f.write(MSG.replace(b"hello", b"by curl"))
            f.flush()
            p = subprocess.run(["curl", "-sS", "--max-time", "10", "-T", f.name] + user +
                               [url + "CurlBox"], capture_output=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(m.status("CurlBox", "(MESSAGES)")[1][0], b"CurlBox (MESSAGES 1)")
        surl = f"imaps://127.0.0.1:{self.server.ports['imap_tls']}/"
        p = subprocess.run(["curl", "-sSk", "--max-time", "10"] + user + [surl],
                           capture_output=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"INBOX", p.stdout)
        p = subprocess.run(["curl", "-sS", "--ssl-reqd", "-k", "--max-time", "10"] + user +
                           [url], capture_output=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)

    # ---- negative ----
    def test_malformed_input(self):
        r = self.raw()
        r.cmd(f"a LOGIN {ALICE} {PW}")
        r.cmd("b SELECT INBOX")
        for bad in ("c STORE 1:x +FLAGS (\\Seen)", "d STORE 0 +FLAGS (\\Seen)",
                    "e COPY 99999 INBOX", "f STORE 1 +FLAGS (\\Seen", "g LIST \"\" (",
                    "h STATUS INBOX (MESSAGES", "i UID STORE 1,,2 FLAGS ()"):
            tag = bad.split()[0]
            _, t = r.cmd(bad)
            self.assertTrue(t.startswith(tag.encode() + b" BAD"), (bad, t))
        _, t = r.cmd("j STATUS INBOX " + "(" * 10000)
        self.assertTrue(t.startswith(b"j BAD"), t)
        r.send(b"k APPEND INBOX {2147483648}\r\n")
        t = r.line()
        self.assertTrue(t.startswith(b"k NO") or t.startswith(b"k BAD"), t)
        _, t = r.cmd("l NOOP")
        self.assertTrue(t.startswith(b"l OK"))
        r.send(b"m NOOP " + b"x" * (1 << 20) + b"\r\n")
        t = r.line()
        self.assertIn(b"BAD", t)
        _, t = r.cmd("n NOOP")
        self.assertTrue(t.startswith(b"n OK"), t)

    def test_other_accounts_mailboxes(self):
        a = self.client()
        a.create("AliceSecret")
        b = self.client(BOB, BOB_PW)
        typ, lst = b.list('""', "*")
        self.assertFalse(any(b"AliceSecret" in x for x in lst if x))
        for name in ("../alice/mail/.AliceSecret", "/AliceSecret", "../../" + ALICE):
            self.assertNotEqual(b.select(f'"{name}"')[0], "OK", name)
            self.assertNotEqual(b.status(f'"{name}"', "(MESSAGES)")[0], "OK", name)
        self.assertEqual(b.select("AliceSecret")[0], "NO")


if __name__ == "__main__":
    unittest.main()


class Autoconfig(ServerTest):
    """Thunderbird's autoconfig file names the listeners really configured."""

    SERVICES = ("imap", "pop3", "submission", "http")

    def fetch(self, target):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.server.ports["http"], timeout=10)
        c.request("GET", target)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, r.getheader("Content-Type"), body

    def test_autoconfig_xml(self):
        import xml.etree.ElementTree as ET
        p = self.server.ports
        for target in ("/.well-known/autoconfig/mail/config-v1.1.xml",
                       "/mail/config-v1.1.xml?emailaddress=alice%40example.org"):
            status, ctype, body = self.fetch(target)
            self.assertEqual(status, 200, body)
            self.assertIn("xml", ctype)
            root = ET.fromstring(body)
            prov = root.find("emailProvider")
            self.assertEqual(prov.findtext("domain"), DOMAIN)
            got = {(s.get("type"), int(s.findtext("port")), s.findtext("socketType"))
                   for s in prov.findall("incomingServer") + prov.findall("outgoingServer")}
            self.assertEqual(got, {("imap", p["imap_tls"], "SSL"), ("imap", p["imap"], "STARTTLS"),
                                   ("pop3", p["pop3_tls"], "SSL"), ("pop3", p["pop3"], "STARTTLS"),
                                   ("smtp", p["submission_tls"], "SSL"),
                                   ("smtp", p["submission"], "STARTTLS")})
            for s in prov.findall("incomingServer"):
                self.assertEqual(s.findtext("hostname"), "mail.example.org")
                self.assertEqual(s.findtext("username"), "%EMAILADDRESS%")
        status, _, _ = self.fetch("/mail/config-v1.1.xml?emailaddress=eve%40elsewhere.net")
        self.assertEqual(status, 404)
        status, _, _ = self.fetch("/mail/config-v1.1.xml?emailaddress=%3Cx%3E%40example.org")
        self.assertEqual(status, 200)  # the local part is never echoed
