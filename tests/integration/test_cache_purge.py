"""`portico cache purge URL|--all` on the proxy cache's disk tier
(data_dir/cache/, docs/proxy.md "Cache"): entry files are named by the SHA-256 of
the cache key ("METHOD normalised-URI") and a variant id, so a purge finds
every variant of GET and HEAD of a URL by name."""

import hashlib
import os
import unittest

from portico import Server


def entry_name(method, uri, variant):
    key = f"{method} {uri}".encode()
    return hashlib.sha256(key).hexdigest() + "-" + f"{variant:016x}"


class CachePurge(unittest.TestCase):
    def setUp(self):
        self.server = Server(services=("http",))
        self.cache = os.path.join(self.server.data_dir, "cache")
        os.makedirs(self.cache)

    def tearDown(self):
        self.server.cleanup()

    def touch(self, name):
        with open(os.path.join(self.cache, name), "wb") as f:
            f.write(b"PCE1 not a real entry")
        return name

    def files(self):
        return sorted(n for n in os.listdir(self.cache) if n != "purged")

    def test_purge_url_removes_every_variant_of_get_and_head_only(self):
        target = [self.touch(entry_name("GET", "http://a.example/x", 1)),
                  self.touch(entry_name("GET", "http://a.example/x", 2)),
                  self.touch(entry_name("HEAD", "http://a.example/x", 1))]
        other = [self.touch(entry_name("GET", "http://a.example/y", 1)),
                 self.touch(entry_name("GET", "http://b.example/x", 1))]
        # The URL is normalised as the cache key is: scheme and host case,
        # the default port.
        p = self.server.cli("cache", "purge", "HTTP://A.Example:80/x")
        self.assertIn("purged 3 cached responses", p.stdout)
        self.assertEqual(self.files(), sorted(other))
        for name in target:
            self.assertFalse(os.path.exists(os.path.join(self.cache, name)))
        # The stamp a running server watches was bumped.
        self.assertTrue(os.path.exists(os.path.join(self.cache, "purged")))

    def test_purge_all(self):
        self.touch(entry_name("GET", "http://a.example/x", 1))
        self.touch(entry_name("GET", "https://c.example/", 7))
        keep = os.path.join(self.cache, "README")
        with open(keep, "w") as f:
            f.write("not an entry\n")
        p = self.server.cli("cache", "purge", "--all")
        self.assertIn("purged 2 cached responses", p.stdout)
        self.assertEqual(self.files(), ["README"])

    def test_purge_while_running(self):
        self.server.start()
        name = self.touch(entry_name("GET", "http://a.example/run", 3))
        p = self.server.cli("cache", "purge", "http://a.example/run")
        self.assertIn("purged 1 cached response\n", p.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.cache, name)))
        self.assertIsNone(self.server.proc.poll())

    def test_bad_usage_and_bad_url(self):
        p = self.server.cli("cache", "purge", "/relative", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not an absolute http:// or https:// URL", p.stderr)
        p = self.server.cli("cache", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage: portico [-c FILE] cache purge URL", p.stderr)

    def test_nothing_cached_yet(self):
        os.rmdir(self.cache)
        p = self.server.cli("cache", "purge", "--all")
        self.assertIn("purged 0 cached responses", p.stdout)


if __name__ == "__main__":
    unittest.main()
