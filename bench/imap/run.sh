#!/usr/bin/env bash
# bench/imap: the same 10,000-message Maildir (about 4 KiB each, realistic
# headers, some multipart; gen.py) served by portico and by Dovecot's IMAP
# server (Debian dovecot-imapd) in the same run, each from its own copy.
# Per run, both indexes are removed first (cold), then client.py times:
# cold SELECT, UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)
# first and repeated, UID FETCH 1:* BODY.PEEK[], UID SEARCH HEADER Subject
# x, UID SEARCH BODY x, UID SORT (DATE) UTF-8 ALL, UID THREAD REFERENCES
# UTF-8 ALL, UID STORE 1:* +FLAGS (\Seen), and a warm SELECT. Prints the
# median of RUNS for each and the ratio portico/dovecot; then the PSS
# growth per session with IDLE_SESSIONS logged-in sessions in IDLE, plain
# and with COMPRESS=DEFLATE (Dovecot with its imap_zlib plugin).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BIN=${PORTICO_BIN:-$top/build/portico}
MESSAGES=${MESSAGES:-10000}
RUNS=${RUNS:-5}
IDLE_SESSIONS=${IDLE_SESSIONS:-1000}
work=$(mktemp -d /tmp/portico-bench-imap.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; free_ports_done; }
trap cleanup EXIT
[ -n "${BENCH_KEEP:-}" ] && trap - EXIT

python3 "$here/gen.py" "$work/maildir" "$MESSAGES"

# portico
pport=$(free_port)
mkdir -p "$work/portico"
cat > "$work/portico/portico.ini" <<INI
[portico]
data_dir = $work/portico/data
domains = example.org
log_level = warn
max_connections_per_ip = 100000
[imap]
listen = 127.0.0.1:$pport
listen_tls =
INI
"$BIN" -c "$work/portico/portico.ini" serve >/dev/null 2>"$work/portico/log" &
ppid=$!
pids+=($ppid)
wait_port "$pport"
echo bench-pw | "$BIN" -c "$work/portico/portico.ini" user add bench@example.org --password-stdin >/dev/null
pmail="$work/portico/data/users/example.org/bench/mail"
mkdir -p "$(dirname "$pmail")"
cp -a "$work/maildir" "$pmail"

# Dovecot: its own copy, index and control files apart (so "cold" is
# removing them), a passwd-file user, plaintext on loopback.
dport=$(free_port)
dd="$work/dovecot"
mkdir -p "$dd/run" "$dd/home"
cp -a "$work/maildir" "$dd/Maildir"
chown -R nobody:nogroup "$dd/Maildir" "$dd/home"
chmod 755 "$work" "$dd"
echo "bench:{PLAIN}bench-pw:65534:65534::$dd/home::userdb_mail=maildir:$dd/Maildir:INDEX=$dd/home/index:CONTROL=$dd/home/control" > "$dd/passwd"
cat > "$dd/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $dd/run
state_dir = $dd/run
log_path = $dd/log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_max_userip_connections = 100000
default_process_limit = 5000
default_client_limit = 10000
service anvil {
  client_limit = 20000
}
passdb {
  driver = passwd-file
  args = $dd/passwd
}
userdb {
  driver = passwd-file
  args = $dd/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $dport
  }
  inet_listener imaps {
    port = 0
  }
}
service imap {
  process_limit = 5000
}
default_login_user = dovenull
default_internal_user = dovecot
CONF
dovecot -F -c "$dd/dovecot.conf" &
dpid=$!
pids+=($dpid)
wait_port "$dport"

# Cold: each server's index files are removed. portico's index.db and
# its WAL are emptied first, which frees their blocks here, outside the
# timing: portico keeps an idle handle open on them, so a plain rm left
# the freeing of the previous run's 10-15 MB to the close of that handle,
# inside the next cold SELECT (30 ms of it, strace), while Dovecot's
# files are freed by the rm itself. (Not the -shm: it is mapped.)
cold_portico() {
  truncate -s 0 "$pmail"/index.db "$pmail"/index.db-wal 2>/dev/null || true
  rm -f "$pmail"/index.db "$pmail"/index.db-wal "$pmail"/index.db-shm
}
cold_dovecot() { rm -rf "$dd/home/index" "$dd/home/control"; }
run_client() { python3 "$here/client.py" 127.0.0.1 "$1" "$2" bench-pw; }

# Warm-up (page cache, module loading), not measured.
cold_portico; run_client "$pport" bench@example.org >/dev/null
cold_dovecot; run_client "$dport" bench >/dev/null

for i in $(seq "$RUNS"); do
  cold_portico; run_client "$pport" bench@example.org > "$work/p.$i"
  cold_dovecot; run_client "$dport" bench > "$work/d.$i"
done

printf '%-22s %12s %12s %7s\n' "imap $MESSAGES msgs" portico dovecot ratio
for step in select_cold select_warm fetch_envelope_first fetch_envelope_repeat fetch_bodies \
            search_header search_body sort_date thread_references store_seen; do
  # shellcheck disable=SC2046
  pm=$(median $(awk -v s="$step" '$1 == s {print $2}' "$work"/p.*))
  # shellcheck disable=SC2046
  dm=$(median $(awk -v s="$step" '$1 == s {print $2}' "$work"/d.*))
  printf '%-22s %10.4f s %10.4f s %7s\n' "$step" "$pm" "$dm" "$(ratio "$pm" "$dm")"
done

# Memory: logged-in sessions in IDLE, PSS growth per session.
read -r _ pk _ _ < <(python3 "$here/idle.py" 127.0.0.1 "$pport" bench@example.org bench-pw "$IDLE_SESSIONS" "$ppid")
read -r _ dk _ _ < <(python3 "$here/idle.py" 127.0.0.1 "$dport" bench bench-pw "$IDLE_SESSIONS" "$dpid")
printf '%-22s %8s KiB %8s KiB %7s\n' "idle PSS/session" "$pk" "$dk" "$(ratio "$pk" "$dk")"

# The same with COMPRESS=DEFLATE on in each session (RFC 4978): portico
# as it runs above, Dovecot with its imap_zlib plugin in a second instance
# (so the timings above ran without the plugin).
zport=$(free_port)
zd="$work/dovecot-z"
mkdir -p "$zd/run"
sed -e "s|$dd/run|$zd/run|g" -e "s|log_path = $dd/log|log_path = $zd/log|" \
    -e "s|port = $dport|port = $zport|" "$dd/dovecot.conf" > "$zd/dovecot.conf"
printf 'protocol imap {\n  mail_plugins = $mail_plugins imap_zlib\n}\n' >> "$zd/dovecot.conf"
dovecot -F -c "$zd/dovecot.conf" &
zpid=$!
pids+=($zpid)
wait_port "$zport"
read -r _ pk _ _ < <(python3 "$here/idle.py" 127.0.0.1 "$pport" bench@example.org bench-pw "$IDLE_SESSIONS" "$ppid" compress)
read -r _ dk _ _ < <(python3 "$here/idle.py" 127.0.0.1 "$zport" bench bench-pw "$IDLE_SESSIONS" "$zpid" compress)
printf '%-22s %8s KiB %8s KiB %7s\n' "idle PSS, COMPRESS" "$pk" "$dk" "$(ratio "$pk" "$dk")"
