"""Helpers shared by the IMAP integration tests: TLS context, a logged-in
imaplib client, and a raw line client for what imaplib will not send
(malformed input, LITERAL+, SASL-IR)."""

import imaplib
import socket
import ssl

DOMAIN = "example.org"


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def login(server, user, password, port=None):
    m = imaplib.IMAP4("127.0.0.1", port or server.ports["imap"], timeout=10)
    m.login(user, password)
    return m


class Raw:
    """A line-oriented IMAP client over a plain socket."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        return self.f.readline()

    def cmd(self, text, tag=None):
        """Sends 'tag text' and returns (untagged lines, tagged line)."""
        tag = tag or text.split(" ", 1)[0]
        self.send(text + "\r\n")
        return self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            ln = self.line()
            if not ln:
                raise AssertionError(f"connection closed; got {lines}")
            if ln.startswith(tag.encode() + b" "):
                return lines, ln
            lines.append(ln)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
