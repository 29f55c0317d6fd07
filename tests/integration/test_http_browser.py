"""The /files/ page in a real browser (issue 6): headless Chromium loads the
listing, picks a file in the upload form, submits it, and sees the file in
the listing it is redirected to; a screenshot is saved. Chromium is driven
through the DevTools protocol (browser.py)."""

import base64
import os
import unittest

from browser import CHROMIUM, Browser
from portico import ServerTest, wait_until

ARTIFACTS = os.environ.get("PORTICO_ARTIFACTS") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build-test", "artifacts")
USER, PASSWORD = "carol@example.org", "browser pass"


@unittest.skipUnless(os.path.exists(CHROMIUM), "chromium is not installed")
class BrowserUpload(ServerTest):
    SERVICES = ("http",)

    def setUp(self):
        self.browser = Browser(["--window-size=1000,700"])
        self.dt = self.browser.dt

    def tearDown(self):
        self.browser.stop()

    def navigate_and_wait(self, url):
        self.dt.call("Page.navigate", url=url)
        self.dt.wait_event("Page.loadEventFired")

    def text(self):
        r = self.dt.call("Runtime.evaluate", expression="document.body.innerText")
        return r["result"]["value"]

    def test_upload_through_the_form(self):
        s = self.server
        s.add_user(USER, PASSWORD)
        area = os.path.join(s.data_dir, "users", "example.org", "carol", "files")
        src = os.path.join(s.tmp.name, "hello from chromium.txt")
        with open(src, "w") as f:
            f.write("uploaded by a browser\n")
        dt = self.dt
        dt.call("Page.enable")
        dt.call("Network.enable")
        auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        dt.call("Network.setExtraHTTPHeaders", headers={"Authorization": "Basic " + auth})
        url = f"http://127.0.0.1:{s.ports['http']}/files/"
        self.navigate_and_wait(url)
        self.assertIn("Index of /files/", self.text())
        doc = dt.call("DOM.getDocument")
        node = dt.call("DOM.querySelector", nodeId=doc["root"]["nodeId"], selector="#file")
        dt.call("DOM.setFileInputFiles", files=[src], nodeId=node["nodeId"])
        dt.call("Runtime.evaluate", expression="document.querySelector('#upload').click()")
        dt.wait_event("Page.loadEventFired")
        wait_until(lambda: "hello from chromium.txt" in self.text(), what="file in listing")
        with open(os.path.join(area, "hello from chromium.txt")) as f:
            self.assertEqual(f.read(), "uploaded by a browser\n")
        shot = dt.call("Page.captureScreenshot", format="png")
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.join(ARTIFACTS, "http_files_upload.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        self.assertGreater(os.path.getsize(path), 1000)


if __name__ == "__main__":
    unittest.main()
