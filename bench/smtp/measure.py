"""One measured run of bench/smtp: starts smtp-source against HOST:PORT,
samples the PSS of the server's processes while it runs, then waits until
the Maildir holds every message (files in new/ + cur/). Prints one line:

    <messages> <accept seconds> <end-to-end seconds> <peak PSS KiB> <procs>

accept = until smtp-source exits (every message got its 250); end to end =
until the last message is a file in the Maildir. The server's processes are
ROOT_PID and, with --tree, all of its descendants (Postfix's master and the
daemons it forks), summed per sample; the peak over the load is reported.

usage: measure.py [--tree] ROOT_PID MAILDIR PORT RECIPIENT MESSAGES SESSIONS SIZE
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from maildir_count import count  # noqa: E402

PSS_EVERY = 0.25  # seconds between PSS samples during the load
COUNT_EVERY = 0.01  # seconds between Maildir counts once smtp-source is done
TIMEOUT = 120  # seconds for one run, end to end


def children_map():
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def processes(root, tree):
    if not tree:
        return [root]
    kids, out, todo = children_map(), [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass  # a Postfix daemon that exited between listing and reading
    return 0


def main(argv):
    tree = argv[:1] == ["--tree"]
    if tree:
        argv = argv[1:]
    root, maildir, port, rcpt = int(argv[0]), argv[1], argv[2], argv[3]
    messages, sessions, size = argv[4], argv[5], argv[6]
    cmd = ["smtp-source", "-s", sessions, "-m", messages, "-l", size,
           "-f", "from@example.net", "-t", rcpt, "127.0.0.1:" + port]
    peak = procs = 0
    start = time.monotonic()
    src = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    while src.poll() is None:
        pids = processes(root, tree)
        total = sum(pss_kib(p) for p in pids)
        if total > peak:
            peak, procs = total, len(pids)
        try:
            src.wait(timeout=PSS_EVERY)  # returns as soon as it exits
        except subprocess.TimeoutExpired:
            pass
    accepted = time.monotonic() - start
    if src.returncode != 0:
        sys.exit(f"smtp-source exited with {src.returncode}")
    want = int(messages)
    while count(maildir) < want:
        if time.monotonic() - start > TIMEOUT:
            sys.exit(f"only {count(maildir)} of {want} messages arrived in {maildir}")
        time.sleep(COUNT_EVERY)
    done = time.monotonic() - start
    print(f"{want} {accepted:.3f} {done:.3f} {peak} {procs}")


if __name__ == "__main__":
    main(sys.argv[1:])
