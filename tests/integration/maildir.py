"""Helpers for mail tests: read an account's Maildir as delivered, split the
trace lines portico prepends (Return-Path, Received) from the message, and
talk raw SMTP for the malformed-input cases."""

import os
import socket


def maildir(server, address, folder=""):
    local, domain = address.split("@")
    return os.path.join(server.data_dir, "users", domain, local, "mail", folder)


def delivered(server, address, folder=""):
    """Every message file in new/ and cur/, oldest first, as bytes."""
    out = []
    root = maildir(server, address, folder)
    for sub in ("new", "cur"):
        d = os.path.join(root, sub)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                out.append((name, f.read()))
    out.sort()
    return out


def split_trace(data):
    """(trace header lines, rest) where trace is Return-Path and Received
    (with its continuation lines)."""
    lines = data.split(b"\n")
    i = 0
    while i < len(lines) and (lines[i].startswith(b"Return-Path:") or
                              lines[i].startswith(b"Received:") or
                              lines[i].startswith(b"\t")):
        i += 1
    return lines[:i], b"\n".join(lines[i:])


def lf(data):
    """The stored form of a CRLF message."""
    return data.replace(b"\r\n", b"\n")


class Raw:
    """A raw SMTP connection for input no real client would send."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed; have %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """One (possibly multi-line) reply: (code, last line)."""
        while True:
            line = self.line()
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), line

    def cmd(self, text):
        self.send(text.encode() + b"\r\n")
        return self.reply()

    def closed(self):
        try:
            return self.sock.recv(1) == b""
        except OSError:
            return True

    def close(self):
        self.sock.close()
