#!/usr/bin/env bash
# bench/pop3: one client logs in, LISTs and RETRs 10,000 messages of about
# 4 KiB, pipelined; portico and Dovecot's POP3 server (Debian dovecot-pop3d)
# serve identical copies of the same Maildir in the same run. Prints
# messages/s for each (median of RUNS) and the ratio portico/dovecot.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BIN=${PORTICO_BIN:-$top/build/portico}
MESSAGES=${MESSAGES:-10000}
RUNS=${RUNS:-5}
work=$(mktemp -d /tmp/portico-bench-pop3.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${BENCH_KEEP:-}" ] && trap - EXIT


# The Maildir: 10,000 messages of about 4 KiB with LF line ends.
python3 - "$work/maildir" "$MESSAGES" <<'PY'
import os, sys, random
root, n = sys.argv[1], int(sys.argv[2])
for d in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(root, d))
rnd = random.Random(1)
words = [w.encode() for w in "lorem ipsum dolor sit amet consectetur adipiscing elit sed do".split()]
for i in range(n):
    body = b"\n".join(b" ".join(rnd.choice(words) for _ in range(12)) for _ in range(60))
    msg = (b"From: a@example.net\nTo: bench@example.org\nSubject: bench %d\n"
           b"Message-ID: <%d@bench>\n\n" % (i, i)) + body[:4000] + b"\n"
    with open(os.path.join(root, "cur", "17000%05d.M1P1Q%d.bench:2,S" % (i, i)), "wb") as f:
        f.write(msg)
PY

# portico
pport=$(free_port)
mkdir -p "$work/portico"
cat > "$work/portico/portico.ini" <<INI
[portico]
data_dir = $work/portico/data
domains = example.org
log_level = warn
[pop3]
listen = 127.0.0.1:$pport
INI
"$BIN" -c "$work/portico/portico.ini" serve >/dev/null 2>"$work/portico/log" &
pids+=($!)
wait_port "$pport"
echo bench-pw | "$BIN" -c "$work/portico/portico.ini" user add bench@example.org --password-stdin >/dev/null
mkdir -p "$work/portico/data/users/example.org/bench"
cp -a "$work/maildir" "$work/portico/data/users/example.org/bench/mail"

# Dovecot, with its own copy, on loopback, plaintext, one static user.
dport=$(free_port)
mkdir -p "$work/dovecot/run"
cp -a "$work/maildir" "$work/dovecot/Maildir"
# Dovecot will not read mail as root: its copy belongs to nobody.
chown -R nobody:nogroup "$work/dovecot/Maildir"
chmod 755 "$work" "$work/dovecot"
cat > "$work/dovecot/dovecot.conf" <<CONF
protocols = pop3
listen = 127.0.0.1
base_dir = $work/dovecot/run
state_dir = $work/dovecot/run
log_path = $work/dovecot/log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:$work/dovecot/Maildir
passdb {
  driver = static
  args = password=bench-pw
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$work/dovecot
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $dport
  }
}
default_login_user = dovenull
default_internal_user = dovecot
CONF
dovecot -F -c "$work/dovecot/dovecot.conf" &
pids+=($!)
wait_port "$dport"

run_client() { python3 "$here/client.py" 127.0.0.1 "$1" "$2" bench-pw; }
# Warm-up (index build, page cache) for both, not measured.
run_client "$pport" bench@example.org >/dev/null
run_client "$dport" bench >/dev/null

declare -a pr dr
for i in $(seq "$RUNS"); do
  read -r n t bytes < <(run_client "$pport" bench@example.org)
  pr+=("$(python3 -c "print($n/$t)")")
  read -r n t bytes < <(run_client "$dport" bench)
  dr+=("$(python3 -c "print($n/$t)")")
done
pm=$(median "${pr[@]}"); dm=$(median "${dr[@]}")
printf 'pop3 RETR %d msgs x %d runs: portico %.0f msg/s (runs: %s)\n' "$MESSAGES" "$RUNS" "$pm" "$(printf '%.0f ' "${pr[@]}")"
printf 'pop3 RETR %d msgs x %d runs: dovecot %.0f msg/s (runs: %s)\n' "$MESSAGES" "$RUNS" "$dm" "$(printf '%.0f ' "${dr[@]}")"
python3 -c "print(f'pop3 ratio portico/dovecot: {$pm/$dm:.2f}')"
