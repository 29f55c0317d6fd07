"""A real browser through the forward proxy (issue 12): headless Chromium
with --proxy-server loads a page of several objects (HTML, CSS, a script,
an image) from the test origin; each object reaches the origin through
the proxy (its Via field says so) and the proxy's access log lists it."""

import os
import re
import tempfile
import unittest

from browser import Browser
from portico import ServerTest, wait_until
from proxy_origin import Origin

OBJECTS = ("/page.html", "/style.css", "/app.js", "/pixel.svg")


class BrowserThroughProxy(ServerTest):
    SERVICES = ("proxy",)

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="portico-proxy-browser-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.origin = Origin()
        cls.addClassCleanup(cls.origin.stop)
        cls.log = os.path.join(cls.tmp.name, "access.log")
        cls.EXTRA = f"[http]\naccess_log = {cls.log}\n"
        super().setUpClass()

    def setUp(self):
        proxy = f"http://127.0.0.1:{self.server.ports['proxy']}"
        # <-loopback> takes loopback out of Chromium's implicit bypass list.
        self.browser = Browser([f"--proxy-server={proxy}", "--proxy-bypass-list=<-loopback>"])
        self.dt = self.browser.dt

    def tearDown(self):
        self.browser.stop()

    def test_page_of_several_objects_through_the_proxy(self):
        dt = self.dt
        dt.call("Page.enable")
        dt.call("Page.navigate", url=f"http://127.0.0.1:{self.origin.port}/page.html")
        dt.wait_event("Page.loadEventFired")
        wait_until(lambda: all(self.origin.hit(p) for p in OBJECTS), what="every object fetched")
        r = dt.call("Runtime.evaluate", expression="document.title + '|' + "
                    "getComputedStyle(document.querySelector('h1')).color + '|' + "
                    "document.querySelector('img').naturalWidth")
        self.assertEqual(r["result"]["value"], "proxied|rgb(0, 128, 0)|1")
        with self.origin.lock:
            vias = [r[2].get("Via") for r in self.origin.requests]
        self.assertTrue(vias and all(v == "1.1 mail.example.org (portico)" for v in vias), vias)
        wait_until(lambda: os.path.exists(self.log) and
                   all(re.search(rf'"GET http://127\.0\.0\.1:\d+{re.escape(p)} HTTP/1\.1" 200 ',
                                 open(self.log).read()) for p in OBJECTS),
                   what="each object in the proxy's access log")


if __name__ == "__main__":
    unittest.main()
