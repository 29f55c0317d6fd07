#!/usr/bin/env bash
# bench/pop3: one client logs in, LISTs and RETRs 10,000 messages of about
# 4 KiB, pipelined (client.py, up to 64 commands in flight), and Python's
# poplib RETRs them one at a time (lockstep.py: each reply read before the
# next command, as mail clients fetch; issue 15); portico and Dovecot's POP3
# server (Debian dovecot-pop3d) serve identical copies of the same Maildir
# in the same run. Prints messages/s for each (median of RUNS) and the
# ratio portico/dovecot, with the load average before and after. COUNT=1
# adds the system calls per lock-step RETR of each server (strace -f -c,
# which follows Dovecot's per-login processes).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BIN=${PORTICO_BIN:-$top/build/portico}
MESSAGES=${MESSAGES:-10000}
RUNS=${RUNS:-5}
work=$(mktemp -d /tmp/portico-bench-pop3.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; free_ports_done; }
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
run_lockstep() { python3 "$here/lockstep.py" 127.0.0.1 "$1" "$2" bench-pw "${3:-0}"; }
# Warm-up (index build, page cache) for both, not measured.
run_client "$pport" bench@example.org >/dev/null
run_client "$dport" bench >/dev/null

echo "bench/pop3: load before: $(uptime | sed 's/.*load/load/')"
declare -a pr dr lr ldr
for i in $(seq "$RUNS"); do
  read -r n t bytes < <(run_client "$pport" bench@example.org)
  pr+=("$(python3 -c "print($n/$t)")")
  read -r n t bytes < <(run_client "$dport" bench)
  dr+=("$(python3 -c "print($n/$t)")")
  read -r n t bytes < <(run_lockstep "$pport" bench@example.org)
  lr+=("$(python3 -c "print($n/$t)")")
  read -r n t bytes < <(run_lockstep "$dport" bench)
  ldr+=("$(python3 -c "print($n/$t)")")
done
report() { # label portico-runs... -- dovecot-runs...
  local label=$1; shift
  local -a p=() d=()
  while [ "$1" != -- ]; do p+=("$1"); shift; done; shift
  d=("$@")
  local pm dm
  pm=$(median "${p[@]}"); dm=$(median "${d[@]}")
  printf 'pop3 %s RETR %d msgs x %d runs: portico %.0f msg/s (runs: %s)\n' "$label" "$MESSAGES" "$RUNS" "$pm" "$(printf '%.0f ' "${p[@]}")"
  printf 'pop3 %s RETR %d msgs x %d runs: dovecot %.0f msg/s (runs: %s)\n' "$label" "$MESSAGES" "$RUNS" "$dm" "$(printf '%.0f ' "${d[@]}")"
  python3 -c "print(f'pop3 $label ratio portico/dovecot: {$pm/$dm:.2f}')"
}
report pipelined "${pr[@]}" -- "${dr[@]}"
report lock-step "${lr[@]}" -- "${ldr[@]}"
echo "bench/pop3: load after: $(uptime | sed 's/.*load/load/')"

# ---- system calls per lock-step RETR (COUNT=1) ----
[ "${COUNT:-0}" = 1 ] || exit 0
count_n=${COUNT_MESSAGES:-2000}
strace_count() { # pid port user: strace -f -c of pid (and what it forks) during the run
  strace -f -c -o "$work/strace.$1" -p "$1" 2>/dev/null & local st=$!
  sleep 1
  run_lockstep "$2" "$3" "$count_n" >/dev/null
  sleep 0.5
  kill -INT "$st"; wait "$st" 2>/dev/null || true
  echo "syscalls per lock-step RETR ($count_n RETRs, login and QUIT included), pid $1:"
  awk -v n="$count_n" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
      v = $4 / n; t += v; if (v >= 0.01) printf "  %-16s %8.2f\n", $NF, v }
    END { printf "  %-16s %8.2f\n", "total", t }' "$work/strace.$1"
}
echo "portico:"; strace_count "${pids[0]}" "$pport" bench@example.org
echo "dovecot:"; strace_count "${pids[1]}" "$dport" bench
