"""kill -9 while FTP and HTTP clients upload: every file that got its
acknowledgement (FTP 226 after STOR, HTTP 201 after PUT) is in the file area
afterwards with exactly the bytes sent, and no file under a final name holds
a partial upload (DESIGN.md "Storage": nothing acknowledged is ever lost)."""

import base64
import ftplib
import hashlib
import http.client
import io
import os
import threading

from ftp_common import passive_extra
from portico import ServerTest, wait_until

USER, PASSWORD = "gina@example.org", "gina's password"
FTP_SESSIONS, HTTP_SESSIONS, PER_SESSION = 3, 2, 400


def content(name):
    """The bytes uploaded under name: 20-200 KiB derived from the name."""
    seed = hashlib.sha256(name.encode()).digest()
    size = 20 * 1024 + int.from_bytes(seed[:2], "big") % (180 * 1024)
    return (seed * (size // len(seed) + 1))[:size]


class UploadDurability(ServerTest):
    SERVICES = ("ftp", "http")

    @classmethod
    def setUpClass(cls):
        cls.EXTRA = passive_extra()
        super().setUpClass()
        cls.server.add_user(USER, PASSWORD)

    @classmethod
    def tearDownClass(cls):
        pass  # the server is killed by the test; cleanup is registered

    def test_kill_during_uploads(self):
        acked, lock, stop = set(), threading.Lock(), threading.Event()

        def ftp_uploader(k):
            try:
                f = ftplib.FTP()
                f.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
                f.login(USER, PASSWORD)
                for i in range(PER_SESSION):
                    name = f"ftp-{k}-{i}.bin"
                    f.storbinary("STOR " + name, io.BytesIO(content(name)))  # 226 or raises
                    with lock:
                        acked.add(name)
            except (OSError, EOFError, ftplib.Error):
                pass  # the server died under us: expected

        def http_uploader(k):
            auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.server.ports["http"], timeout=10)
                for i in range(PER_SESSION):
                    name = f"http-{k}-{i}.bin"
                    c.request("PUT", "/files/" + name, body=content(name),
                              headers={"Authorization": auth})
                    r = c.getresponse()
                    r.read()
                    if r.status != 201:
                        return
                    with lock:
                        acked.add(name)
            except (OSError, http.client.HTTPException):
                pass

        threads = [threading.Thread(target=ftp_uploader, args=(k,)) for k in range(FTP_SESSIONS)]
        threads += [threading.Thread(target=http_uploader, args=(k,))
                    for k in range(HTTP_SESSIONS)]
        for t in threads:
            t.start()
        wait_until(lambda: len(acked) >= 60, timeout=120, what="60 acknowledged uploads")
        self.server.kill()
        for t in threads:
            t.join(30)
        area = os.path.join(self.server.data_dir, "users", "example.org", "gina", "files")
        on_disk = {n for n in os.listdir(area) if not n.startswith(".")}
        self.assertTrue(acked <= on_disk, f"lost: {sorted(acked - on_disk)[:10]}")
        for name in on_disk:  # acknowledged or not: never a partial file
            with open(os.path.join(area, name), "rb") as f:
                self.assertEqual(f.read(), content(name), name)
        # The next start removes what the killed run left unfinished.
        # One planted in a subdirectory too, as a crashed run (pid 1) leaves it.
        os.makedirs(os.path.join(area, "sub"), exist_ok=True)
        planted = os.path.join(area, "sub", ".portico-up-1-ftp-9-9")
        with open(planted, "wb") as f:
            f.write(b"half")
        self.server.start()
        wait_until(lambda: not os.path.exists(planted) and
                   not any(n.startswith(".portico-up-") for n in os.listdir(area)),
                   what="unfinished uploads removed")
        self.assertEqual({n for n in os.listdir(area) if not n.startswith(".")},
                         on_disk | {"sub"})
        self.server.stop()
