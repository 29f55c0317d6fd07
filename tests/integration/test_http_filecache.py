"""The web root's open-file cache (http/filecache.c, issue 15): whatever
happens to a file between two requests on one keep-alive connection (one
loop thread, so one cache), the second request sees the file system as it
is now: replaced by rename, rewritten in place, deleted, a directory on its
path renamed, the web root itself replaced, a hard link made and written
through, a symlink's target changed. Python's http.client keeps the
connection; every change is made before the request is sent."""

import http.client
import os
import shutil
import unittest

from test_http import HttpBase


class HttpFileCache(HttpBase):
    def setUp(self):
        self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.sock = None

    def tearDown(self):
        self.c.close()

    def get(self, path, headers=None):
        self.c.request("GET", path, headers=headers or {})
        r = self.c.getresponse()
        body = r.read()
        if self.sock is None:
            self.sock = self.c.sock
        # Same connection throughout: the same loop's cache answers.
        self.assertIs(self.c.sock, self.sock)
        return r.status, body, r

    def write(self, rel, data):
        path = os.path.join(self.www, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_replaced_rewritten_deleted(self):
        p = self.write("fc/a.txt", b"one\n")
        for _ in range(3):  # cached after the first
            self.assertEqual(self.get("/fc/a.txt")[:2], (200, b"one\n"))
        tmp = self.write("fc/a.tmp", b"two, longer\n")
        os.rename(tmp, p)
        self.assertEqual(self.get("/fc/a.txt")[:2], (200, b"two, longer\n"))
        self.get("/fc/a.txt")
        with open(p, "r+b") as f:  # in place, same size: only the bytes change
            f.write(b"TWO")
        status, body, r = self.get("/fc/a.txt")
        self.assertEqual((status, body), (200, b"TWO, longer\n"))
        with open(p, "ab") as f:
            f.write(b"more\n")
        status, body, r = self.get("/fc/a.txt")
        self.assertEqual(body, b"TWO, longer\nmore\n")
        self.assertEqual(r.getheader("Content-Length"), str(len(body)))
        os.unlink(p)
        self.assertEqual(self.get("/fc/a.txt")[0], 404)

    def test_validators_follow_the_file(self):
        p = self.write("fc/v.txt", b"version 1\n")
        etag = self.get("/fc/v.txt")[2].getheader("ETag")
        self.assertEqual(self.get("/fc/v.txt", {"If-None-Match": etag})[0], 304)
        tmp = self.write("fc/v.tmp", b"version 2\n")
        os.rename(tmp, p)
        status, body, r = self.get("/fc/v.txt", {"If-None-Match": etag})
        self.assertEqual((status, body), (200, b"version 2\n"))
        self.assertNotEqual(r.getheader("ETag"), etag)

    def test_directory_on_the_path_renamed(self):
        self.write("fc/d1/d2/f.txt", b"deep\n")
        self.assertEqual(self.get("/fc/d1/d2/f.txt")[:2], (200, b"deep\n"))
        os.rename(os.path.join(self.www, "fc/d1"), os.path.join(self.www, "fc/d9"))
        self.assertEqual(self.get("/fc/d1/d2/f.txt")[0], 404)
        self.assertEqual(self.get("/fc/d9/d2/f.txt")[:2], (200, b"deep\n"))
        self.write("fc/d1/d2/f.txt", b"a new deep\n")
        self.assertEqual(self.get("/fc/d1/d2/f.txt")[:2], (200, b"a new deep\n"))

    def test_hard_link_written_elsewhere(self):
        p = self.write("fc/h.txt", b"linked\n")
        self.assertEqual(self.get("/fc/h.txt")[1], b"linked\n")
        other = os.path.join(self.server.data_dir, "h-other")
        os.link(p, other)
        try:
            with open(other, "wb") as f:
                f.write(b"written through the other name\n")
            self.assertEqual(self.get("/fc/h.txt")[1], b"written through the other name\n")
        finally:
            os.unlink(other)

    def test_symlinks_beneath_served_and_followed(self):
        self.write("fc/real/x.txt", b"inside\n")
        link = os.path.join(self.www, "fc/ln")
        if not os.path.lexists(link):
            os.symlink("real", link)
        self.assertEqual(self.get("/fc/ln/x.txt")[1], b"inside\n")
        self.write("fc/real/x.txt", b"changed\n")
        self.assertEqual(self.get("/fc/ln/x.txt")[1], b"changed\n")
        outside = os.path.join(self.server.data_dir, "outside.txt")
        with open(outside, "wb") as f:
            f.write(b"secret\n")
        out = os.path.join(self.www, "fc/out")
        if not os.path.lexists(out):
            os.symlink("../../outside.txt", out)
        self.assertEqual(self.get("/fc/out")[0], 403)  # never out of the root

    def test_web_root_replaced(self):
        self.write("fc-root.txt", b"old root\n")
        self.assertEqual(self.get("/fc-root.txt")[1], b"old root\n")
        old = self.www + ".old"
        shutil.copytree(self.www, old, symlinks=True)
        os.rename(self.www, self.www + ".gone")
        os.rename(old, self.www)
        try:
            self.write("fc-root.txt", b"new root\n")
            self.assertEqual(self.get("/fc-root.txt")[1], b"new root\n")
        finally:
            shutil.rmtree(self.www + ".gone")


if __name__ == "__main__":
    unittest.main()
