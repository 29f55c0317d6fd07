"""The proxy's shared cache end to end (issue 12, RFC 9111, RFC 5861): one
test per rule of docs/proxy.md's conformance table, through `curl -x` (the
forward proxy) or an [http] proxy route (the reverse proxy), against
cache_origin.py, which counts its hits: a cached answer is one the origin
never saw. Also the disk tier across a restart (and a truncated entry),
PURGE, the access log's cache= field and the counters."""

import concurrent.futures
import email.utils
import hashlib
import os
import re
import subprocess
import tempfile
import time
import unittest
import urllib.request

from cache_origin import BLOB, LASTMOD, CacheOrigin
from portico import ServerTest, wait_until


def curl(*args):
    """Runs curl with -i; returns (status, {lowercased name: value}, body)."""
    p = subprocess.run(["curl", "-s", "-S", "-i", "--http1.1", "--max-time", "20", *args],
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"curl {args} failed: {p.stderr.decode(errors='replace')}")
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        fields[k.strip().lower()] = v.strip()
    return status, fields, body


class CacheBase(ServerTest):
    SERVICES = ("http", "proxy", "metrics")
    MORE = ""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="portico-cache-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.origin = CacheOrigin()
        cls.addClassCleanup(cls.origin.stop)
        cls.log = os.path.join(cls.tmp.name, "access.log")
        cls.EXTRA = (f"[proxy]\ntimeout = 5\ncache_max_object = 100K\n"
                     f"[http]\naccess_log = {cls.log}\n"
                     f"proxy = /rev/ http://127.0.0.1:{cls.origin.port}/\n" + cls.MORE)
        super().setUpClass()
        cls.proxy = f"http://127.0.0.1:{cls.server.ports.get('proxy')}"
        cls.o = f"http://127.0.0.1:{cls.origin.port}"

    def get(self, path, *args):
        """Through the forward proxy."""
        return curl("-x", self.proxy, *args, self.o + path)

    def rev(self, path, *args):
        """Through the reverse proxy route /rev/."""
        return curl(*args, f"http://127.0.0.1:{self.server.ports['http']}/rev{path}")

    def path(self, case):
        return f"/{self._testMethodName}/{case}"

    def log_text(self):
        with open(self.log) as f:
            return f.read()


