#!/usr/bin/env bash
# bench/relay (issue 10 "Benchmark"): MESSAGES messages of SIZE bytes are
# submitted over SESSIONS connections (bench/relay/measure.py, Python's
# smtplib, message after message on each connection) to a first server for
# b.test, which relays them to a second server that delivers them into a
# Maildir; a run is timed from the first submission until the last message
# is a file in the receiving Maildir (new/ + cur/). Two pairs in the same
# run, on free loopback ports:
#   portico A -> portico B: A (a.test) takes the messages on submission
#            (AUTH PLAIN; plaintext allowed on loopback for the bench so
#            neither side pays TLS) and relays through `[relay] route =
#            b.test 127.0.0.1:PORT` (default concurrency: 10 connections per
#            destination) to B's SMTP listener; both the release build,
#            default threads, log_level = warn. A fsyncs each queue entry
#            before its 250, B each delivery before its 250.
#   postfix A -> postfix B: two private instances, as bench/smtp runs one
#            (Debian's main.cf/master.cf copied and edited with postconf,
#            loopback, no chroot, own queue and data directories). A has
#            `relayhost = [127.0.0.1]:PORT` (B) and Postfix's default
#            concurrency (20 per destination, connection caching on); B
#            delivers b.test with virtual(8) to a Maildir.
#   Both A->B hops use STARTTLS (see below), as MX to MX does. Postfix fsyncs
#            every queue file (cleanup) before its 250 and every Maildir
#            file (virtual) before removing it from its queue.
# Each run goes to a fresh recipient (run1@b.test ...). Prints the median
# of RUNS runs (and each run) of the end-to-end and accept rates per pair,
# the ratio portico/postfix, the CPU time per message of each pair (user +
# system of both servers, /proc/PID/stat; Postfix's reaped children
# included), and the load average before and after.
# Environment: PORTICO_BIN (default build/portico), MESSAGES (5000),
# SESSIONS (10), SIZE (4096), RUNS (3), WARMUP (300), PER_DEST (portico A's
# [relay] max_per_destination; empty: its default, 10; 20 compares at
# Postfix's default concurrency), BENCH_PORTS (LOW-HIGH: the ports come from
# that range, bench/lib.sh), SYSCALLS (1: after the timed runs, one more run
# of MESSAGES per pair under `strace -f -c` attached to every process of each
# server, printing fsync/fdatasync/rename/unlink/openat per message for A and
# B of each pair; a traced run is slow and its rate is not reported),
# BENCH_DIR (default /tmp: where the run's directories go; e.g. the mount
# point of a fresh ext4 with a journal, see docs/PERFORMANCE.md).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BIN=${PORTICO_BIN:-$top/build/portico}
MESSAGES=${MESSAGES:-5000}
SESSIONS=${SESSIONS:-10}
SIZE=${SIZE:-4096}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-300}

for tool in postfix postconf; do
  command -v "$tool" >/dev/null || {
    echo "bench/relay: $tool is missing (scripts/deps.sh --bench)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench/relay: the private Postfix needs root" >&2; exit 1; }

work=$(mktemp -d "${BENCH_DIR:-/tmp}/portico-bench-relay.XXXXXX")
chmod 755 "$work"
pids=()
postfixes=()
cleanup() {
  for etc in "${postfixes[@]}"; do postfix -c "$etc" stop >/dev/null 2>&1 || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ "${KEEP:-0}" = 1 ] && echo "bench/relay: kept $work" >&2 || rm -rf "$work"
  free_ports_done
}
trap cleanup EXIT
users="warmup $(seq -f 'run%g' "$RUNS")"

# ---- portico A -> portico B ----
pb_port=$(free_port); pa_port=$(free_port)
mkdir -p "$work/pb" "$work/pa"
cat > "$work/pb/portico.ini" <<INI
[portico]
data_dir = $work/pb/data
hostname = mx.b.test
domains = b.test
log_level = warn
[smtp]
listen = 127.0.0.1:$pb_port
INI
cat > "$work/pa/portico.ini" <<INI
[portico]
data_dir = $work/pa/data
hostname = mx.a.test
domains = a.test
log_level = warn
[auth]
allow_plaintext_auth = yes
[submission]
listen = 127.0.0.1:$pa_port
[relay]
route = b.test 127.0.0.1:$pb_port
${PER_DEST:+max_per_destination = $PER_DEST}
INI
for s in pb pa; do
  "$BIN" -c "$work/$s/portico.ini" serve >/dev/null 2>"$work/$s/log" &
  pids+=("$!")
done
wait_port "$pb_port"; wait_port "$pa_port"
for u in $users; do
  echo bench-pw | "$BIN" -c "$work/pb/portico.ini" user add "$u@b.test" --password-stdin >/dev/null
done
echo bench-pw | "$BIN" -c "$work/pa/portico.ini" user add "bench@a.test" --password-stdin >/dev/null
pmaildir() { echo "$work/pb/data/users/b.test/$1/mail"; }

