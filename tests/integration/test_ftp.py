"""FTP (issue 5) with Python's ftplib: every RFC 959 command and the
extensions, plain and TLS, passive and active, and the negative cases
(traversal, bounce, commands before login, long lines, data connection
stealing, ABOR), each followed by a check that the server still serves."""

import ftplib
import hashlib
import io
import os
import socket
import unittest

from ftp_common import PASSWORD, UPLOAD_PREFIX, USER, FtpServerTest


class FtpCommands(FtpServerTest):
    def test_session_commands(self):
        f = self.ftp(login=False)
        self.assertTrue(f.getwelcome().startswith("220"))
        self.assertIn("AUTH TLS", f.sendcmd("FEAT"))
        self.assertTrue(f.sendcmd("HOST mail.example.org").startswith("220"))
        self.assertTrue(f.sendcmd("CLNT pytest").startswith("200"))
        self.assertTrue(f.sendcmd("OPTS UTF8 ON").startswith("200"))
        self.assertTrue(f.sendcmd("USER " + USER).startswith("331"))
        self.assertTrue(f.sendcmd("PASS " + PASSWORD).startswith("230"))
        self.assertEqual(f.sendcmd("SYST"), "215 UNIX Type: L8")
        self.assertTrue(f.sendcmd("HELP").startswith("214"))
        self.assertTrue(f.sendcmd("HELP RETR").startswith("214"))
        self.assertTrue(f.sendcmd("STAT").startswith("211"))
        self.assertTrue(f.sendcmd("NOOP").startswith("200"))
        self.assertTrue(f.sendcmd("ACCT x").startswith("202"))
        self.assertTrue(f.sendcmd("ALLO 100").startswith("202"))
        self.assert_code(502, f.sendcmd, "SMNT /x")
        for ok in ("TYPE A", "TYPE A N", "TYPE A T", "TYPE I", "TYPE L 8", "STRU F", "MODE S"):
            self.assertTrue(f.sendcmd(ok).startswith("200"), ok)
        for bad in ("TYPE E", "TYPE A C", "STRU R", "STRU P", "MODE B", "MODE C"):
            self.assert_code(504, f.sendcmd, bad)
        self.assert_code(501, f.sendcmd, "TYPE X")
        self.assertTrue(f.sendcmd("SITE HELP").startswith("214"))
        self.assert_code(503, f.sendcmd, "RNTO x")
        self.assert_code(500, f.sendcmd, "BOGUS")
        self.assertTrue(f.sendcmd("REIN").startswith("220"))
        self.assert_code(530, f.sendcmd, "PWD")
        f.login(USER, PASSWORD)
        self.assertTrue(f.quit().startswith("221"))

    def test_files_and_directories(self):
        f = self.ftp()
        self.assertEqual(f.pwd(), "/")
        self.assertEqual(f.mkd("docs"), "/docs")
        f.cwd("docs")
        self.assertEqual(f.pwd(), "/docs")
        data = os.urandom(200000)
        self.assertTrue(self.put(f, "a.bin", data).startswith("226"))
        self.assertEqual(self.get(f, "a.bin"), data)
        self.assertEqual(f.size("a.bin"), len(data))
        self.assertEqual(self.get(f, "a.bin", rest=1000), data[1000:])
        self.assertRegex(f.sendcmd("MDTM a.bin"), r"^213 \d{14}$")
        self.assertTrue(f.sendcmd("MFMT 20200102030405 a.bin").startswith("213"))
        self.assertEqual(f.sendcmd("MDTM a.bin"), "213 20200102030405")
        self.assertEqual(f.nlst(), ["a.bin"])
        lines = []
        f.dir(lines.append)
        self.assertRegex(lines[0], r"^-rw-r--r-- +1 ftp +ftp +200000 Jan +2 +2020 a\.bin$")
        facts = dict(f.mlsd())
        self.assertEqual(facts["a.bin"]["type"], "file")
        self.assertEqual(facts["a.bin"]["size"], "200000")
        self.assertEqual(facts["a.bin"]["modify"], "20200102030405")
        self.assertIn("perm", facts["a.bin"])
        self.assertIn("unique", facts["a.bin"])
        self.assertIn("type=file;size=200000;", f.sendcmd("MLST a.bin"))
        self.assertIn("a.bin", f.sendcmd("STAT a.bin"))
        self.assertIn("a.bin", f.sendcmd("STAT ."))
        self.assertTrue(f.sendcmd("SITE CHMOD 600 a.bin").startswith("200"))
        self.assertEqual(os.stat(os.path.join(self.files_dir(), "docs", "a.bin")).st_mode & 0o777,
                         0o600)
        f.storbinary("APPE a.bin", io.BytesIO(b"tail"))
        self.assertEqual(self.get(f, "a.bin"), data + b"tail")
        f.rename("a.bin", "b.bin")
        self.assertEqual(f.nlst(), ["b.bin"])
        resp = f.storbinary("STOU b.bin", io.BytesIO(b"unique"))
        self.assertRegex(resp, r"^226 .*unique file name:b\.bin\.1")
        self.assertEqual(sorted(f.nlst()), ["b.bin", "b.bin.1"])
        f.delete("b.bin")
        f.delete("b.bin.1")
        self.assert_code(550, f.delete, "b.bin")
        self.assertTrue(f.sendcmd("CDUP").startswith("200"))
        f.rmd("docs")
        self.assert_code(550, f.cwd, "docs")
        f.quit()

    def test_rest_resumes_stor(self):
        f = self.ftp()
        data = os.urandom(300000)
        self.put(f, "resume.bin", data[:100000])
        f.storbinary("STOR resume.bin", io.BytesIO(data[100000:]), rest=100000)
        self.assertEqual(self.get(f, "resume.bin"), data)
        self.assert_code(554, self.get, f, "resume.bin", len(data) + 1)
        f.quit()

    def test_active_mode_port(self):
        f = self.ftp()
        f.set_pasv(False)
        data = os.urandom(100000)
        self.put(f, "active.bin", data)
        self.assertEqual(self.get(f, "active.bin"), data)
        self.assertIn("active.bin", f.nlst())
        f.quit()

    def test_epsv_and_eprt(self):
        f = self.ftp()
        self.put(f, "e.txt", b"extended\n")
        conn, resp = self.raw_transfer(f, "RETR e.txt", passive="EPSV")
        self.assertRegex(resp, r"^1(25|50) ")
        self.assertEqual(conn.makefile("rb").read(), b"extended\n")
        conn.close()
        self.assertTrue(f.voidresp().startswith("226"))
        lsock = socket.create_server(("127.0.0.1", 0))
        port = lsock.getsockname()[1]
        self.assertTrue(f.sendcmd(f"EPRT |1|127.0.0.1|{port}|").startswith("200"))
        f.sendcmd("RETR e.txt")
        conn, _ = lsock.accept()
        self.assertEqual(conn.makefile("rb").read(), b"extended\n")
        conn.close()
        lsock.close()
        self.assertTrue(f.voidresp().startswith("226"))
        self.assert_code(522, f.sendcmd, "EPRT |3|x|1|")
        self.assert_code(522, f.sendcmd, "EPSV 2")
        self.assertTrue(f.sendcmd("EPSV ALL").startswith("200"))
        self.assert_code(503, f.sendcmd, "PASV")
        f.quit()

    def test_type_a_converts_both_ways(self):
        f = self.ftp()
        unix = b"one\ntwo\r\nthree\n\nlast"
        self.put(f, "text.txt", unix)
        f.sendcmd("TYPE A")
        conn, _ = self.raw_transfer(f, "RETR text.txt")
        wire = conn.makefile("rb").read()
        conn.close()
        f.voidresp()
        self.assertEqual(wire, b"one\r\ntwo\r\r\nthree\r\n\r\nlast")
        conn, _ = self.raw_transfer(f, "STOR back.txt")
        conn.sendall(wire)
        conn.close()
        self.assertTrue(f.voidresp().startswith("226"))
        with open(os.path.join(self.files_dir(), "back.txt"), "rb") as fh:
            self.assertEqual(fh.read(), unix)
        f.storlines("STOR lines.txt", io.BytesIO(b"a\r\nb\r\n"))
        lines = []
        f.retrlines("RETR lines.txt", lines.append)
        self.assertEqual(lines, ["a", "b"])
        with open(os.path.join(self.files_dir(), "lines.txt"), "rb") as fh:
            self.assertEqual(fh.read(), b"a\nb\n")
        f.quit()


