"""Issue 13: the installed layout. `meson install` of the test build into a
temporary root (what `make install DESTDIR=...` runs), `make deb`'s package
unpacked into another, and the systemd unit of each checked with
`systemd-analyze verify`. Also: the generated documents match the key table.

systemd-analyze in this container: `verify` of a unit whose ExecStart= is
under the temporary root needs `--root=ROOT` (otherwise it looks for
/usr/sbin/portico on the host). With --root it also resolves
sysinit.target and the `kill` of ExecReload= inside ROOT, so the test copies
the host's *.target units and /usr/bin/kill there, as on a real system;
`--man=no` skips the man-page lookup of Documentation=."""

import glob
import os
import shutil
import subprocess
import tempfile
import unittest

from portico import BIN, run_cli

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.dirname(os.path.abspath(BIN))


def verify_unit(root, unit):
    """systemd-analyze verify in ROOT; returns (rc, output)."""
    for target in glob.glob("/usr/lib/systemd/system/*.target") + \
            glob.glob("/lib/systemd/system/*.target"):
        dest = os.path.join(root, "usr/lib/systemd/system", os.path.basename(target))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if not os.path.lexists(dest):
            shutil.copy(target, dest, follow_symlinks=True)
    os.makedirs(os.path.join(root, "usr/bin"), exist_ok=True)
    shutil.copy(shutil.which("kill"), os.path.join(root, "usr/bin/kill"))
    p = subprocess.run(["systemd-analyze", "verify", f"--root={root}", "--man=no", unit],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, (p.stdout + p.stderr).strip()


class GeneratedDocs(unittest.TestCase):
    """docs/CONFIG.md, the sample portico.conf and portico.conf(5) are what
    the key table writes (`make docs` regenerates them)."""

    def test_documents_match_the_key_table(self):
        for fmt, path in (("markdown", "docs/CONFIG.md"),
                          ("sample", "packaging/portico.conf"),
                          ("man", "man/portico.conf.5")):
            out = run_cli("config-reference", fmt).stdout
            with open(os.path.join(TOP, path)) as f:
                self.assertEqual(f.read(), out, f"{path} differs: run `make docs`")

    def test_every_key_documented_and_sample_is_valid(self):
        md = run_cli("config-reference", "markdown").stdout
        for key in ("`listen_tls`", "`min_password_length`", "`target`", "`format`",
                    "## `[metrics]`", "## `[log]`", "## `[relay]`", "`resolver`"):
            self.assertIn(key, md)
        with tempfile.TemporaryDirectory() as d:
            sample = os.path.join(d, "portico.conf")
            text = run_cli("config-reference", "sample").stdout
            with open(sample, "w") as f:
                f.write(text.replace("/var/lib/portico", os.path.join(d, "data")))
            p = run_cli("check-config", config=sample)
            self.assertIn("ok", p.stdout)
            self.assertFalse(os.path.exists(os.path.join(d, "data")))


class InstallTree(unittest.TestCase):
    def test_meson_install_into_destdir(self):
        with tempfile.TemporaryDirectory() as root:
            subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet",
                            "--destdir", root], check=True, capture_output=True, timeout=120)
            prefix = subprocess.run(["meson", "introspect", "--buildoptions", BUILD],
                                    capture_output=True, text=True, check=True).stdout
            import json
            opts = {o["name"]: o["value"] for o in json.loads(prefix)}
            pre = root + opts["prefix"]
            sysconf = opts["sysconfdir"]
            if not sysconf.startswith("/"):
                sysconf = os.path.join(opts["prefix"], sysconf)
            self.assertTrue(os.access(os.path.join(pre, "sbin/portico"), os.X_OK))
            conf = root + os.path.join(sysconf, "portico/portico.conf")
            with open(conf) as f, open(os.path.join(TOP, "packaging/portico.conf")) as g:
                self.assertEqual(f.read(), g.read())
            for rel in ("lib/sysusers.d/portico.conf", "lib/tmpfiles.d/portico.conf",
                        "share/man/man8/portico.8", "share/man/man5/portico.conf.5",
                        "share/bash-completion/completions/portico"):
                self.assertTrue(os.path.isfile(os.path.join(pre, rel)), rel)
            unit = os.path.join(pre, "lib/systemd/system/portico.service")
            with open(unit) as f:
                text = f.read()
            self.assertIn(f"ExecStart={opts['prefix']}/sbin/portico -c", text)
            rc, out = verify_unit(root, unit)
            self.assertEqual((rc, out), (0, ""))
            # A second install keeps an administrator's configuration.
            with open(conf, "w") as f:
                f.write("# mine\n")
            subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet",
                            "--destdir", root], check=True, capture_output=True, timeout=120)
            with open(conf) as f:
                self.assertEqual(f.read(), "# mine\n")

    def test_verify_catches_a_broken_unit(self):
        """The check is real: a unit with a bad ExecStart= fails it."""
        with tempfile.TemporaryDirectory() as root:
            d = os.path.join(root, "usr/lib/systemd/system")
            os.makedirs(d)
            unit = os.path.join(d, "broken.service")
            with open(unit, "w") as f:
                f.write("[Service]\nExecStart=not/absolute --x\n")
            rc, out = verify_unit(root, unit)
            self.assertNotEqual(rc, 0, out)

    def test_bash_completion_offers_subcommands(self):
        self.assertTrue(os.path.exists("/usr/share/bash-completion/bash_completion"),
                        "bash-completion is missing (scripts/deps.sh --test)")
        script = ("source /usr/share/bash-completion/bash_completion; "
                  f"source {TOP}/packaging/portico.bash-completion; "
                  "COMP_WORDS=(portico user ''); COMP_CWORD=2; _portico; "
                  "echo ${COMPREPLY[@]}")
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
        self.assertEqual(sorted(p.stdout.split()), ["add", "del", "key", "list", "passwd"])
        script = script.replace("COMP_WORDS=(portico user ''); COMP_CWORD=2",
                                "COMP_WORDS=(portico user key ''); COMP_CWORD=3")
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
        self.assertEqual(sorted(p.stdout.split()), ["add", "del", "list"])


