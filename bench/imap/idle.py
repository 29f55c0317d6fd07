"""Memory per idle IMAP session: opens N connections that log in, SELECT
INBOX and IDLE, then prints the PSS growth of the server (the sum over the
given PID and all its descendants, as Dovecot runs a process per session)
per session in KiB. With "compress" last, each session turns on
COMPRESS=DEFLATE (RFC 4978) after LOGIN and sends the rest compressed.
Usage: idle.py HOST PORT USER PASSWORD N PID [compress]"""

import os
import resource
import selectors
import socket
import sys
import time
import zlib


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


def open_session(host, port, user, password, compress):
    """A connected socket that has sent LOGIN, SELECT and IDLE, and the
    function that turns what it receives into plain text."""
    s = socket.create_connection((host, int(port)))
    if not compress:
        s.sendall(f"a LOGIN {user} {password}\r\nb SELECT INBOX\r\nc IDLE\r\n".encode())
        return s, lambda data: data
    f = s.makefile("rb")
    s.sendall(f"a LOGIN {user} {password}\r\nz COMPRESS DEFLATE\r\n".encode())
    while not f.readline().startswith(b"z "):
        pass
    out, inflate = zlib.compressobj(6, zlib.DEFLATED, -15), zlib.decompressobj(-15)
    s.sendall(out.compress(b"b SELECT INBOX\r\nc IDLE\r\n") + out.flush(zlib.Z_SYNC_FLUSH))
    return s, inflate.decompress


def main(host, port, user, password, n, pid, mode=""):
    n, pid = int(n), int(pid)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 256), hard))
    time.sleep(0.5)
    before = pss(pid)
    sel = selectors.DefaultSelector()
    socks, waiting = [], set()
    for i in range(n):
        s, plain = open_session(host, port, user, password, mode == "compress")
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, (bytearray(), plain))
        socks.append(s)
        waiting.add(s)
    deadline = time.monotonic() + 120
    while waiting and time.monotonic() < deadline:
        for key, _ in sel.select(1):
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            text, plain = key.data
            text.extend(plain(data))
            if b"\r\n+ " in text or text.startswith(b"+ "):
                waiting.discard(key.fileobj)
                sel.unregister(key.fileobj)
            elif not data:
                raise SystemExit("session closed: %r" % bytes(text[-200:]))
    if waiting:
        raise SystemExit(f"{len(waiting)} sessions never idled")
    time.sleep(1)
    after = pss(pid)
    print(f"idle_pss_per_session_kib {(after - before) / n:.1f} {before} {after}")
    for s in socks:
        s.close()


if __name__ == "__main__":
    main(*sys.argv[1:8])
