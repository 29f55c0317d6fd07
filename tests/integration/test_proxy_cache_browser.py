"""Headless Chromium through the caching forward proxy (issue 12): a page
of several objects (HTML, CSS, a script, an image, each with max-age)
loaded by two browsers with fresh profiles, one after the other: the
first load reaches the origin once per object, the second is answered
by the proxy's cache (the origin's hit counts stay at 1), and renders
the same."""

import os
import re
import tempfile
import unittest

from cache_origin import CacheOrigin
from portico import wait_until
import test_proxy_browser

OBJECTS = ("/page.html", "/style.css", "/app.js", "/pixel.svg")


class BrowserThroughCache(test_proxy_browser.BrowserThroughProxy):
    # The parent's test expects its own origin; this class has another.
    test_page_of_several_objects_through_the_proxy = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="portico-cache-browser-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.origin = CacheOrigin()
        cls.addClassCleanup(cls.origin.stop)
        cls.log = os.path.join(cls.tmp.name, "access.log")
        cls.EXTRA = f"[http]\naccess_log = {cls.log}\n"
        super(test_proxy_browser.BrowserThroughProxy, cls).setUpClass()

    def load(self):
        dt = self.dt
        dt.call("Page.enable")
        dt.call("Page.navigate", url=f"http://127.0.0.1:{self.origin.port}/page.html")
        dt.wait_event("Page.loadEventFired")
        wait_until(lambda: self.rendered() == "cached|rgb(0, 128, 0)|1", what="page rendered")

    def rendered(self):
        r = self.dt.call("Runtime.evaluate", expression="document.title + '|' + "
                         "getComputedStyle(document.querySelector('h1')).color + '|' + "
                         "document.querySelector('img').naturalWidth")
        return r["result"].get("value")

    def test_second_load_is_served_from_the_cache(self):
        self.load()
        wait_until(lambda: all(self.origin.hit(p) == 1 for p in OBJECTS),
                   what="every object fetched once")
        self.tearDown()  # a new browser with an empty cache of its own
        self.setUp()
        self.load()
        wait_until(lambda: len(re.findall(r"cache=HIT", open(self.log).read())) >= 4,
                   what="four hits in the access log")
        self.assertEqual([self.origin.hit(p) for p in OBJECTS], [1, 1, 1, 1])


if __name__ == "__main__":
    unittest.main()
