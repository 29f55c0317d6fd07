"""A real browser through the forward proxy (issue 12): headless Chromium
with --proxy-server loads a page of several objects (HTML, CSS, a script,
an image) from the test origin; each object reaches the origin through
the proxy (its Via field says so) and the proxy's access log lists it."""

import json
import os
import re
import signal
import subprocess
import tempfile
import unittest
import urllib.request

from portico import ServerTest, wait_until
from proxy_origin import Origin
from test_http_browser import CHROMIUM, DevTools, group_alive

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
        self.profile = tempfile.TemporaryDirectory(prefix="portico-chromium-")
        proxy = f"http://127.0.0.1:{self.server.ports['proxy']}"
        # <-loopback> takes loopback out of Chromium's implicit bypass list.
        self.browser = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--remote-debugging-port=0", f"--proxy-server={proxy}",
             "--proxy-bypass-list=<-loopback>", f"--user-data-dir={self.profile.name}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = os.path.join(self.profile.name, "DevToolsActivePort")
        wait_until(lambda: os.path.exists(port_file) and open(port_file).read().count("\n") >= 1,
                   timeout=60, what="chromium devtools port")
        port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = [t for t in targets if t["type"] == "page"][0]
        self.dt = DevTools(page["webSocketDebuggerUrl"])

    def tearDown(self):
        self.dt.close()
        group = self.browser.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            try:
                self.browser.wait(timeout=10)
            except subprocess.TimeoutExpired:
                continue
        wait_until(lambda: not group_alive(group), timeout=20, what="chromium helpers exit")
        self.profile.cleanup()

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
