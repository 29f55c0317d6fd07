"""A pipelining POP3 client for the benchmark: logs in, LISTs, then RETRs
every message with up to WINDOW commands in flight, and prints the number of
messages, the seconds the RETR phase took and the bytes received. Replies
are found by scanning for the multi-line terminator from a moving offset,
so the client spends little CPU per message."""

import socket
import sys
import time

WINDOW = 64
TERM = b"\r\n.\r\n"


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0

    def until(self, marker):
        """Consumes up to and including marker; returns the reply's first
        bytes (enough to check +OK) and its length."""
        while True:
            i = self.buf.find(marker, self.pos)
            if i >= 0:
                start, self.pos = self.pos, i + len(marker)
                head = bytes(self.buf[start:start + 16])
                length = self.pos - start
                if self.pos > (1 << 20):
                    del self.buf[:self.pos]
                    self.pos = 0
                return head, length
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise SystemExit("connection closed")
            self.buf += chunk

    def line(self):
        i = self.buf.find(b"\r\n", self.pos)
        while i < 0:
            self.buf += self.sock.recv(1 << 20)
            i = self.buf.find(b"\r\n", self.pos)
        start, self.pos = self.pos, i + 2
        return bytes(self.buf[start:i])


def main(host, port, user, password):
    s = socket.create_connection((host, int(port)))
    r = Reader(s)
    r.line()
    s.sendall(f"USER {user}\r\nPASS {password}\r\nSTAT\r\n".encode())
    for _ in range(2):
        line = r.line()
        if not line.startswith(b"+OK"):
            raise SystemExit(f"login failed: {line!r}")
    n = int(r.line().split()[1])
    s.sendall(b"LIST\r\n")
    r.until(TERM)
    t0 = time.perf_counter()
    sent = received = total = 0
    while received < n:
        if sent < n and sent - received < WINDOW // 2:
            batch = range(sent + 1, min(n, received + WINDOW) + 1)
            s.sendall(b"".join(b"RETR %d\r\n" % i for i in batch))
            sent = batch[-1]
        head, length = r.until(TERM)
        if not head.startswith(b"+OK"):
            raise SystemExit(f"RETR failed: {head!r}")
        total += length
        received += 1
    elapsed = time.perf_counter() - t0
    s.sendall(b"QUIT\r\n")
    s.close()
    print(f"{n} {elapsed:.4f} {total}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
