"""Counting a Maildir's delivered messages (new/ + cur/) for the benches
that wait for mail to arrive (bench/smtp, bench/relay)."""

import os


def count(maildir):
    n = 0
    for sub in ("new", "cur"):
        try:
            with os.scandir(os.path.join(maildir, sub)) as it:
                n += sum(1 for _ in it)
        except FileNotFoundError:
            pass
    return n
