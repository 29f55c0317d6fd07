"""SFTP requests one by one with paramiko: every OPEN pflags combination on
a missing and an existing file, READ/WRITE out of order, STAT/LSTAT/
FSTAT, SETSTAT/FSETSTAT, directories, RENAME vs posix-rename, links, the
OpenSSH extensions, the quota, and every traversal form (.., absolute
paths, planted symlinks, SYMLINK to /etc, reserved upload names)."""

import errno
import itertools
import os
import stat

from sftp_common import UPLOAD_PREFIX, USER, RawSftp, SftpServerTest, paramiko

from paramiko.py3compat import long as int64  # paramiko sends a plain int as uint32

# draft-02 6.3
READ, WRITE, APPEND, CREAT, TRUNC, EXCL = 1, 2, 4, 8, 0x10, 0x20
OLD = b"hello world"
CMD_OPEN, CMD_CLOSE, CMD_READ, CMD_WRITE = 3, 4, 5, 6
CMD_EXTENDED = 200


def expected(pf, exists):
    """What OPEN then WRITE "XY" at offset 0 then CLOSE must leave
    (docs/SFTP.md, "OPEN"): (error kind or None, content after)."""
    if not pf & (READ | WRITE):
        return "bad", None
    if not pf & WRITE and pf & (APPEND | CREAT | TRUNC | EXCL):
        return "bad", None
    if not pf & WRITE:
        return (None, OLD) if exists else ("enoent", None)
    if not exists and not pf & CREAT:
        return "enoent", None
    if exists and pf & CREAT and pf & EXCL:
        return "exists", None
    if not exists or pf & TRUNC:
        return None, b"XY"
    if pf & APPEND:
        return None, OLD + b"XY"
    return None, b"XY" + OLD[2:]