# ---- postfix A -> postfix B ----
# postfix_instance NAME PORT [postconf settings...]: a private instance.
postfix_instance() {
  local name=$1 port=$2; shift 2
  local pf=$work/$name
  mkdir -p "$pf/etc" "$pf/spool" "$pf/data" "$pf/mail"
  cp /etc/postfix/main.cf /etc/postfix/master.cf "$pf/etc/"
  chown postfix "$pf/data"
  chown nobody:nogroup "$pf/mail"
  : > "$pf/etc/vmailbox"
  postconf -c "$pf/etc" -e \
    "queue_directory = $pf/spool" "data_directory = $pf/data" \
    "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" \
    "myhostname = mx.$name.test" "mydestination =" "mynetworks = 127.0.0.0/8" \
    "alias_maps =" "alias_database =" "smtp_host_lookup = native" \
    "smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination" "$@"
  postconf -c "$pf/etc" -MX smtp/inet
  postconf -c "$pf/etc" -M "$port/inet = $port inet n - n - - smtpd"
  postconf -c "$pf/etc" -M "tlsproxy/unix = tlsproxy unix - - n - 0 tlsproxy"
  postconf -c "$pf/etc" -F '*/*/chroot = n'
  postfix -c "$pf/etc" start >/dev/null 2>&1 || {
    echo "bench/relay: postfix $name did not start (postfix -c $pf/etc check)" >&2; exit 1; }
  postfixes+=("$pf/etc")
  wait_port "$port"
}
fb_port=$(free_port); fa_port=$(free_port)
mkdir -p "$work/fb/etc"
for u in $users; do echo "$u@b.test $u/Maildir/"; done > "$work/fb.vmailbox"
# Both pairs relay over STARTTLS, as MX hosts do: portico B offers it with
# its generated certificate and A's routes are opportunistic; Postfix B gets
# a self-signed certificate and A `smtp_tls_security_level = may` with
# `smtp_tls_connection_reuse = yes` (through tlsproxy(8); Postfix's default,
# no, would open a new connection and handshake for every message). The
# report prints the TLS part of one delivered message's Received: line of
# each pair, so a pair that fell back to plaintext shows.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.fb.test \
  -keyout "$work/fb.key" -out "$work/fb.crt" >/dev/null 2>&1
postfix_instance fb "$fb_port" \
  "smtpd_tls_cert_file = $work/fb.crt" "smtpd_tls_key_file = $work/fb.key" \
  "smtpd_tls_security_level = may" "smtpd_tls_received_header = yes" \
  "virtual_mailbox_domains = b.test" "virtual_mailbox_base = $work/fb/mail" \
  "virtual_mailbox_maps = texthash:$work/fb.vmailbox" \
  "virtual_uid_maps = static:$(id -u nobody)" "virtual_gid_maps = static:$(id -g nobody)"
postfix_instance fa "$fa_port" "relayhost = [127.0.0.1]:$fb_port" \
  "smtp_tls_security_level = may" "smtp_tls_connection_reuse = yes"
fmaildir() { echo "$work/fb/mail/$1/Maildir"; }

measure_portico() { # recipient messages
  python3 "$here/measure.py" "$pa_port" "$1@b.test" "$(pmaildir "$1")" "$2" "$SESSIONS" \
    "$SIZE" bench@a.test bench-pw
}
measure_postfix() {
  python3 "$here/measure.py" "$fa_port" "$1@b.test" "$(fmaildir "$1")" "$2" "$SESSIONS" "$SIZE"
}

