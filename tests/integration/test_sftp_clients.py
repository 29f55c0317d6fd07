"""SFTP with real clients: OpenSSH sftp (batch files) and scp (SFTP mode)
both ways, password and key logins (ed25519 and RSA), a 100 MiB random
file both ways checked by SHA-256, curl (libssh2), lftp, rclone (copy, sync,
check), the host key fingerprints, `portico user key` and files crossing
between SFTP, HTTP and FTP."""

import ftplib
import hashlib
import http.client
import base64
import io
import os
import re
import subprocess
import tempfile

from sftp_common import PASSWORD, SSH_OPTS, USER, SftpServerTest


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class SftpClients(SftpServerTest):
    SERVICES = ("sftp", "http", "ftp")

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="portico-sftp-")
        self.addCleanup(self.tmp.cleanup)
        self.local = self.tmp.name

    def write_local(self, name, data):
        path = os.path.join(self.local, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_host_keys_printed_match_the_files(self):
        out = self.server.stdout()
        for kind, name in (("ed25519", "ssh_host_ed25519_key"), ("ecdsa", "ssh_host_ecdsa_key")):
            m = re.search(r"ssh host key " + kind + r"\s+(SHA256:\S+)", out)
            self.assertIsNotNone(m, out)
            pub = os.path.join(self.server.data_dir, "ssh", name + ".pub")
            fp = subprocess.run(["ssh-keygen", "-lf", pub], capture_output=True, text=True,
                                check=True).stdout.split()[1]
            self.assertEqual(fp, m.group(1))
            mode = os.stat(os.path.join(self.server.data_dir, "ssh", name)).st_mode & 0o777
            self.assertEqual(mode, 0o600)
        self.assertIn("sftp", out)

    def test_batch_put_get_ls_mkdir_rename_rm_chmod_df(self):
        src = self.write_local("a.txt", b"alpha\n" * 1000)
        back = os.path.join(self.local, "back.txt")
        p = self.sftp_batch([
            "mkdir docs", f"put {src} docs/a.txt", "ls -l docs", "chmod 600 docs/a.txt",
            "rename docs/a.txt docs/b.txt", f"get docs/b.txt {back}", "df", "rm docs/b.txt",
            "rmdir docs", "ls -la"])
        with open(back, "rb") as f:
            self.assertEqual(f.read(), b"alpha\n" * 1000)
        self.assertRegex(p.stdout, r"-rw-r--r--\s+1 alice\s+alice\s+6000 .* a.txt")
        self.assertRegex(p.stdout, r"Size\s+Used\s+Avail")
        self.assertFalse(os.path.exists(os.path.join(self.files_dir(), "docs")))

    def test_chmod_shows_on_disk(self):
        src = self.write_local("m.txt", b"x")
        self.sftp_batch([f"put {src} m.txt", "chmod 640 m.txt"])
        st = os.stat(os.path.join(self.files_dir(), "m.txt"))
        self.assertEqual(st.st_mode & 0o777, 0o640)

    def test_reget_and_reput_resume(self):
        data = os.urandom(300000)
        src = self.write_local("r.bin", data)
        with open(os.path.join(self.files_dir(), "r.bin"), "wb") as f:
            f.write(data[:100000])  # a half-finished upload
        part = self.write_local("r.part", data[:50000])  # a half-finished download
        self.sftp_batch([f"reput {src} r.bin", f"reget r.bin {part}"])
        with open(os.path.join(self.files_dir(), "r.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        with open(part, "rb") as f:
            self.assertEqual(f.read(), data)

    def test_password_login_with_askpass(self):
        cmd = ["sftp", "-P", str(self.port())] + SSH_OPTS + [
            "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1",
            f"{USER}@127.0.0.1"]
        self.write_local("pw.txt", b"by password")
        p = subprocess.run(cmd, input=f"put {self.local}/pw.txt pw.txt\nbye\n",
                           capture_output=True, text=True, timeout=60,
                           env=self.askpass_env(PASSWORD), start_new_session=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.files_dir(), "pw.txt"), "rb") as f:
            self.assertEqual(f.read(), b"by password")
        self.assertRegex(self.server.stderr(), r"auth login user=alice@example.org .*"
                         r"method=password result=ok")

    def test_rsa_key_login(self):
        p = self.sftp_batch(["pwd"], key=self.key_rsa)
        self.assertIn("Remote working directory: /", p.stdout)

    def test_scp_both_ways(self):
        data = os.urandom(200000)
        src = self.write_local("s.bin", data)
        base = ["scp", "-P", str(self.port())] + SSH_OPTS + ["-o", "BatchMode=yes", "-i",
                                                            self.key_ed]
        subprocess.run(base + [src, f"{USER}@127.0.0.1:s.bin"], check=True, timeout=60)
        with open(os.path.join(self.files_dir(), "s.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        back = os.path.join(self.local, "s.back")
        subprocess.run(base + [f"{USER}@127.0.0.1:s.bin", back], check=True, timeout=60)
        with open(back, "rb") as f:
            self.assertEqual(f.read(), data)

    def test_100mib_both_ways_sha256(self):
        src = os.path.join(self.local, "big.bin")
        with open(src, "wb") as f:
            for _ in range(100):
                f.write(os.urandom(1 << 20))
        back = os.path.join(self.local, "big.back")
        self.sftp_batch([f"put {src} big.bin", f"get big.bin {back}"], timeout=300)
        want = sha256_file(src)
        self.assertEqual(sha256_file(os.path.join(self.files_dir(), "big.bin")), want)
        self.assertEqual(sha256_file(back), want)
        os.unlink(os.path.join(self.files_dir(), "big.bin"))

    def test_curl_libssh2_get_and_upload(self):
        self.write_local("c.txt", b"curl upload\n")
        url = f"sftp://127.0.0.1:{self.port()}/"
        subprocess.run(["curl", "-sS", "-k", "--user", f"{USER}:{PASSWORD}", "-T",
                        os.path.join(self.local, "c.txt"), url + "c.txt"], check=True,
                       timeout=60)
        out = subprocess.run(["curl", "-sS", "-k", "--user", f"{USER}:{PASSWORD}",
                              url + "c.txt"], check=True, capture_output=True,
                             timeout=60).stdout
        self.assertEqual(out, b"curl upload\n")
        listing = subprocess.run(["curl", "-sS", "-k", "--user", f"{USER}:{PASSWORD}", url],
                                 check=True, capture_output=True, text=True,
                                 timeout=60).stdout
        self.assertIn("c.txt", listing)

    def test_lftp_mirror_both_ways(self):
        site = os.path.join(self.local, "site")
        os.makedirs(os.path.join(site, "sub"))
        for name, body in (("index.html", b"<h1>hi</h1>"), ("sub/x.css", b"p{}")):
            with open(os.path.join(site, name), "wb") as f:
                f.write(body)
        ssh = "ssh -a -x " + " ".join(SSH_OPTS) + f" -o BatchMode=yes -i {self.key_ed}"
        script = (f"set sftp:connect-program '{ssh}'; "
                  f"open -u {USER},unused sftp://127.0.0.1:{self.port()}; "
                  f"mirror -R {site} site; mirror site {self.local}/copy; bye")
        p = subprocess.run(["lftp", "-c", script], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(self.files_dir(), "site", "sub", "x.css"), "rb") as f:
            self.assertEqual(f.read(), b"p{}")
        with open(os.path.join(self.local, "copy", "index.html"), "rb") as f:
            self.assertEqual(f.read(), b"<h1>hi</h1>")

    def rclone(self, *args):
        conf = os.path.join(self.local, "rclone.conf")
        with open(conf, "w") as f:
            f.write(f"[p]\ntype = sftp\nhost = 127.0.0.1\nport = {self.port()}\n"
                    f"user = {USER}\nkey_file = {self.key_ed}\n"
                    "known_hosts_file =\nshell_type = none\nmd5sum_command = none\n"
                    "sha1sum_command = none\n")
        env = dict(os.environ, RCLONE_CONFIG=conf)
        return subprocess.run(["rclone", "--low-level-retries", "1", "--retries", "1",
                               *args], capture_output=True, text=True, timeout=180, env=env)

    def test_rclone_copy_sync_check(self):
        src = os.path.join(self.local, "tree")
        os.makedirs(os.path.join(src, "a", "b"))
        for i in range(20):
            with open(os.path.join(src, "a" if i % 2 else "a/b", f"f{i}"), "wb") as f:
                f.write(os.urandom(1000 + i))
        p = self.rclone("copy", src, "p:rc")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.rclone("check", src, "p:rc")
        self.assertEqual(p.returncode, 0, p.stderr)
        os.unlink(os.path.join(src, "a", "f1"))
        with open(os.path.join(src, "a", "new"), "wb") as f:
            f.write(b"new")
        p = self.rclone("sync", src, "p:rc")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.files_dir(), "rc", "a", "f1")))
        p = self.rclone("check", src, "p:rc")
        self.assertEqual(p.returncode, 0, p.stderr)
        # check notices a difference (it is not a test that always passes)
        with open(os.path.join(self.files_dir(), "rc", "a", "new"), "wb") as f:
            f.write(b"changed")
        p = self.rclone("check", src, "p:rc")
        self.assertNotEqual(p.returncode, 0)

    def http_get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.server.ports["http"], timeout=30)
        auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        c.request("GET", path, headers={"Authorization": "Basic " + auth})
        r = c.getresponse()
        return r.status, r.read()

    def test_sftp_upload_fetched_by_http_and_ftp(self):
        data = os.urandom(70000)
        src = self.write_local("x.bin", data)
        self.sftp_batch(["mkdir cross", f"put {src} cross/x.bin"])
        status, body = self.http_get("/files/cross/x.bin")
        self.assertEqual((status, body), (200, data))
        f = ftplib.FTP()
        f.connect("127.0.0.1", self.server.ports["ftp"], timeout=30)
        f.login(USER, PASSWORD)
        buf = io.BytesIO()
        f.retrbinary("RETR cross/x.bin", buf.write)
        f.quit()
        self.assertEqual(buf.getvalue(), data)

    def test_ftp_upload_fetched_by_sftp(self):
        data = os.urandom(50000)
        f = ftplib.FTP()
        f.connect("127.0.0.1", self.server.ports["ftp"], timeout=30)
        f.login(USER, PASSWORD)
        f.storbinary("STOR fromftp.bin", io.BytesIO(data))
        f.quit()
        back = os.path.join(self.local, "fromftp.bin")
        self.sftp_batch([f"get fromftp.bin {back}"])
        with open(back, "rb") as fh:
            self.assertEqual(fh.read(), data)

    def test_user_key_list_and_del(self):
        fp = subprocess.run(["ssh-keygen", "-lf", self.key_rsa + ".pub"], capture_output=True,
                            text=True, check=True).stdout.split()[1]
        listed = self.server.cli("user", "key", "list", USER).stdout
        self.assertIn(fp, listed)
        self.assertIn("test-rsa", listed)
        self.server.cli("user", "key", "del", USER, fp)
        self.assertNotIn(fp, self.server.cli("user", "key", "list", USER).stdout)
        p = self.sftp_batch(["pwd"], key=self.key_rsa, check=False)
        self.assertNotEqual(p.returncode, 0)
        with open(self.key_rsa + ".pub") as f:  # and back, from stdin
            self.server.cli("user", "key", "add", USER, "-", input=f.read())
        self.sftp_batch(["pwd"], key=self.key_rsa)
        bad = self.server.cli("user", "key", "add", USER, "-", input="ssh-dss AAAA\n",
                              check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("unsupported key type", bad.stderr)
