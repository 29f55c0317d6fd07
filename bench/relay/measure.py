"""One measured run of bench/relay: SESSIONS connections (threads, Python's
smtplib) submit MESSAGES messages of about SIZE bytes to HOST:PORT (with
AUTH PLAIN when USER and PASSWORD are given), each connection sending
message after message; then waits until MAILDIR (the final recipient's, on
the receiving server) holds every one of them (files in new/ + cur/).
Prints one line:

    <messages> <accept seconds> <end-to-end seconds>

accept = until the last message got its 250 from the first server; end to
end = until the last message is a file in the receiving Maildir.

usage: measure.py PORT RECIPIENT MAILDIR MESSAGES SESSIONS SIZE [USER PASSWORD]
"""

import os
import smtplib
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from maildir_count import count  # noqa: E402

COUNT_EVERY = 0.01  # seconds between Maildir counts once submission is done
TIMEOUT = 300  # seconds for one run, end to end


def message(i, size, rcpt):
    head = (f"From: bench@a.test\r\nTo: {rcpt}\r\nSubject: relay bench {i}\r\n"
            f"Message-ID: <bench-{i}-{time.time_ns()}@a.test>\r\n\r\n")
    line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghij.\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return (head + body).encode()


def main(argv):
    port, rcpt, maildir = int(argv[0]), argv[1], argv[2]
    messages, sessions, size = int(argv[3]), int(argv[4]), int(argv[5])
    user, password = (argv[6], argv[7]) if len(argv) >= 8 else (None, None)
    lock = threading.Lock()
    state = {"next": 0, "errors": []}

    def worker():
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
                if user:
                    c.login(user, password)
                while True:
                    with lock:
                        i = state["next"]
                        if i >= messages:
                            return
                        state["next"] += 1
                    c.sendmail("bench@a.test", [rcpt], message(i, size, rcpt))
        except Exception as e:  # reported below; the run then fails
            with lock:
                state["errors"].append(repr(e))

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accept = time.monotonic() - start
    if state["errors"]:
        print("submission failed: " + state["errors"][0], file=sys.stderr)
        return 1
    deadline = start + TIMEOUT
    while count(maildir) < messages:
        if time.monotonic() > deadline:
            print(f"timed out: {count(maildir)} of {messages} in {maildir}", file=sys.stderr)
            return 1
        time.sleep(COUNT_EVERY)
    e2e = time.monotonic() - start
    print(f"{messages} {accept:.3f} {e2e:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