class ForwardCache(CacheBase):
    # ---- freshness (RFC 9111 4.2.1, 4.2.2) and Age (5.1) ----

    def test_rfc9111_4_2_1_max_age(self):
        p = self.path("maxage")
        s1, f1, b1 = self.get(p)
        s2, f2, b2 = self.get(p)
        self.assertEqual((s1, s2, b1, b2), (200, 200, b"version 1\n", b"version 1\n"))
        self.assertEqual(self.origin.hit(p), 1)
        self.assertIn("age", f2)
        self.assertEqual(f2["etag"], '"m1"')
        self.assertIn("(portico)", f2["via"])

    def test_rfc9111_4_2_1_s_maxage_over_max_age(self):
        p = self.path("smaxage")
        self.get(p)
        self.assertEqual(self.get(p)[2], b"version 1\n")
        self.assertEqual(self.origin.hit(p), 1)

    def test_rfc9111_4_2_1_expires(self):
        p = self.path("expires")
        self.get(p)
        self.get(p)
        self.assertEqual(self.origin.hit(p), 1)
        q = self.path("expired")  # Expires = Date: stale at once
        self.get(q)
        self.assertEqual(self.get(q)[2], b"version 2\n")
        self.assertEqual(self.origin.hit(q), 2)

    def test_rfc9111_4_2_2_heuristic_with_last_modified(self):
        p = self.path("heuristic")
        self.get(p)
        self.assertEqual(self.get(p)[2], b"version 1\n")
        self.assertEqual(self.origin.hit(p), 1)

    def test_rfc9111_5_1_age(self):
        p = self.path("age")
        self.get(p)
        _, f, _ = self.get(p)
        self.assertGreaterEqual(int(f["age"]), 30)  # the origin's Age counts (4.2.3)
        self.assertEqual(self.origin.hit(p), 1)

    # ---- what is not stored (3, 3.5, 5.2.2.5, 5.2.2.7) ----

    def test_rfc9111_5_2_2_5_no_store(self):
        p = self.path("nostore")
        self.get(p)
        self.assertEqual(self.get(p)[2], b"version 2\n")
        self.assertEqual(self.origin.hit(p), 2)

    def test_rfc9111_5_2_2_7_private(self):
        p = self.path("private")
        self.get(p)
        self.assertEqual(self.get(p)[2], b"version 2\n")
        self.assertEqual(self.origin.hit(p), 2)

    def test_rfc9111_3_5_authorization(self):
        p = self.path("maxage")
        self.get(p, "-H", "Authorization: Bearer secret")
        self.get(p, "-H", "Authorization: Bearer secret")
        self.assertEqual(self.origin.hit(p), 2)  # not stored: no public/s-maxage
        q = self.path("public")
        self.get(q, "-H", "Authorization: Bearer secret")
        self.assertEqual(self.get(q, "-H", "Authorization: Bearer secret")[2], b"version 1\n")
        self.assertEqual(self.origin.hit(q), 1)

    # ---- validation (4.3), no-cache and must-revalidate (5.2.2) ----

    def test_rfc9111_5_2_2_4_no_cache_validates_each_time(self):
        p = self.path("nocache")
        bodies = [self.get(p)[2] for _ in range(3)]
        self.assertEqual(bodies, [b"version 1\n"] * 3)  # 304s: the stored body
        self.assertEqual(self.origin.hit(p), 3)
        self.assertEqual([c[1] for c in self.origin.conditional_for(p)], [None, '"v1"', '"v1"'])

    def test_rfc9111_5_2_2_2_must_revalidate_beats_max_stale(self):
        p = self.path("stale0")
        self.get(p)
        self.assertEqual(self.get(p, "-H", "Cache-Control: max-stale=600")[2], b"version 1\n")
        self.assertEqual(self.origin.hit(p), 1)  # served stale: the client allowed it
        q = self.path("mustrevalidate")
        self.get(q)
        self.get(q, "-H", "Cache-Control: max-stale=600")
        self.assertEqual(self.origin.hit(q), 2)  # validated anyway (4.2.4)
        self.assertEqual(self.origin.conditional_for(q)[-1][1], '"v1"')

    def test_rfc9111_4_3_4_etag_revalidation_merges_the_304(self):
        p = self.path("etag")
        s1, f1, b1 = self.get(p)
        s2, f2, b2 = self.get(p)
        self.assertEqual((s1, s2, b1, b2), (200, 200, b"version 1\n", b"version 1\n"))
        self.assertEqual(f1["x-version"], "first")
        self.assertEqual(f2["x-version"], "second")  # the 304's field replaced it
        self.assertEqual(f2["content-length"], "10")
        self.assertEqual(self.origin.conditional_for(p)[-1][1], '"v1"')
        _, f3, b3 = self.get(p)  # fresh now: the 304 said max-age=60
        self.assertEqual((b3, f3["x-version"]), (b"version 1\n", "second"))
        self.assertEqual(self.origin.hit(p), 2)
        wait_until(lambda: re.search(rf"{re.escape(p)} HTTP/1\.1\" 200 .* cache=REVALIDATED "
                                     r"upstream=\d", self.log_text()), what="REVALIDATED log")

    def test_rfc9111_4_3_1_last_modified_revalidation(self):
        p = self.path("lastmod")
        self.get(p)
        _, f, b = self.get(p)
        self.assertEqual((b, f["x-version"]), (b"version 1\n", "second"))
        cond = self.origin.conditional_for(p)[-1]
        self.assertIsNone(cond[1])
        self.assertIsNotNone(cond[2])  # If-Modified-Since: the stored Last-Modified
        self.get(p)
        self.assertEqual(self.origin.hit(p), 2)

    # ---- a client's own conditional request (4.3.2, RFC 9110 13.2.2) ----

    def assert_304_from_the_cache(self, r, p):
        status, f, b = r
        self.assertEqual((status, b), (304, b""))
        self.assertEqual(f["etag"], 'W/"c1"')
        self.assertEqual(f["last-modified"], LASTMOD)
        self.assertEqual(f["cache-control"], "max-age=60")
        for name in ("expires", "vary", "date", "content-location", "age"):
            self.assertIn(name, f)  # RFC 9110 15.4.5, RFC 9111 5.1
        for name in ("content-type", "content-length", "x-version"):
            self.assertNotIn(name, f)
        self.assertEqual(self.origin.hit(p), 1)  # the origin was not asked

    def test_rfc9111_4_3_2_if_none_match_weak_comparison_gets_304(self):
        p = self.path("cond")
        self.assertEqual(self.get(p)[0], 200)
        self.assert_304_from_the_cache(self.get(p, "-H", 'If-None-Match: "x", "c1"'), p)
        self.assert_304_from_the_cache(self.rev(p, "-H", 'If-None-Match: W/"c1"'), p)

    def test_rfc9111_4_3_2_if_none_match_star_gets_304(self):
        p = self.path("cond")
        self.get(p)
        self.assert_304_from_the_cache(self.get(p, "-H", "If-None-Match: *"), p)

    def test_rfc9111_4_3_2_if_modified_since_gets_304(self):
        p = self.path("cond")
        self.get(p)
        self.assert_304_from_the_cache(self.get(p, "-H", f"If-Modified-Since: {LASTMOD}"), p)
        earlier = email.utils.formatdate(time.time() - 7200, usegmt=True)
        s, f, b = self.get(p, "-H", f"If-Modified-Since: {earlier}")
        self.assertEqual((s, b, f["x-version"]), (200, b"version 1\n", "first"))
        self.assertEqual(self.origin.hit(p), 1)

    def test_rfc9111_4_3_2_head_conditional_gets_304(self):
        p = self.path("cond")
        self.get(p)
        self.assert_304_from_the_cache(self.get(p, "-I", "-H", 'If-None-Match: W/"c1"'), p)

    def test_rfc9110_13_2_2_if_none_match_takes_precedence(self):
        p = self.path("cond")
        self.get(p)
        s, f, b = self.get(p, "-H", 'If-None-Match: "other"', "-H",
                           f"If-Modified-Since: {LASTMOD}")
        self.assertEqual((s, b, f["x-version"]), (200, b"version 1\n", "first"))
        self.assertEqual(self.origin.hit(p), 1)

    def test_rfc9111_4_3_2_a_condition_not_met_gets_the_full_200(self):
        p = self.path("cond")
        self.get(p)
        s, f, b = self.get(p, "-H", 'If-None-Match: "c2", W/"c3"')
        self.assertEqual((s, b, f["etag"], f["content-length"]), (200, b"version 1\n",
                                                                   'W/"c1"', "10"))
        self.assertEqual(self.origin.hit(p), 1)

    def test_rfc9111_4_3_2_stale_entry_validated_with_the_caches_own_validators(self):
        p = self.path("etag")  # max-age=0, ETag "v1"; its 304 makes it fresh (max-age=60)
        self.get(p)
        # Stale: the cache validates with "v1", never the client's "old"; the
        # origin's 304 updates the stored 200, and "old" does not match it.
        s, f, b = self.get(p, "-H", 'If-None-Match: "old"')
        self.assertEqual((s, b, f["x-version"]), (200, b"version 1\n", "second"))
        self.assertEqual(self.origin.conditional_for(p)[-1][1:], ('"v1"', None))
        s, f, b = self.get(p)  # the stored response is still the full 200
        self.assertEqual((s, b, f["x-version"]), (200, b"version 1\n", "second"))
        s, f, b = self.get(p, "-H", 'If-None-Match: "v1"')
        self.assertEqual((s, b, f["etag"]), (304, b"", '"v1"'))
        self.assertEqual(self.origin.hit(p), 2)
        q = self.path("lastmod")  # the same with If-Modified-Since only
        self.get(q)
        earlier = email.utils.formatdate(time.time() - 86400 * 3, usegmt=True)
        s, f, b = self.get(q, "-H", f"If-Modified-Since: {earlier}")
        self.assertEqual((s, b), (200, b"version 1\n"))
        self.assertEqual(self.origin.conditional_for(q)[-1][1:], (None, LASTMOD))
        s, f, b = self.get(q, "-H", f"If-Modified-Since: {LASTMOD}")
        self.assertEqual((s, b), (304, b""))
        self.assertEqual(self.origin.hit(q), 2)

    def test_rfc9111_4_3_2_a_just_revalidated_entry_answers_304(self):
        p = self.path("etag")
        self.get(p)
        s, f, b = self.get(p, "-H", 'If-None-Match: "v1"')  # stale: validated, then 304
        self.assertEqual((s, b, f["etag"]), (304, b"", '"v1"'))
        self.assertEqual(self.origin.hit(p), 2)
        wait_until(lambda: re.search(rf"{re.escape(p)} HTTP/1\.1\" 304 .* cache=REVALIDATED",
                                     self.log_text()), what="REVALIDATED 304 log")

    # ---- Vary (4.1) ----

    def test_rfc9111_4_1_vary_match_and_mismatch(self):
        p = self.path("vary")
        en = lambda: self.get(p, "-H", "Accept-Language: en")[2]
        self.assertEqual(en(), b"lang en 1\n")
        self.assertEqual(en(), b"lang en 1\n")
        self.assertEqual(self.origin.hit(p), 1)
        self.assertEqual(self.get(p, "-H", "Accept-Language: fr")[2], b"lang fr 2\n")
        self.assertEqual(self.origin.hit(p), 2)
        self.assertEqual(en(), b"lang en 1\n")
        self.assertEqual(self.get(p, "-H", "Accept-Language: fr")[2], b"lang fr 2\n")
        self.assertEqual(self.origin.hit(p), 2)

    # ---- invalidation (4.4) ----

    def test_rfc9111_4_4_invalidation_after_post_put_delete(self):
        p = self.path("maxage")
        for i, method in enumerate(("POST", "PUT", "DELETE")):
            self.get(p)
            self.get(p)
            self.assertEqual(self.origin.hit(p), 2 * i + 1)
            self.assertEqual(self.get(p, "-X", method, "-d", "x")[0], 200)
            self.assertEqual(self.origin.hit(p), 2 * i + 2)
        self.get(p)
        self.assertEqual(self.origin.hit(p), 7)

    def test_rfc9111_4_4_location_is_invalidated(self):
        other = f"/{self._testMethodName}/other/maxage"
        self.get(other)
        self.get(other)
        self.assertEqual(self.origin.hit(other), 1)
        self.assertEqual(self.get(self.path("moved"), "-X", "POST", "-d", "x")[0], 201)
        self.get(other)
        self.assertEqual(self.origin.hit(other), 2)

    # ---- request directives (5.2.1) ----

    def test_rfc9111_5_2_1_4_request_no_cache(self):
        p = self.path("maxage")
        self.get(p)
        self.assertEqual(self.get(p, "-H", "Cache-Control: no-cache")[2], b"version 2\n")
        self.assertEqual(self.origin.conditional_for(p), [])  # (no ETag check here)
        self.assertEqual(self.origin.hit(p), 2)
        self.get(p, "-H", "Pragma: no-cache")  # 5.4
        self.assertEqual(self.origin.hit(p), 3)

    def test_rfc9111_5_2_1_1_request_max_age(self):
        p = self.path("maxage")
        self.get(p)
        time.sleep(1.1)  # the stored response must be at least 1 s old
        self.get(p, "-H", "Cache-Control: max-age=0")
        self.assertEqual(self.origin.hit(p), 2)
        self.get(p, "-H", "Cache-Control: max-age=3600")
        self.assertEqual(self.origin.hit(p), 2)

    def test_rfc9111_5_2_1_3_min_fresh(self):
        p = self.path("maxage")
        self.get(p)
        self.get(p, "-H", "Cache-Control: min-fresh=3600")  # fresh for 60 s only
        self.assertEqual(self.origin.hit(p), 2)

    def test_rfc9111_5_2_1_7_only_if_cached(self):
        p = self.path("maxage")
        s, _, _ = self.get(p, "-H", "Cache-Control: only-if-cached")
        self.assertEqual(s, 504)
        self.assertEqual(self.origin.hit(p), 0)
        self.get(p)
        s, _, b = self.get(p, "-H", "Cache-Control: only-if-cached")
        self.assertEqual((s, b), (200, b"version 1\n"))
        self.assertEqual(self.origin.hit(p), 1)

    # ---- RFC 5861 ----

    def test_rfc5861_4_stale_if_error(self):
        p = self.path("sie")
        self.get(p)
        s, f, b = self.get(p)
        self.assertEqual((s, b), (200, b"version 1\n"))  # the origin said 503
        self.assertEqual(self.origin.hit(p), 2)
        q = self.path("nosie")
        self.get(q)
        self.assertEqual(self.get(q)[0], 503)
        wait_until(lambda: re.search(rf"{re.escape(p)} HTTP/1\.1\" 200 .* cache=STALE",
                                     self.log_text()), what="STALE in the log")

    def test_rfc5861_3_stale_while_revalidate(self):
        p = self.path("swr")
        self.assertEqual(self.get(p)[2], b"version 1\n")
        self.assertEqual(self.get(p)[2], b"version 1\n")  # stale, at once
        wait_until(lambda: self.origin.hit(p) == 2, what="background revalidation")
        wait_until(lambda: self.get(p, "-H", "Cache-Control: only-if-cached")[2] ==
                   b"version 2\n", what="the revalidated response stored")
        self.assertLessEqual(self.origin.hit(p), 3)

    # ---- collapsing ----

    def test_request_collapsing(self):
        p = self.path("slow")
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            results = list(ex.map(lambda _: self.get(p), range(8)))
        self.assertEqual([r[2] for r in results], [b"version 1\n"] * 8)
        self.assertEqual(self.origin.hit(p), 1)

    def test_request_collapsing_never_shares_private(self):
        p = self.path("slowprivate")
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            results = list(ex.map(lambda _: self.get(p), range(4)))
        self.assertEqual(self.origin.hit(p), 4)
        self.assertEqual(len({r[2] for r in results}), 4)  # each its own answer

    # ---- Range, HEAD, size limit ----

    def test_rfc9110_14_2_range_from_a_cached_response(self):
        p = self.path("mid")
        self.assertEqual(self.get(p)[2], BLOB[:50000])
        s, f, b = self.get(p, "-r", "100-199")
        self.assertEqual((s, b, f["content-range"]), (206, BLOB[100:200], "bytes 100-199/50000"))
        s, f, b = self.get(p, "-r", "60000-")
        self.assertEqual((s, f["content-range"]), (416, "bytes */50000"))
        self.assertEqual(self.origin.hit(p), 1)

    def test_head_from_a_cached_get(self):
        p = self.path("maxage")
        self.get(p)
        s, f, b = self.get(p, "-I")
        self.assertEqual((s, f["content-length"], b), (200, "10", b""))
        self.assertEqual(self.origin.hit(p), 1)

    def test_objects_over_cache_max_object_pass_through(self):
        p = self.path("blob")
        self.assertEqual(self.get(p)[2], BLOB)
        self.assertEqual(self.get(p)[2], BLOB)
        self.assertEqual(self.origin.hit(p), 2)

    # ---- PURGE, log, metrics ----

    def test_purge(self):
        p = self.path("maxage")
        self.get(p)
        s, _, b = self.get(p, "-X", "PURGE")
        self.assertEqual((s, b), (200, b"purged 1\n"))
        self.assertEqual(self.get(p)[2], b"version 2\n")
        self.assertEqual(self.get(p, "-X", "PURGE")[0], 200)
        self.assertEqual(self.get(p, "-X", "PURGE")[0], 404)
        self.assertEqual(self.origin.hit(p), 2)

    def test_access_log_and_counters(self):
        p = self.path("maxage")
        self.get(p)
        self.get(p)
        wait_until(lambda: re.search(rf"{re.escape(p)} HTTP/1\.1\" 200 10 .* cache=MISS "
                                     r"upstream=\d", self.log_text()) and
                   re.search(rf"{re.escape(p)} HTTP/1\.1\" 200 10 .* cache=HIT upstream=-",
                             self.log_text()), what="MISS and HIT lines")
        port = self.server.ports["metrics"]
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
        for name in ("hits", "misses", "stored_bytes"):
            m = re.search(rf'portico_proxy_cache_{name}_total{{proto="proxy"}} (\d+)', text)
            self.assertTrue(m and int(m.group(1)) > 0, name)