class SftpRequests(SftpServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = None

    def setUp(self):
        self.c = self.paramiko_client()
        self.root = self.files_dir()

    def path(self, *p):
        return os.path.join(self.root, *p)

    def put(self, name, data):
        with open(self.path(name), "wb") as f:
            f.write(data)

    def get(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()

    def raw_open(self, name, pf):
        attrs = paramiko.SFTPAttributes()
        t, msg = self.c._request(CMD_OPEN, name, pf, attrs)
        return msg.get_binary()

    def test_every_pflags_combination(self):
        os.makedirs(self.path("pf"), exist_ok=True)
        for pf, exists in itertools.product(range(64), (False, True)):
            name = f"pf/f{pf}-{int(exists)}"
            if exists:
                self.put(name, OLD)
            err, content = expected(pf, exists)
            with self.subTest(pflags=hex(pf), exists=exists):
                try:
                    h = self.raw_open(name, pf)
                except IOError as e:
                    got = "enoent" if e.errno == errno.ENOENT else str(e)
                    if err == "bad":
                        self.assertIn("need", got)
                    elif err == "exists":
                        self.assertIn("File exists", got)
                    else:
                        self.assertEqual(got, err)
                    self.assertEqual(os.path.exists(self.path(name)), exists)
                    continue
                self.assertIsNone(err)
                if pf & WRITE:
                    self.c._request(CMD_WRITE, h, int64(0), b"XY")
                if pf & READ:
                    t, msg = self.c._request(CMD_READ, h, int64(0), 100)
                    self.assertEqual(msg.get_string(), content)
                self.c._request(CMD_CLOSE, h)
                self.assertEqual(self.get(name), content)
        self.assertEqual([n for n in os.listdir(self.path("pf")) if n.startswith(UPLOAD_PREFIX)],
                         [])

    def test_truncating_open_keeps_old_file_until_close(self):
        self.put("keep.txt", OLD)
        h = self.raw_open("keep.txt", WRITE | CREAT | TRUNC)
        self.c._request(CMD_WRITE, h, int64(0), b"new")
        self.assertEqual(self.get("keep.txt"), OLD)  # readers see the old file
        self.assertEqual(self.c.listdir("/").count("keep.txt"), 1)  # no temp listed
        self.c._request(CMD_CLOSE, h)
        self.assertEqual(self.get("keep.txt"), b"new")

    def test_out_of_order_and_pipelined_writes(self):
        chunks = [os.urandom(32768) for _ in range(40)]
        with self.c.open("ooo.bin", "wb") as f:
            f.set_pipelined(True)
            for i in reversed(range(40)):
                f.seek(i * 32768)
                f.write(chunks[i])
        self.assertEqual(self.get("ooo.bin"), b"".join(chunks))
        with self.c.open("ooo.bin", "rb") as f:
            f.prefetch()
            self.assertEqual(f.read(), b"".join(chunks))

    def test_read_past_end_is_eof_and_reads_are_capped(self):
        self.put("small.bin", b"abc")
        h = self.raw_open("small.bin", READ)
        with self.assertRaises(EOFError):
            self.c._request(CMD_READ, h, int64(3), 10)
        self.put("large.bin", os.urandom(100000))
        h2 = self.raw_open("large.bin", READ)
        t, msg = self.c._request(CMD_READ, h2, int64(0), 1 << 20)
        self.assertEqual(len(msg.get_string()), 32768)  # SFTP_MAX_DATA
        with self.assertRaises(IOError):  # not open for writing
            self.c._request(CMD_WRITE, h, int64(0), b"x")
        self.c._request(CMD_CLOSE, h)
        with self.assertRaises(IOError):  # a closed handle is gone
            self.c._request(CMD_READ, h, int64(0), 1)

    def test_stat_lstat_fstat_setstat(self):
        self.put("st.txt", b"12345")
        a = self.c.stat("st.txt")
        self.assertEqual(a.st_size, 5)
        self.assertTrue(stat.S_ISREG(a.st_mode))
        self.c.chmod("st.txt", 0o604)
        self.assertEqual(os.stat(self.path("st.txt")).st_mode & 0o777, 0o604)
        self.c.chmod("st.txt", 0o4777)  # setuid is not given inside an area
        self.assertEqual(os.stat(self.path("st.txt")).st_mode & 0o7777, 0o777)
        self.c.utime("st.txt", (1000000000, 1200000000))
        self.assertEqual(int(os.stat(self.path("st.txt")).st_mtime), 1200000000)
        self.c.truncate("st.txt", 2)
        self.assertEqual(self.get("st.txt"), b"12")
        with self.c.open("st.txt", "r+") as f:
            self.assertEqual(f.stat().st_size, 2)
            f.truncate(1)
            f.chmod(0o600)
        self.assertEqual(self.get("st.txt"), b"1")
        with self.assertRaises(IOError):
            self.c.chown("st.txt", 12345, 12345)
        os.symlink("st.txt", self.path("st.lnk"))
        self.assertTrue(stat.S_ISLNK(self.c.lstat("st.lnk").st_mode))
        self.assertTrue(stat.S_ISREG(self.c.stat("st.lnk").st_mode))
        self.assertEqual(self.c.readlink("st.lnk"), "st.txt")

    def test_directories(self):
        self.c.mkdir("dd", 0o750)
        self.assertEqual(os.stat(self.path("dd")).st_mode & 0o777, 0o750)
        names = {f"n{i:03}" for i in range(300)}  # more than one READDIR batch
        for n in names:
            open(self.path("dd", n), "w").close()
        open(self.path("dd", UPLOAD_PREFIX + "123-x"), "w").close()
        listed = self.c.listdir_attr("dd")
        self.assertEqual({a.filename for a in listed}, names)
        self.assertTrue(all(a.longname.startswith("-rw") for a in listed))
        with self.assertRaises(IOError):
            self.c.rmdir("dd")  # not empty
        for n in names:
            self.c.remove("dd/" + n)
        os.unlink(self.path("dd", UPLOAD_PREFIX + "123-x"))
        self.c.rmdir("dd")
        self.assertFalse(os.path.exists(self.path("dd")))
        with self.assertRaises(IOError):
            self.c.remove("nothing-here")

    def test_rename_and_posix_rename(self):
        self.put("r1", b"one")
        self.put("r2", b"two")
        with self.assertRaises(IOError):  # draft-02 6.5: never replaces
            self.c.rename("r1", "r2")
        self.c.posix_rename("r1", "r2")
        self.assertEqual(self.get("r2"), b"one")
        self.assertFalse(os.path.exists(self.path("r1")))
        self.c.rename("r2", "r3")
        self.assertEqual(self.get("r3"), b"one")

    def ext(self, name, *args):
        return self.c._request(CMD_EXTENDED, name, *args)[1]

    def test_extensions(self):
        self.put("hl", b"linked")
        self.ext("hardlink@openssh.com", "hl", "hl2")
        self.assertEqual(os.stat(self.path("hl")).st_ino, os.stat(self.path("hl2")).st_ino)
        msg = self.ext("limits@openssh.com")
        self.assertEqual([msg.get_int64() for _ in range(4)], [34000, 32768, 32768, 256])
        msg = self.ext("statvfs@openssh.com", "/")
        bsize = msg.get_int64()
        self.assertEqual(bsize, os.statvfs(self.root).f_bsize)
        h = self.raw_open("hl", READ | WRITE)
        self.ext("fsync@openssh.com", h)
        msg = self.ext("fstatvfs@openssh.com", h)
        self.assertEqual(msg.get_int64(), bsize)
        self.c._request(CMD_CLOSE, h)
        msg = self.ext("expand-path@openssh.com", "~/a/../b")
        self.assertEqual(msg.get_int(), 1)
        self.assertEqual(msg.get_text(), "/b")
        msg = self.ext("home-directory", USER)
        msg.get_int()
        self.assertEqual(msg.get_text(), "/")
        with self.assertRaises(IOError):
            self.ext("home-directory", "root")
        with self.assertRaises(IOError):
            self.ext("copy-data", "x")
        self.assertEqual(self.c.normalize("."), "/")
        self.assertEqual(self.c.normalize("a/./b/../c"), "/a/c")

    def test_version_lists_extensions(self):
        raw = RawSftp(self)
        body = raw.init()
        for name in (b"posix-rename@openssh.com", b"statvfs@openssh.com", b"fstatvfs@openssh.com",
                     b"hardlink@openssh.com", b"fsync@openssh.com", b"limits@openssh.com",
                     b"expand-path@openssh.com", b"home-directory"):
            self.assertIn(name, body)

    def test_traversal_stays_inside(self):
        self.put("inside.txt", b"in")
        for p in ("../../../../etc/passwd", "/etc/passwd", "/../../etc/passwd",
                  "a/../../../etc/passwd", "..//..//etc/passwd"):
            with self.subTest(path=p):
                with self.assertRaises(IOError) as cm:
                    self.c.open(p, "r")
                self.assertEqual(cm.exception.errno, errno.ENOENT)
        self.assertEqual(sorted(self.c.listdir("../..")), sorted(self.c.listdir("/")))
        self.assertEqual(self.c.open("../inside.txt").read(), b"in")
        with self.assertRaises(IOError):
            self.c.open("bad\0name", "w")

    def test_planted_symlinks_do_not_escape(self):
        os.symlink("/etc", self.path("etc-out"))
        os.symlink("../../../../../../etc/passwd", self.path("pw-out"))
        for p in ("etc-out/passwd", "pw-out"):
            with self.subTest(path=p):
                with self.assertRaises(IOError) as cm:
                    self.c.open(p, "r")
                self.assertEqual(cm.exception.errno, errno.EACCES)
        with self.assertRaises(IOError):
            self.c.listdir("etc-out")
        with self.assertRaises(IOError):
            self.c.stat("etc-out/passwd")
        with self.assertRaises(IOError):  # writes never go through a symlink
            self.c.open("pw-out", "w")
        self.assertTrue(os.path.exists("/etc/passwd"))

    def test_symlink_requests(self):
        self.put("target.txt", b"t")
        for target in ("/etc", "/etc/passwd", "../../etc", "a/../../x",
                       UPLOAD_PREFIX + "1-x"):
            with self.subTest(target=target):
                with self.assertRaises(IOError) as cm:
                    self.c.symlink(target, "bad-link")
                self.assertEqual(cm.exception.errno, errno.EACCES)
                self.assertFalse(os.path.lexists(self.path("bad-link")))
        self.c.symlink("target.txt", "good-link")
        self.assertEqual(os.readlink(self.path("good-link")), "target.txt")
        self.assertEqual(self.c.open("good-link").read(), b"t")
        os.makedirs(self.path("sub"), exist_ok=True)
        self.c.symlink("../target.txt", "sub/up-link")
        self.assertEqual(self.c.open("sub/up-link").read(), b"t")

    def test_upload_names_are_reserved(self):
        name = UPLOAD_PREFIX + "999-x"
        self.put(name, b"someone else's upload")
        with self.assertRaises(IOError) as cm:
            self.c.open(name, "r")
        self.assertEqual(cm.exception.errno, errno.EACCES)
        with self.assertRaises(IOError):
            self.c.remove(name)
        os.unlink(self.path(name))


class SftpQuota(SftpServerTest):
    MORE = "[ftp]\nquota = 1M\n"

    def test_upload_over_quota_fails_and_is_removed(self):
        c = self.paramiko_client()
        with c.open("fits.bin", "wb") as f:
            f.write(os.urandom(500000))
        with self.assertRaises(IOError) as cm:
            with c.open("too-big.bin", "wb") as f:
                f.set_pipelined(False)
                for _ in range(20):
                    f.write(os.urandom(50000))
        self.assertIn("Quota", str(cm.exception))
        root = self.files_dir()
        self.assertEqual(sorted(os.listdir(root)), ["fits.bin"])
        with c.open("fits.bin", "wb") as f:  # replacing a file frees its size
            f.write(os.urandom(900000))
        self.assertEqual(os.path.getsize(os.path.join(root, "fits.bin")), 900000)
        with self.assertRaises(IOError):  # nor may SETSTAT grow past it
            c.truncate("fits.bin", 5 << 20)
        self.assertRegex(self.server.stderr(), r"sftp upload_removed name=too-big.bin reason=quota")
