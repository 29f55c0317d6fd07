"""Memory per idle IMAP session: opens N connections that log in, SELECT
INBOX and IDLE, then prints the PSS growth of the server (the sum over the
given PID and all its descendants, as Dovecot runs a process per session)
per session in KiB. Usage: idle.py HOST PORT USER PASSWORD N PID"""

import os
import resource
import selectors
import socket
import sys
import time


def tree(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def pss(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def main(host, port, user, password, n, pid):
    n, pid = int(n), int(pid)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 256), hard))
    time.sleep(0.5)
    before = pss(pid)
    sel = selectors.DefaultSelector()
    socks, waiting = [], set()
    for i in range(n):
        s = socket.create_connection((host, int(port)))
        s.sendall(f"a LOGIN {user} {password}\r\nb SELECT INBOX\r\nc IDLE\r\n".encode())
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, bytearray())
        socks.append(s)
        waiting.add(s)
    deadline = time.monotonic() + 120
    while waiting and time.monotonic() < deadline:
        for key, _ in sel.select(1):
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            key.data.extend(data)
            if b"\r\n+ " in key.data or key.data.startswith(b"+ "):
                waiting.discard(key.fileobj)
                sel.unregister(key.fileobj)
            elif not data:
                raise SystemExit("session closed: %r" % bytes(key.data[-200:]))
    if waiting:
        raise SystemExit(f"{len(waiting)} sessions never idled")
    time.sleep(1)
    after = pss(pid)
    print(f"idle_pss_per_session_kib {(after - before) / n:.1f} {before} {after}")
    for s in socks:
        s.close()


if __name__ == "__main__":
    main(*sys.argv[1:7])
