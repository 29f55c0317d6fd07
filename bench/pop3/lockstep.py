"""A lock-step POP3 client for the benchmark, as real mail clients fetch:
Python's poplib logs in, then RETRs messages 1..N (all by default) one at
a time, each reply read whole before the next command is sent. Prints the
number of messages, the seconds the RETR phase took and the bytes
received, like client.py."""

import poplib
import sys
import time


def main(host, port, user, password, limit=0):
    p = poplib.POP3(host, int(port), timeout=60)
    p.user(user)
    p.pass_(password)
    n = p.stat()[0]
    if int(limit):
        n = min(n, int(limit))
    t0 = time.perf_counter()
    total = 0
    for i in range(1, n + 1):
        resp, lines, octets = p.retr(i)
        if not resp.startswith(b"+OK"):
            raise SystemExit(f"RETR {i} failed: {resp!r}")
        total += octets
    elapsed = time.perf_counter() - t0
    p.quit()
    print(f"{n} {elapsed:.4f} {total}")


if __name__ == "__main__":
    main(*sys.argv[1:6])