# CPU seconds used so far (user + system, every thread; with the children
# that exited and were reaped, so Postfix's short-lived processes count).
cpu_of() { # pids...
  local hz; hz=$(getconf CLK_TCK)
  for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done |
    awk -v hz="$hz" '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%.2f\n", t / hz }'
}
portico_cpu() { cpu_of "${pids[@]}"; }
postfix_cpu() { # both instances: every master and what runs below it
  local all=()
  for etc in "${postfixes[@]}"; do all+=($(postfix_pids "$etc")); done
  cpu_of "${all[@]}"
}
# The PIDs of a Postfix instance: its master and every process below it.
postfix_pids() { # etc
  local master; master=$(head -1 "$1/../spool/pid/master.pid" | tr -d ' ')
  echo "$master" $(ps -o pid= --ppid "$master")
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Warm-up, not measured: page cache, Postfix's daemons, portico's pools.
measure_portico warmup "$WARMUP" >/dev/null
measure_postfix warmup "$WARMUP" >/dev/null

declare -a pe pa fe fa
pcpu=0; fcpu=0
for i in $(seq "$RUNS"); do
  c0=$(portico_cpu)
  read -r n acc e2e < <(measure_portico "run$i" "$MESSAGES")
  pcpu=$(python3 -c "print($pcpu + $(portico_cpu) - $c0)")
  pe+=("$(python3 -c "print($n/$e2e)")"); pa+=("$(python3 -c "print($n/$acc)")")
  c0=$(postfix_cpu)
  read -r n acc e2e < <(measure_postfix "run$i" "$MESSAGES")
  fcpu=$(python3 -c "print($fcpu + $(postfix_cpu) - $c0)")
  fe+=("$(python3 -c "print($n/$e2e)")"); fa+=("$(python3 -c "print($n/$acc)")")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# strace_attach FILE PIDS...: traces them into FILE; its PID in $tracer.
strace_attach() {
  local file=$1; shift
  local args=()
  for p in "$@"; do args+=(-p "$p"); done
  strace -f -c -q -o "$file" "${args[@]}" >/dev/null 2>&1 &
  tracer=$!
}
# strace_stop PIDS...: ends the tracers and waits (10 s at most) for their tables.
strace_stop() {
  kill -INT "$@" 2>/dev/null || true
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}
# strace_report LABEL FILE MESSAGES: per-message counts of the durable-cost
# calls in strace -c's table (every thread and child of every PID).
strace_report() {
  awk -v label="$1" -v n="$3" '
    $NF ~ /^(fsync|fdatasync|rename|renameat|renameat2|unlink|unlinkat|openat|open)$/ {
      c[$NF] += $4 }
    END { printf "syscalls per message, %s:", label
          split("fsync fdatasync rename renameat renameat2 unlink unlinkat openat", k, " ")
          for (i = 1; i in k; i++) if (c[k[i]] > 0) printf " %s %.2f", k[i], c[k[i]] / n
          printf "\n" }' "$2"
}
if [ "${SYSCALLS:-0}" = 1 ]; then
  command -v strace >/dev/null || { echo "bench/relay: strace is missing" >&2; exit 1; }
  users="$users syscalls"
  for s in pb; do echo bench-pw | "$BIN" -c "$work/$s/portico.ini" user add "syscalls@b.test" --password-stdin >/dev/null; done
  echo "syscalls@b.test syscalls/Maildir/" >> "$work/fb.vmailbox"
  postfix -c "$work/fb/etc" reload >/dev/null 2>&1
  sleep 1
  strace_attach "$work/st.pa" "${pids[1]}"; sa=$tracer
  strace_attach "$work/st.pb" "${pids[0]}"; sb=$tracer
  sleep 1
  measure_portico syscalls "$MESSAGES" >/dev/null
  strace_stop "$sa" "$sb"
  strace_report "portico A (submission + queue + relay)" "$work/st.pa" "$MESSAGES"
  strace_report "portico B (smtp + Maildir)" "$work/st.pb" "$MESSAGES"
  # shellcheck disable=SC2046
  strace_attach "$work/st.fa" $(postfix_pids "$work/fa/etc"); sa=$tracer
  # shellcheck disable=SC2046
  strace_attach "$work/st.fb" $(postfix_pids "$work/fb/etc"); sb=$tracer
  sleep 1
  measure_postfix syscalls "$MESSAGES" >/dev/null
  strace_stop "$sa" "$sb"
  strace_report "postfix A (smtpd + cleanup + qmgr + smtp)" "$work/st.fa" "$MESSAGES"
  strace_report "postfix B (smtpd + cleanup + qmgr + virtual)" "$work/st.fb" "$MESSAGES"
fi
# Every message made it, and nothing more.
for i in $(seq "$RUNS"); do
  check_delivered bench/relay "$MESSAGES" "$(pmaildir "run$i")" "$(fmaildir "run$i")"
done

runs() { printf '%.0f ' "$@"; }
pem=$(median "${pe[@]}"); fem=$(median "${fe[@]}")
pam=$(median "${pa[@]}"); fam=$(median "${fa[@]}")
label="relay $MESSAGES msgs x $SIZE B, $SESSIONS sessions${PER_DEST:+, portico max_per_destination $PER_DEST}, median of $RUNS"
printf '%s: portico A->B end-to-end %.0f msg/s (runs: %s), accept %.0f msg/s (runs: %s)\n' \
  "$label" "$pem" "$(runs "${pe[@]}")" "$pam" "$(runs "${pa[@]}")"
printf '%s: postfix A->B end-to-end %.0f msg/s (runs: %s), accept %.0f msg/s (runs: %s)\n' \
  "$label" "$fem" "$(runs "${fe[@]}")" "$fam" "$(runs "${fa[@]}")"
python3 -c "print(f'relay ratio portico/postfix end-to-end: {$pem/$fem:.2f}  accept: {$pam/$fam:.2f}')"
python3 -c "n = $RUNS * $MESSAGES; print(f'relay CPU per message (both servers of the pair, user+system): portico {$pcpu * 1e6 / n:.0f} us, postfix {$fcpu * 1e6 / n:.0f} us')"
echo "relay load average (1/5/15 min): before $load_before, after $load_after ($(nproc) cores)"
# hop_protocol MAILDIR: the "with" of B's Received: line in one message
# (ESMTPS/ESMTPSA: the A->B hop was TLS).
hop_protocol() {
  local f; f=$(find "$1/new" "$1/cur" -type f 2>/dev/null | head -1)
  grep -m1 -o 'with E\?SMTP[A-Z]*' "$f" 2>/dev/null || echo "unknown"
}
echo "relay A->B hop: portico $(hop_protocol "$(pmaildir run1)"), postfix $(hop_protocol "$(fmaildir run1)")"
