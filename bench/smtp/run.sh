#!/usr/bin/env bash
# bench/smtp (issue 3 "Benchmark"): Postfix's smtp-source pushes MESSAGES
# messages of SIZE bytes over SESSIONS parallel sessions (a new connection
# per message, smtp-source's default) to portico and to a private Postfix
# instance delivering to a Maildir, in the same run, on free loopback ports.
# A run is timed end to end: from the start of smtp-source until the last
# message is a file in the recipient's Maildir (new/ + cur/). Each run goes
# to a fresh recipient (run1@, run2@ ...), so every run starts from an empty
# Maildir. Prints, per server, the median of RUNS runs (and each run) of the
# end-to-end and the accept rate (until smtp-source exits), the peak PSS
# during the load (portico's one process; Postfix's master and every daemon
# it forked, summed), and the ratio portico/postfix.
#   portico: the release build, default threads (one loop and one pool
#            thread per core), SMTP listener only, log_level = warn.
#   postfix: Debian's main.cf/master.cf copied into a temporary config
#            directory and edited with postconf: loopback only, smtpd on a
#            free port, no chroot, queue and data directories in the
#            temporary directory, example.org a virtual mailbox domain
#            delivered by virtual(8) to <base>/<local>/Maildir/ as nobody.
#            Everything else is Postfix's default (it logs to syslog, which
#            is absent here, like portico's warn level: neither pays for
#            per-message log lines). It runs as root; nothing system-wide is
#            touched, and the instance is stopped on exit.
# A second series (issue 15) sends LOW_MESSAGES over one session at a time
# (smtp-source -s 1: every reply awaited, so round trips and the fsync
# before each 250 are not hidden by concurrency).
# Environment: PORTICO_BIN (default build/portico), MESSAGES (10000),
# SESSIONS (20), SIZE (4096), RUNS (3), WARMUP (500 messages to each server
# first, not measured), LOW_MESSAGES (1000; 0 skips the one-session series).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BIN=${PORTICO_BIN:-$top/build/portico}
MESSAGES=${MESSAGES:-10000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-4096}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-500}
LOW_MESSAGES=${LOW_MESSAGES:-1000}

for tool in smtp-source postfix postconf; do
  command -v "$tool" >/dev/null || {
    echo "bench/smtp: $tool is missing (scripts/deps.sh --bench)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench/smtp: the private Postfix needs root" >&2; exit 1; }

work=$(mktemp -d /tmp/portico-bench-smtp.XXXXXX)
chmod 755 "$work"
pids=()
postfix_up=0
cleanup() {
  [ "$postfix_up" = 1 ] && postfix -c "$work/postfix/etc" stop >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ "${KEEP:-0}" = 1 ] && echo "bench/smtp: kept $work" >&2 || rm -rf "$work"
  free_ports_done
}
trap cleanup EXIT


# ---- portico ----
pport=$(free_port)
mkdir -p "$work/portico"
pini=$work/portico/portico.ini
cat > "$pini" <<INI
[portico]
data_dir = $work/portico/data
hostname = localhost
domains = example.org
log_level = warn
[smtp]
listen = 127.0.0.1:$pport
INI
"$BIN" -c "$pini" serve >/dev/null 2>"$work/portico/log" &
ppid=$!
pids+=("$ppid")
wait_port "$pport"
for u in warmup $(seq -f 'run%g' "$RUNS") $(seq -f 'low%g' "$RUNS"); do
  echo bench-pw | "$BIN" -c "$pini" user add "$u@example.org" --password-stdin >/dev/null
done
pmaildir() { echo "$work/portico/data/users/example.org/$1/mail"; }

# ---- postfix ----
fport=$(free_port)
pf=$work/postfix
mkdir -p "$pf/etc" "$pf/spool" "$pf/data" "$pf/mail"
cp /etc/postfix/main.cf /etc/postfix/master.cf "$pf/etc/"
chown postfix "$pf/data"
chown nobody:nogroup "$pf/mail"
for u in warmup $(seq -f 'run%g' "$RUNS") $(seq -f 'low%g' "$RUNS"); do echo "$u@example.org $u/Maildir/"; done > "$pf/etc/vmailbox"
postconf -c "$pf/etc" -e \
  "queue_directory = $pf/spool" "data_directory = $pf/data" \
  "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" \
  "myhostname = localhost" "mydestination = localhost" \
  "alias_maps =" "alias_database =" \
  "smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination" \
  "virtual_mailbox_domains = example.org" "virtual_mailbox_base = $pf/mail" \
  "virtual_mailbox_maps = texthash:$pf/etc/vmailbox" \
  "virtual_uid_maps = static:$(id -u nobody)" "virtual_gid_maps = static:$(id -g nobody)"
postconf -c "$pf/etc" -MX smtp/inet
# BENCH_LOG=1: Postfix logs to $work/postfix/maillog (kept: KEEP=1).
[ "${BENCH_LOG:-0}" = 1 ] &&
  postconf -c "$pf/etc" -e "maillog_file_prefixes = $work" "maillog_file = $pf/maillog"