class ReverseCache(CacheBase):
    SERVICES = ("http", "metrics")
    MORE = "[proxy]\nallow = 192.0.2.0/24\n"  # PURGE is refused to loopback

    def test_reverse_max_age(self):
        p = self.path("maxage")
        self.assertEqual(self.rev(p)[2], b"version 1\n")
        s, f, b = self.rev(p)
        self.assertEqual((s, b), (200, b"version 1\n"))
        self.assertIn("age", f)
        self.assertEqual(self.origin.hit(p), 1)

    def test_reverse_etag_revalidation(self):
        p = self.path("etag")
        self.rev(p)
        _, f, b = self.rev(p)
        self.assertEqual((b, f["x-version"]), (b"version 1\n", "second"))
        self.assertEqual(self.origin.conditional_for(p)[-1][1], '"v1"')
        self.rev(p)
        self.assertEqual(self.origin.hit(p), 2)

    def test_reverse_invalidation_after_post(self):
        p = self.path("maxage")
        self.rev(p)
        self.rev(p, "-X", "POST", "-d", "x")
        self.rev(p)
        self.assertEqual(self.origin.hit(p), 3)

    def test_purge_only_from_allow(self):
        p = self.path("maxage")
        self.rev(p)
        self.assertEqual(self.rev(p, "-X", "PURGE")[0], 403)
        self.rev(p)
        self.assertEqual(self.origin.hit(p), 1)
        s, f, _ = curl("-X", "PURGE", f"http://127.0.0.1:{self.server.ports['http']}/x")
        self.assertEqual(s, 405)  # not a proxied path: a read-only resource