class DebianPackage(unittest.TestCase):
    """`make deb` (debian/rules binary) in a copy of the tree; the package's
    files into a temporary root; the unit verified; the user and the data
    directory made there by systemd-sysusers / systemd-tmpfiles --root."""

    def test_package_layout_and_unit(self):
        if not shutil.which("dh"):
            self.fail("debhelper is missing (scripts/deps.sh --test installs it)")
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "src")
            files = subprocess.run(["git", "-C", TOP, "ls-files", "-co", "--exclude-standard"],
                                   capture_output=True, text=True, check=True).stdout.split()
            for rel in files:
                if rel.startswith("bench/") or not os.path.lexists(os.path.join(TOP, rel)):
                    continue
                os.makedirs(os.path.join(src, os.path.dirname(rel)), exist_ok=True)
                shutil.copy(os.path.join(TOP, rel), os.path.join(src, rel),
                            follow_symlinks=False)
            env = dict(os.environ, DEB_BUILD_OPTIONS="parallel=2 nocheck")
            p = subprocess.run(["debian/rules", "binary"], cwd=src, env=env,
                               capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-3000:])
            debs = glob.glob(os.path.join(src, "build-deb", "portico_*.deb"))
            self.assertEqual(len(debs), 1)
            root = os.path.join(tmp, "root")
            subprocess.run(["dpkg-deb", "-x", debs[0], root], check=True)
            ctl = os.path.join(tmp, "ctl")
            subprocess.run(["dpkg-deb", "-e", debs[0], ctl], check=True)
            with open(os.path.join(ctl, "conffiles")) as f:
                self.assertIn("/etc/portico/portico.conf", f.read())
            with open(os.path.join(ctl, "postinst")) as f:
                postinst = f.read()
            for tool in ("dh_installsysusers", "dh_installtmpfiles", "dh_installsystemd"):
                self.assertIn(tool, postinst)
            self.assertTrue(os.access(os.path.join(root, "usr/sbin/portico"), os.X_OK))
            unit = os.path.join(root, "lib/systemd/system/portico.service")
            with open(unit) as f:
                text = f.read()
            for line in ("ProtectSystem=strict", "ReadWritePaths=/var/lib/portico",
                         "NoNewPrivileges=yes", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                         "PrivateTmp=yes", "RestrictAddressFamilies=",
                         "SystemCallFilter=@system-service", "Type=notify", "User=portico",
                         "ExecStart=/usr/sbin/portico -c /etc/portico/portico.conf serve",
                         "ExecReload=kill -HUP $MAINPID"):
                self.assertIn(line, text)
            rc, out = verify_unit(root, unit)
            self.assertEqual((rc, out), (0, ""))
            os.makedirs(os.path.join(root, "etc"), exist_ok=True)
            subprocess.run(["systemd-sysusers", f"--root={root}"], check=True,
                           capture_output=True)
            with open(os.path.join(root, "etc/passwd")) as f:
                self.assertRegex(f.read(), r"(?m)^portico:x:\d+:\d+:portico server:/var/lib/portico:")
            subprocess.run(["systemd-tmpfiles", f"--root={root}", "--create",
                            "portico.conf"], check=True, capture_output=True)
            st = os.stat(os.path.join(root, "var/lib/portico"))
            self.assertEqual(oct(st.st_mode & 0o777), "0o700")


if __name__ == "__main__":
    unittest.main()
