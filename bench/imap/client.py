"""The IMAP benchmark client: one connection, one command at a time, each
timed from sending it to its tagged reply; the reply is found by scanning
for CRLF + tag from a moving offset (literals included: the generated mail
never holds a line starting with a tag), so the client spends little CPU
per byte. Prints "name seconds bytes" per step.
Usage: client.py HOST PORT USER PASSWORD [cold|warm]"""

import socket
import sys
import time


class Conn:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.n = 0
        self.line()  # greeting

    def line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                start, self.pos = self.pos, i + 2
                return bytes(self.buf[start:i])
            self.fill()

    def fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise SystemExit("connection closed")
        self.buf += chunk

    def cmd(self, text):
        """Sends a command; returns (seconds, reply bytes, tagged line)."""
        self.n += 1
        tag = b"T%d" % self.n
        start = self.pos
        t = time.perf_counter()
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        marker = b"\r\n" + tag + b" "
        scan = max(self.pos - 2, 0)
        while True:
            if self.buf.startswith(tag + b" ", self.pos):
                i = self.pos - 2
            else:
                i = self.buf.find(marker, scan)
            if i >= 0:
                end = self.buf.find(b"\r\n", i + 2)
                if end >= 0:
                    break
            else:
                scan = max(len(self.buf) - len(marker), scan)
            self.fill()
        dt = time.perf_counter() - t
        tagged = bytes(self.buf[i + 2:end])
        size = end + 2 - start
        self.pos = end + 2
        if self.pos > (8 << 20):
            del self.buf[:self.pos]
            self.pos = 0
        if b" OK" not in tagged[:len(tag) + 4]:
            raise SystemExit(f"{text!r}: {tagged!r}")
        return dt, size, tagged


STEPS = [
    ("fetch_envelope_first", "UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"),
    ("fetch_envelope_repeat", "UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"),
    ("fetch_bodies", "UID FETCH 1:* BODY.PEEK[]"),
    ("search_header", "UID SEARCH HEADER Subject x"),
    ("search_body", "UID SEARCH BODY x"),
    ("sort_date", "UID SORT (DATE) UTF-8 ALL"),
    ("thread_references", "UID THREAD REFERENCES UTF-8 ALL"),
]


def main(host, port, user, password):
    c = Conn(host, port)
    c.cmd(f"LOGIN {user} {password}")
    dt, size, _ = c.cmd("SELECT INBOX")
    print(f"select_cold {dt:.6f} {size}")
    for name, text in STEPS:
        dt, size, _ = c.cmd(text)
        print(f"{name} {dt:.6f} {size}")
    c.cmd("UID STORE 1:* -FLAGS.SILENT (\\Seen)")  # not timed: every message changes
    dt, size, _ = c.cmd("UID STORE 1:* +FLAGS (\\Seen)")
    print(f"store_seen {dt:.6f} {size}")
    c.cmd("LOGOUT")
    c = Conn(host, port)
    c.cmd(f"LOGIN {user} {password}")
    dt, size, _ = c.cmd("SELECT INBOX")
    print(f"select_warm {dt:.6f} {size}")
    c.cmd("LOGOUT")


if __name__ == "__main__":
    main(*sys.argv[1:5])
