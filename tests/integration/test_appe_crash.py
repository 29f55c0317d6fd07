"""APPE and kill -9 (issue 14): an append in place that was never
acknowledged is undone at the next start (its journal records the size
before), so the file is back to its acknowledged size; an acknowledged
append stays."""

import ftplib
import io
import os
import socket

from ftp_common import PASSWORD, USER, FtpServerTest
from portico import wait_until


class AppeCrash(FtpServerTest):
    def test_unacknowledged_append_is_truncated_on_restart(self):
        f = self.ftp()
        self.put(f, "log.txt", b"a" * 1000)
        f.storbinary("APPE log.txt", io.BytesIO(b"b" * 500))  # acknowledged
        path = os.path.join(self.files_dir(), "log.txt")
        self.assertEqual(os.path.getsize(path), 1500)
        conn = f.transfercmd("APPE log.txt")
        chunk = b"c" * 65536
        for _ in range(8):
            conn.sendall(chunk)
        wait_until(lambda: os.path.getsize(path) > 1500, what="append in progress")
        self.server.kill()  # kill -9 before the 226
        conn.close()
        f.close()
        self.assertGreater(os.path.getsize(path), 1500)
        self.server.start()
        wait_until(lambda: os.path.getsize(path) == 1500, what="append undone")
        g = self.ftp()
        self.assertEqual(self.get(g, "log.txt"), b"a" * 1000 + b"b" * 500)
        self.assertFalse(any(n.startswith(".portico-up-") for n in os.listdir(self.files_dir())))
        g.quit()