class DiskTier(CacheBase):
    SERVICES = ("proxy",)

    def key_file(self, path):
        key = f"GET {self.o}{path}".encode()
        name = hashlib.sha256(key).hexdigest()
        d = os.path.join(self.server.data_dir, "cache")
        files = [f for f in os.listdir(d) if f.startswith(name + "-")]
        return [os.path.join(d, f) for f in files]

    def test_disk_entries_survive_a_restart_and_a_truncated_one_is_a_miss(self):
        a, b = self.path("mid"), self.path("maxage")
        self.assertEqual(self.get(a)[2], BLOB[:50000])
        self.get(b)
        wait_until(lambda: self.key_file(a) and self.key_file(b), what="entry files")
        self.server.stop()
        fa = self.key_file(a)[0]
        size = os.path.getsize(fa)
        with open(fa, "r+b") as f:
            f.truncate(size // 2)
        self.server.start()
        self.assertEqual(self.get(b)[2], b"version 1\n")  # from the disk tier
        self.assertEqual(self.origin.hit(b), 1)
        s, _, body = self.get(a)
        self.assertEqual((s, body), (200, BLOB[:50000]))  # a miss, never garbage
        self.assertEqual(self.origin.hit(a), 2)
        self.assertEqual(self.get(a)[2], BLOB[:50000])
        self.assertEqual(self.origin.hit(a), 2)


if __name__ == "__main__":
    unittest.main()
