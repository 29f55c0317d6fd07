"""Crash leftovers (issue 14): every start sweeps what a crashed run left,
with a marker that does not depend on the PID (a server that is always
PID 1 in a container swept nothing), and Maildir tmp/ files older than 36
hours (the Maildir convention) are removed while fresh ones are kept."""

import os
import shutil
import stat
import time
import unittest

import portico
from portico import Server, wait_until


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"),
                     "needs root and unshare(1) for a PID namespace")
class SweepAsPidOne(unittest.TestCase):
    def test_sweep_when_always_pid_1(self):
        server = Server(services=("smtp",), tls=False)
        self.addCleanup(server.cleanup)
        home = os.path.join(server.data_dir, "users", "example.org", "alice")
        files = os.path.join(home, "files")
        os.makedirs(files)
        for sub in ("tmp", "new", "cur", ".Work/tmp"):
            os.makedirs(os.path.join(home, "mail", sub), exist_ok=True)
        # What a crashed PID 1 left: an upload, and old and new Maildir tmp files.
        upload = os.path.join(files, ".portico-up-1-ftp-9-9")
        old_tmp = os.path.join(home, "mail", "tmp", "1700000000.M1P1.host")
        old_folder_tmp = os.path.join(home, "mail", ".Work", "tmp", "1700000001.M1P1.host")
        fresh_tmp = os.path.join(home, "mail", "tmp", "1700000002.M1P1.host")
        for p in (upload, old_tmp, old_folder_tmp, fresh_tmp):
            with open(p, "wb") as f:
                f.write(b"half")
        old = time.time() - 37 * 3600
        for p in (old_tmp, old_folder_tmp):
            os.utime(p, (old, old))
        wrapper = os.path.join(server.tmp.name, "as-pid-1")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec unshare -p -f --kill-child=TERM "%s" "$@"\n'
                    % os.path.abspath(portico.BIN))
        os.chmod(wrapper, stat.S_IRWXU)
        real, portico.BIN = portico.BIN, wrapper
        try:
            server.start()
        finally:
            portico.BIN = real
        server.add_user("alice@example.org", "pw-alice-123")
        wait_until(lambda: not os.path.exists(upload), what="upload of PID 1 swept")
        wait_until(lambda: not os.path.exists(old_tmp) and not os.path.exists(old_folder_tmp),
                   what="old Maildir tmp files swept")
        self.assertTrue(os.path.exists(fresh_tmp))
        self.assertIn("removed_maildir_tmp=2", server.stderr())
        server.kill()
        server.check_sanitizers()


if __name__ == "__main__":
    unittest.main()