postconf -c "$pf/etc" -M "$fport/inet = $fport inet n - n - - smtpd"
postconf -c "$pf/etc" -F '*/*/chroot = n'
postfix -c "$pf/etc" start >/dev/null 2>&1 || {
  echo "bench/smtp: postfix did not start (postfix -c $pf/etc check)" >&2; exit 1; }
postfix_up=1
wait_port "$fport"
fpid=$(tr -d ' ' < "$pf/spool/pid/master.pid")
fmaildir() { echo "$pf/mail/$1/Maildir"; }

measure() { # tree-flag root-pid maildir port rcpt messages [sessions]
  python3 "$here/measure.py" $1 "$2" "$3" "$4" "$5" "$6" "${7:-$SESSIONS}" "$SIZE"
}

# Warm-up, not measured: page cache, Postfix's daemons, portico's pool.
measure "" "$ppid" "$(pmaildir warmup)" "$pport" warmup@example.org "$WARMUP" >/dev/null
measure --tree "$fpid" "$(fmaildir warmup)" "$fport" warmup@example.org "$WARMUP" >/dev/null

echo "bench/smtp: load before: $(uptime | sed 's/.*load/load/')"
declare -a pe pa pm fe fa fm fp le lfe
for i in $(seq "$RUNS"); do
  read -r n acc e2e pss _ < <(measure "" "$ppid" "$(pmaildir "run$i")" "$pport" "run$i@example.org" "$MESSAGES")
  pe+=("$(python3 -c "print($n/$e2e)")"); pa+=("$(python3 -c "print($n/$acc)")"); pm+=("$pss")
  read -r n acc e2e pss procs < <(measure --tree "$fpid" "$(fmaildir "run$i")" "$fport" "run$i@example.org" "$MESSAGES")
  fe+=("$(python3 -c "print($n/$e2e)")"); fa+=("$(python3 -c "print($n/$acc)")"); fm+=("$pss"); fp+=("$procs")
  [ "$LOW_MESSAGES" -gt 0 ] || continue
  read -r n acc e2e _ < <(measure "" "$ppid" "$(pmaildir "low$i")" "$pport" "low$i@example.org" "$LOW_MESSAGES" 1)
  le+=("$(python3 -c "print($n/$e2e)")")
  read -r n acc e2e _ < <(measure --tree "$fpid" "$(fmaildir "low$i")" "$fport" "low$i@example.org" "$LOW_MESSAGES" 1)
  lfe+=("$(python3 -c "print($n/$e2e)")")
done
# Every message made it, and nothing more (a short count would have failed above).
for i in $(seq "$RUNS"); do
  check_delivered bench/smtp "$MESSAGES" "$(pmaildir "run$i")" "$(fmaildir "run$i")"
done

runs() { printf '%.0f ' "$@"; }
pem=$(median "${pe[@]}"); fem=$(median "${fe[@]}")
pam=$(median "${pa[@]}"); fam=$(median "${fa[@]}")
pmm=$(median "${pm[@]}"); fmm=$(median "${fm[@]}")
label="smtp $MESSAGES msgs x $SIZE B, $SESSIONS sessions, median of $RUNS"
printf '%s: portico end-to-end %.0f msg/s (runs: %s), accept %.0f msg/s (runs: %s)\n' \
  "$label" "$pem" "$(runs "${pe[@]}")" "$pam" "$(runs "${pa[@]}")"
printf '%s: postfix end-to-end %.0f msg/s (runs: %s), accept %.0f msg/s (runs: %s)\n' \
  "$label" "$fem" "$(runs "${fe[@]}")" "$fam" "$(runs "${fa[@]}")"
python3 -c "print(f'smtp ratio portico/postfix end-to-end: {$pem/$fem:.2f}  accept: {$pam/$fam:.2f}')"
if [ "$LOW_MESSAGES" -gt 0 ]; then
  lem=$(median "${le[@]}"); lfm=$(median "${lfe[@]}")
  printf 'smtp %s msgs, 1 session (smtp-source -s 1): portico end-to-end %.0f msg/s (runs: %s), postfix %.0f msg/s (runs: %s), ratio %s\n' \
    "$LOW_MESSAGES" "$lem" "$(runs "${le[@]}")" "$lfm" "$(runs "${lfe[@]}")" "$(ratio "$lem" "$lfm")"
fi
echo "bench/smtp: load after: $(uptime | sed 's/.*load/load/')"
printf 'smtp peak PSS during load: portico %.1f MiB (1 process; runs: %s KiB), postfix %.1f MiB (%s processes; runs: %s KiB)\n' \
  "$(python3 -c "print($pmm/1024)")" "$(runs "${pm[@]}")" \
  "$(python3 -c "print($fmm/1024)")" "$(median "${fp[@]}")" "$(runs "${fm[@]}")"