class FtpTls(FtpServerTest):
    def test_prot_p_passive_and_active(self):
        for passive in (True, False):
            f = self.ftps()
            f.set_pasv(passive)
            data = os.urandom(500000)
            name = f"tls-{passive}.bin"
            self.assertTrue(self.put(f, name, data).startswith("226"))
            self.assertEqual(self.get(f, name), data)
            self.assertIn(name, f.nlst())
            f.quit()

    def test_prot_needs_pbsz_and_tls(self):
        f = self.ftp(login=False)
        self.assert_code(503, f.sendcmd, "PBSZ 0")
        f.quit()
        f = ftplib.FTP_TLS()
        f.connect("127.0.0.1", self.port(), timeout=30)
        from ftp_common import tls_context
        f.context = tls_context()
        f.auth()
        self.assert_code(503, f.sendcmd, "PROT P")
        self.assertTrue(f.prot_c().startswith("200"))  # PROT C needs no PBSZ
        f.sendcmd("PBSZ 0")
        self.assert_code(536, f.sendcmd, "PROT S")
        self.assert_code(503, f.sendcmd, "AUTH TLS")
        f.login(USER, PASSWORD)
        f.quit()


class FtpNegative(FtpServerTest):
    def test_traversal_stays_inside(self):
        f = self.ftp()
        f.cwd("../../..")
        self.assertEqual(f.pwd(), "/")
        for path in ("../../etc/passwd", "/etc/passwd", "%2e%2e/%2e%2e/etc/passwd",
                     "..%2f..%2fetc%2fpasswd"):
            self.assert_code(550, self.get, f, path)
        self.assert_code(550, f.cwd, "/../../../etc")
        self.assert_serves()

    def test_symlink_out_of_root(self):
        root = self.files_dir()
        os.symlink("/etc", os.path.join(root, "evil"))
        os.symlink("/etc/passwd", os.path.join(root, "pw"))
        f = self.ftp()
        self.assert_code(550, f.cwd, "evil")
        self.assert_code(550, self.get, f, "pw")
        self.assert_code(550, self.get, f, "evil/passwd")
        self.assert_code(550, f.mkd, "evil/x")
        self.assert_code(550, self.put, f, "evil/x", b"x")
        self.assert_code(550, f.sendcmd, "SIZE pw")
        self.assertFalse(os.path.exists("/etc/x"))
        self.assert_serves()

    def test_port_to_other_address_refused(self):
        f = self.ftp()
        self.assert_code(504, f.sendcmd, "PORT 127,0,0,2,100,100")
        self.assert_code(504, f.sendcmd, "PORT 10,0,0,1,100,100")
        self.assert_code(504, f.sendcmd, "PORT 127,0,0,1,0,25")
        self.assert_code(504, f.sendcmd, "EPRT |1|192.0.2.1|2121|")
        self.assert_code(504, f.sendcmd, "EPRT |2|::1|2121|")
        self.assert_code(501, f.sendcmd, "PORT 1,2,3")
        self.assert_code(501, f.sendcmd, "PORT 256,0,0,1,1,1")
        self.put(f, "x", b"x")
        self.assert_code(425, f.sendcmd, "RETR x")  # no PORT/PASV took effect
        self.assert_serves()

    def test_commands_before_login(self):
        f = self.ftp(login=False)
        for cmd in ("PWD", "CWD /", "LIST", "RETR x", "STOR x", "PASV", "PORT 127,0,0,1,4,4",
                    "DELE x", "MKD x", "SIZE x", "SITE CHMOD 777 x", "REST 0"):
            self.assert_code(530, f.sendcmd, cmd)
        self.assert_code(503, f.sendcmd, "PASS x")
        self.assertTrue(f.sendcmd("USER " + USER).startswith("331"))
        self.assert_code(530, f.sendcmd, "PASS wrong")
        self.assert_serves()

    def test_long_line(self):
        s = socket.create_connection(("127.0.0.1", self.port()), timeout=10)
        r = s.makefile("rb")
        self.assertTrue(r.readline().startswith(b"220"))
        s.sendall(b"NOOP " + b"A" * 10240 + b"\r\nNOOP\r\n")
        self.assertTrue(r.readline().startswith(b"500"))
        self.assertTrue(r.readline().startswith(b"200"))
        s.sendall(b"\xff\xf4\xff\xf2NOOP\r\n")  # Telnet IP + DM, as lftp sends
        self.assertTrue(r.readline().startswith(b"200"))
        s.close()
        self.assert_serves()

    def test_data_connection_from_other_address_refused(self):
        f = self.ftp()
        self.put(f, "steal.txt", b"secret data")
        port = ftplib.parse227(f.sendcmd("PASV"))[1]
        thief = socket.socket()
        thief.bind(("127.0.0.2", 0))
        thief.settimeout(10)
        thief.connect(("127.0.0.1", port))
        try:
            self.assertEqual(thief.recv(100), b"")  # closed at once
        except ConnectionResetError:
            pass
        thief.close()
        conn = socket.create_connection(("127.0.0.1", port), timeout=10)
        f.sendcmd("RETR steal.txt")
        self.assertEqual(conn.makefile("rb").read(), b"secret data")
        conn.close()
        self.assertTrue(f.voidresp().startswith("226"))
        f.quit()
        self.assert_serves()

    def test_abort_mid_transfer(self):
        big = os.path.join(self.files_dir(), "big.bin")
        with open(big, "wb") as fh:
            fh.write(os.urandom(1 << 20) * 40)
        for tls in (False, True):
            f = self.ftps() if tls else self.ftp()
            conn = f.transfercmd("RETR big.bin")
            self.assertEqual(len(conn.recv(65536)) > 0, True)
            resp = f.abort()
            self.assertTrue(resp.startswith("426"), resp)
            self.assertTrue(f.getresp().startswith("226"))
            conn.close()
            self.assertTrue(f.voidcmd("NOOP").startswith("200"))
            f.quit()
        self.assert_serves()

    def test_broken_upload_leaves_no_file(self):
        f = self.ftp()
        conn = f.transfercmd("STOR half.bin")
        conn.sendall(b"x" * 100000)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()  # RST: a broken upload
        try:
            resp = f.getresp()
        except ftplib.error_temp as e:
            resp = str(e)
        self.assertTrue(resp.startswith("426") or resp.startswith("226"), resp)
        if resp.startswith("426"):
            self.assertNotIn("half.bin", f.nlst())
        # The temporary file is removed before the reply is sent.
        self.assertEqual([n for n in os.listdir(self.files_dir()) if n.startswith(UPLOAD_PREFIX)],
                         [])
        f.quit()


if __name__ == "__main__":
    unittest.main()
