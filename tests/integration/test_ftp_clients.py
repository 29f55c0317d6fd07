"""FTP (issue 5) with real command-line clients: curl (ftp://, ftps://,
explicit TLS, passive, active, resume, quote commands, upload, list) and
lftp (mirror of 500 files up and back, --continue, mv/rm/mkdir/rmdir), and
a 100 MiB binary file up and down with matching SHA-256."""

import filecmp
import hashlib
import io
import os
import random
import subprocess
import tempfile
import unittest

from ftp_common import PASSWORD, USER, FtpServerTest


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class FtpCurl(FtpServerTest):
    def curl(self, *args, url="", tls=False, check=True):
        scheme = "ftps" if tls else "ftp"
        port = self.port(tls)
        cmd = ["curl", "-sS", "--max-time", "60", "-k", "--user", f"{USER}:{PASSWORD}"]
        cmd += list(args) + [f"{scheme}://127.0.0.1:{port}/{url}"]
        p = subprocess.run(cmd, capture_output=True, timeout=90)
        if check and p.returncode != 0:
            raise AssertionError(f"{cmd} exited {p.returncode}: {p.stderr.decode()}")
        return p

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def local(self, name, data=None):
        path = os.path.join(self.tmp.name, name)
        if data is not None:
            with open(path, "wb") as fh:
                fh.write(data)
        return path

    def test_upload_list_download_passive_and_active(self):
        data = os.urandom(300000)
        src = self.local("c.bin", data)
        self.curl("--ftp-create-dirs", "-T", src, url="curl/c.bin")
        listing = self.curl(url="curl/").stdout.decode()
        self.assertRegex(listing, r"-rw-r--r-- +1 ftp +ftp +300000 .* c\.bin\r?\n")
        self.assertEqual(self.curl("--list-only", url="curl/").stdout.split(), [b"c.bin"])
        self.assertEqual(self.curl("--ftp-pasv", url="curl/c.bin").stdout, data)
        self.assertEqual(self.curl("--ftp-port", "127.0.0.1", url="curl/c.bin").stdout, data)
        self.assertEqual(self.curl("--ftp-port", "-", "--disable-eprt", url="curl/c.bin").stdout,
                         data)

    def test_tls_implicit_and_explicit(self):
        data = os.urandom(200000)
        src = self.local("t.bin", data)
        self.curl("-T", src, url="t.bin", tls=True)
        self.assertEqual(self.curl(url="t.bin", tls=True).stdout, data)
        self.assertEqual(self.curl("--ssl-reqd", url="t.bin").stdout, data)
        # Active mode over TLS is covered with ftplib (test_ftp.FtpTls): curl
        # 7.88 fails it on its own side ("sa_addr inet_ntop() failed").
        self.assertIn(b"t.bin", self.curl("--ssl-reqd", url="").stdout)

    def test_resume_download_and_upload(self):
        data = os.urandom(400000)
        with open(os.path.join(self.files_dir(), "r.bin"), "wb") as fh:
            fh.write(data)
        part = self.local("r.bin", data[:150000])
        self.curl("-C", "-", "-o", part, url="r.bin")
        with open(part, "rb") as fh:
            self.assertEqual(fh.read(), data)
        with open(os.path.join(self.files_dir(), "u.bin"), "wb") as fh:
            fh.write(data[:100000])
        self.curl("-C", "-", "-T", part, url="u.bin")
        with open(os.path.join(self.files_dir(), "u.bin"), "rb") as fh:
            self.assertEqual(fh.read(), data)

    def test_quote_commands(self):
        src = self.local("q.txt", b"quoted\n")
        self.curl("-Q", "MKD qdir", "-Q", "-SITE CHMOD 600 /qdir/q.txt", "-T", src,
                  url="qdir/q.txt")
        st = os.stat(os.path.join(self.files_dir(), "qdir", "q.txt"))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        self.curl("-Q", "DELE /qdir/q.txt", "-Q", "RMD /qdir", "--list-only", url="")
        self.assertFalse(os.path.exists(os.path.join(self.files_dir(), "qdir")))

    def test_dot_dot_urls_stay_inside(self):
        for url in ("%2e%2e/%2e%2e/etc/passwd", "../../etc/passwd"):
            for extra in ([], ["--path-as-is"]):
                p = self.curl(*extra, url=url, check=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertNotIn(b"root:", p.stdout)
        self.assert_serves()


def lftp(port, script, tls=False):
    setup = ("set net:max-retries 1; set net:timeout 30; set cmd:fail-exit yes; "
             "set ssl:verify-certificate no; ")
    setup += ("set ftp:ssl-force yes; set ftp:ssl-protect-data yes; " if tls
              else "set ftp:ssl-allow no; ")
    cmd = ["lftp", "-c", setup + f'open -u "{USER},{PASSWORD}" -p {port} 127.0.0.1; ' + script]
    p = subprocess.run(cmd, capture_output=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError(f"lftp {script!r} exited {p.returncode}: {p.stderr.decode()}")
    return p.stdout.decode()


def same_tree(a, b):
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    if mismatch or errors:
        return False
    return all(same_tree(os.path.join(a, d), os.path.join(b, d)) for d in cmp.common_dirs)


class FtpLftp(FtpServerTest):
    def test_mirror_500_files_up_and_back(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "src")
            rng = random.Random(5)
            for i in range(500):
                d = os.path.join(src, f"d{i % 10}")
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, f"f{i}.dat"), "wb") as fh:
                    fh.write(rng.randbytes(rng.randrange(0, 8192)))
            lftp(self.port(), f"mirror -R {src} tree")
            self.assertTrue(same_tree(src, os.path.join(self.files_dir(), "tree")))
            back = os.path.join(tmp, "back")
            lftp(self.port(), f"mirror tree {back}")
            self.assertTrue(same_tree(src, back))
            # --continue: a cut-short local copy is completed with REST.
            victim = os.path.join(back, "d3", "f3.dat")
            size = os.path.getsize(victim)
            with open(os.path.join(src, "d3", "f3.dat"), "rb") as fh:
                whole = fh.read()
            big = whole + os.urandom(300000)
            with open(os.path.join(self.files_dir(), "tree", "d3", "f3.dat"), "wb") as fh:
                fh.write(big)
            lftp(self.port(), f"mirror --continue tree {back}")
            with open(victim, "rb") as fh:
                self.assertEqual(fh.read(), big)
            self.assertGreater(len(big), size)

    def test_rename_rm_mkdir_rmdir(self):
        with open(os.path.join(self.files_dir(), "old.txt"), "wb") as fh:
            fh.write(b"x")
        lftp(self.port(), "mv old.txt new.txt; mkdir made; mkdir made/sub; rmdir made/sub")
        names = os.listdir(self.files_dir())
        self.assertIn("new.txt", names)
        self.assertNotIn("old.txt", names)
        self.assertTrue(os.path.isdir(os.path.join(self.files_dir(), "made")))
        self.assertFalse(os.path.exists(os.path.join(self.files_dir(), "made", "sub")))
        out = lftp(self.port(), "rm new.txt; rmdir made; cls -1")
        self.assertNotIn("new.txt", out)
        self.assertFalse(os.path.exists(os.path.join(self.files_dir(), "made")))

    def test_mirror_over_tls(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "s")
            os.makedirs(src)
            for i in range(20):
                with open(os.path.join(src, f"t{i}"), "wb") as fh:
                    fh.write(os.urandom(5000 * i))
            lftp(self.port(), f"mirror -R {src} tls-tree", tls=True)
            lftp(self.port(), f"mirror tls-tree {tmp}/back", tls=True)
            self.assertTrue(same_tree(src, os.path.join(tmp, "back")))


class FtpBigFile(FtpServerTest):
    def test_100_mib_up_and_down(self):
        data = os.urandom(100 << 20)
        want = sha256(data)
        f = self.ftp()
        self.assertTrue(f.storbinary("STOR big.bin", io.BytesIO(data), 1 << 20).startswith("226"))
        del data
        with open(os.path.join(self.files_dir(), "big.bin"), "rb") as fh:
            self.assertEqual(hashlib.sha256(fh.read()).hexdigest(), want)
        h = hashlib.sha256()
        f.retrbinary("RETR big.bin", h.update, 1 << 20)
        self.assertEqual(h.hexdigest(), want)
        f.quit()


if __name__ == "__main__":
    unittest.main()
