"""The /files/ page in a real browser (issue 6): headless Chromium loads the
listing, picks a file in the upload form, submits it, and sees the file in
the listing it is redirected to; a screenshot is saved. Chromium is driven
through the DevTools protocol with a small WebSocket client from Python's
standard library (no node, no selenium)."""

import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.request

from portico import ServerTest, wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = os.environ.get("PORTICO_ARTIFACTS") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build-test", "artifacts")
USER, PASSWORD = "carol@example.org", "browser pass"


def group_alive(pgid):
    """True while a live (not zombie) process of the group remains."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


class DevTools:
    """One WebSocket to a page target: JSON commands and events (RFC 6455)."""

    def __init__(self, url, timeout=30):
        host_port, path = url[len("ws://"):].split("/", 1)
        host, port = host_port.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise AssertionError(f"websocket refused: {head!r}")
        self.next_id = 0
        self.events = []

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            b = self.sock.recv(n - len(buf))
            if not b:
                raise AssertionError("devtools closed")
            buf += b
        return buf

    def _send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _recv(self):
        payload = b""
        while True:
            b0, b1 = self._recv_exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._recv_exact(8))[0]
            payload += self._recv_exact(n)
            if b0 & 0x80:
                return json.loads(payload)

    def call(self, method, **params):
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = self._recv()
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, name, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, e in enumerate(self.events):
                if e.get("method") == name:
                    return self.events.pop(i)
            self.events.append(self._recv())
        raise AssertionError(f"no {name} event")

    def close(self):
        self.sock.close()


@unittest.skipUnless(os.path.exists(CHROMIUM), "chromium is not installed")
class BrowserUpload(ServerTest):
    SERVICES = ("http",)

    def setUp(self):
        self.profile = tempfile.TemporaryDirectory(prefix="portico-chromium-")
        self.browser = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--remote-debugging-port=0", "--window-size=1000,700",
             f"--user-data-dir={self.profile.name}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = os.path.join(self.profile.name, "DevToolsActivePort")
        wait_until(lambda: os.path.exists(port_file) and open(port_file).read().count("\n") >= 1,
                   timeout=60, what="chromium devtools port")
        port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = [t for t in targets if t["type"] == "page"][0]
        self.dt = DevTools(page["webSocketDebuggerUrl"])

    def tearDown(self):
        # Chromium's helper processes outlive the main one for a moment and
        # keep writing into the profile: stop the whole process group and
        # wait until it is gone before removing the profile.
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
