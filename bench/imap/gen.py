"""Writes the benchmark Maildir: N messages of about 4 KiB with LF line
ends and realistic headers (trace fields, display names, Cc, dates over a
year, threads through In-Reply-To/References, list tags and Re: subjects),
a fifth multipart/alternative and one in twenty multipart/mixed with a
base64 attachment. Deterministic (seeded). Usage: gen.py DIR N"""

import base64
import os
import random
import sys

WORDS = ("the of and to in is that for it as was with be by on not he this are or his "
         "from at which but have an they you were her she there been one all we their "
         "has would when if so no will can more other what about up out into time fix "
         "next box tax mix review meeting report project update budget release notes "
         "server index mail thread search sort fetch").split()
NAMES = [("Alice Martin", "alice"), ("Bob Stone", "bob"), ("Carol Diaz", "carol"),
         ("Dave Kim", "dave"), ("Erin Wolf", "erin"), ("Frank Ode", "frank"),
         ("Grace Hu", "grace"), ("Heidi Berg", "heidi"), ("Ivan Petrov", "ivan"),
         ("Judy Moss", "judy")]
DOMAINS = ["example.net", "example.com", "mail.example.org", "lists.example.net"]
MON = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DAY = "Mon Tue Wed Thu Fri Sat Sun".split()


def addr(rnd):
    name, local = rnd.choice(NAMES)
    return f"{name} <{local}@{rnd.choice(DOMAINS)}>"


def text(rnd, size):
    out, n = [], 0
    while n < size:
        line = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 14)))
        out.append(line)
        n += len(line) + 1
    return "\n".join(out) + "\n"


def main(root, n):
    rnd = random.Random(9)
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    subjects = []
    t0 = 1764547200  # 2025-12-01
    for i in range(n):
        t = t0 + i * 3100 + rnd.randint(0, 3000)
        y, mo, d, hh, mm, ss, wd = __import__("time").gmtime(t)[:7]
        date = f"{DAY[wd]}, {d:02d} {MON[mo - 1]} {y} {hh:02d}:{mm:02d}:{ss:02d} +0000"
        mid = f"<{i}.{rnd.randint(1000, 9999)}@bench.example.net>"
        h = [f"Return-Path: <{NAMES[i % 10][1]}@example.net>",
             "Received: from mx.example.net (mx.example.net [192.0.2.10])",
             f"\tby mail.example.org with ESMTPS id {i:08x}; {date}",
             "Received: from client (unknown [198.51.100.7])",
             f"\tby mx.example.net with ESMTPSA; {date}"]
        h.append(f"From: {addr(rnd)}")
        h.append(f"To: Bench User <bench@example.org>, {addr(rnd)}")
        if rnd.random() < 0.3:
            h.append(f"Cc: {addr(rnd)}")
        if subjects and rnd.random() < 0.35:
            j = rnd.randrange(max(0, len(subjects) - 200), len(subjects))
            subj, pmid, prefs = subjects[j]
            refs = (prefs + " " + pmid).strip().split()[-10:]
            h.append(f"Subject: Re: {subj}")
            h.append(f"In-Reply-To: {pmid}")
            h.append("References: " + " ".join(refs))
            subjects.append((subj, mid, " ".join(refs)))
        else:
            subj = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 7)))
            if rnd.random() < 0.2:
                subj = "[bench-list] " + subj
            h.append(f"Subject: {subj}")
            subjects.append((subj, mid, ""))
        h += [f"Date: {date}", f"Message-ID: {mid}", "MIME-Version: 1.0",
              "User-Agent: bench-gen/1.0"]
        kind = rnd.random()
        if kind < 0.05:
            att = base64.encodebytes(os.urandom(600)).decode()
            h.append('Content-Type: multipart/mixed; boundary="mix"')
            body = ("This is a multi-part message in MIME format.\n--mix\n"
                    "Content-Type: text/plain; charset=utf-8\n\n" + text(rnd, 2600) +
                    "--mix\nContent-Type: application/octet-stream; name=\"data.bin\"\n"
                    "Content-Disposition: attachment; filename=\"data.bin\"\n"
                    "Content-Transfer-Encoding: base64\n\n" + att + "--mix--\n")
        elif kind < 0.25:
            plain = text(rnd, 1700)
            h.append('Content-Type: multipart/alternative; boundary="alt"')
            body = ("--alt\nContent-Type: text/plain; charset=utf-8\n\n" + plain +
                    "--alt\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>" +
                    plain.replace("\n", "</p>\n<p>") + "</p></body></html>\n--alt--\n")
        else:
            h.append("Content-Type: text/plain; charset=utf-8")
            body = text(rnd, 3400)
        data = ("\n".join(h) + "\n\n" + body).encode()
        flags = "S" if rnd.random() < 0.5 else ""
        name = f"{t}.M{i}P1Q{i}.bench:2,{flags}"
        with open(os.path.join(root, "cur", name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
