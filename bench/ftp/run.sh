#!/usr/bin/env bash
# bench/ftp: portico against vsftpd (Debian package) in the same run, both
# on loopback with plain FTP and passive data connections:
#   1. RETR and STOR of one SIZE_MB file (default 1 GiB) with curl, MB/s
#   2. FILES files of 4 KiB uploaded then downloaded in one lftp session
#      (mirror -R, then mirror), files/s
#   3. PSS growth per logged-in idle session with SESSIONS sessions, KiB
# Each throughput figure is the median of RUNS. Prints both servers' figures
# and the ratio portico/vsftpd (for memory, vsftpd/portico: higher is better).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BIN=${PORTICO_BIN:-$top/build/portico}
SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-1000}
SESSIONS=${SESSIONS:-200}
RUNS=${RUNS:-3}
VSFTPD=${VSFTPD:-/usr/sbin/vsftpd}
work=$(mktemp -d /tmp/portico-bench-ftp.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 not up" >&2; return 1; }
# A run of 50 free ports at random in 40000-59999 for passive connections.
free_range() {
  python3 - <<'PY'
import random, socket
for _ in range(500):
    lo = random.randrange(40000, 59950)
    socks = []
    try:
        for p in range(lo, lo + 50):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
        print(lo, lo + 49); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# ---- the workload's files ----
mkdir -p "$work/src/small"
head -c "$((SIZE_MB << 20))" /dev/urandom > "$work/src/big.bin"
python3 - "$work/src/small" "$FILES" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "f%04d" % i), "wb") as f:
        f.write(os.urandom(4096))
PY

# ---- portico ----
pport=$(free_port)
read -r plo phi < <(free_range)
mkdir -p "$work/portico"
cat > "$work/portico/portico.ini" <<INI
[portico]
data_dir = $work/portico/data
domains = example.org
log_level = warn
max_connections_per_ip = 10000
[ftp]
listen = 127.0.0.1:$pport
passive_ports = $plo-$phi
INI
"$BIN" -c "$work/portico/portico.ini" serve >/dev/null 2>"$work/portico/log" &
ppid=$!
pids+=($ppid)
wait_port "$pport"
echo bench-pw | "$BIN" -c "$work/portico/portico.ini" user add bench@example.org --password-stdin >/dev/null
proot="$work/portico/data/users/example.org/bench/files"
mkdir -p "$proot"
cp "$work/src/big.bin" "$proot/big.bin"

# ---- vsftpd: anonymous with uploads into pub/, chrooted by vsftpd itself ----
vport=$(free_port)
read -r vlo vhi < <(free_range)
mkdir -p "$work/vsftpd/root/pub" "$work/vsftpd/empty"
chmod 755 "$work" "$work/vsftpd" "$work/vsftpd/root"
chown ftp:ftp "$work/vsftpd/root/pub"
cp "$work/src/big.bin" "$work/vsftpd/root/pub/big.bin"
chown ftp:ftp "$work/vsftpd/root/pub/big.bin"
cat > "$work/vsftpd/vsftpd.conf" <<CONF
listen=YES
listen_address=127.0.0.1
listen_port=$vport
background=NO
anonymous_enable=YES
no_anon_password=YES
anon_root=$work/vsftpd/root
write_enable=YES
anon_upload_enable=YES
anon_mkdir_write_enable=YES
anon_other_write_enable=YES
anon_umask=022
local_enable=NO
pasv_enable=YES
pasv_min_port=$vlo
pasv_max_port=$vhi
max_clients=10000
max_per_ip=10000
secure_chroot_dir=$work/vsftpd/empty
seccomp_sandbox=NO
xferlog_enable=NO
use_sendfile=YES
CONF
"$VSFTPD" "$work/vsftpd/vsftpd.conf" &
vpid=$!
pids+=($vpid)
wait_port "$vport"

# ---- 1. big file ----
# url_of NAME PATH: ftp URL with credentials for each server.
url_of() {
  case $1 in
    portico) echo "ftp://bench%40example.org:bench-pw@127.0.0.1:$pport/$2" ;;
    vsftpd) echo "ftp://anonymous:x@127.0.0.1:$vport/pub/$2" ;;
  esac
}
mbps() { awk '{printf "%.0f\n", $1 / 1e6}'; }
retr() {
  for _ in $(seq "$RUNS"); do
    curl -s --ftp-pasv -o /dev/null -w '%{speed_download}\n' "$(url_of "$1" big.bin)"
  done | median | mbps
}
stor() {
  for i in $(seq "$RUNS"); do
    curl -s --ftp-pasv -T "$work/src/big.bin" -w '%{speed_upload}\n' "$(url_of "$1" up$i.bin)"
  done | median | mbps
}

# ---- 2. small files: one lftp session mirrors up, then back ----
small() {
  local name=$1 login target
  if [ "$name" = portico ]; then
    login="open -u bench@example.org,bench-pw -p $pport 127.0.0.1"; target=small
  else
    login="open -u anonymous,x -p $vport 127.0.0.1"; target=pub/small
  fi
  for i in $(seq "$RUNS"); do
    rm -rf "$work/back"
    local t0 t1
    t0=$(date +%s.%N)
    lftp -c "set ftp:ssl-allow no; set net:max-retries 1; set cmd:fail-exit yes; $login; \
             mirror -R $work/src/small $target$i; mirror $target$i $work/back" >/dev/null
    t1=$(date +%s.%N)
    cmp -s "$work/src/small/f0000" "$work/back/f0000" || { echo "mirror mismatch" >&2; exit 1; }
    awk -v n="$FILES" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f\n", 2 * n / (b - a)}'
  done | median
}

# ---- 3. memory: PSS of the server's process tree, before and with SESSIONS ----
tree_pss() {
  local root=$1 total=0 p
  for p in $root $(pgrep -P "$root" || true) $(for c in $(pgrep -P "$root" || true); do pgrep -P "$c" || true; done); do
    [ -r "/proc/$p/smaps_rollup" ] || continue
    total=$((total + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
  done
  echo "$total"
}
memory() {
  local name=$1 pid=$2 port=$3 user=$4 pass=$5
  local before after
  before=$(tree_pss "$pid")
  python3 - "$port" "$user" "$pass" "$SESSIONS" "$work/mem-$name" <<'PY' &
import ftplib, os, sys, time
port, user, pw, n, flag = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
held = []
for _ in range(n):
    f = ftplib.FTP(); f.connect("127.0.0.1", port, timeout=30); f.login(user, pw); held.append(f)
open(flag, "w").close()
time.sleep(600)
PY
  local hp=$!
  for _ in $(seq 600); do [ -e "$work/mem-$name" ] && break; sleep 0.1; done
  sleep 1
  after=$(tree_pss "$pid")
  kill "$hp" 2>/dev/null || true
  wait "$hp" 2>/dev/null || true
  awk -v a="$after" -v b="$before" -v n="$SESSIONS" 'BEGIN {printf "%.1f\n", (a - b) / n}'
}

p_retr=$(retr portico); v_retr=$(retr vsftpd)
p_stor=$(stor portico); v_stor=$(stor vsftpd)
p_small=$(small portico); v_small=$(small vsftpd)
p_mem=$(memory portico "$ppid" "$pport" bench@example.org bench-pw)
v_mem=$(memory vsftpd "$vpid" "$vport" anonymous x)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }
printf '%-28s %10s %10s %8s\n' "workload" portico vsftpd ratio
printf '%-28s %10s %10s %8s\n' "RETR ${SIZE_MB} MiB (MB/s)" "$p_retr" "$v_retr" "$(ratio "$p_retr" "$v_retr")"
printf '%-28s %10s %10s %8s\n' "STOR ${SIZE_MB} MiB (MB/s)" "$p_stor" "$v_stor" "$(ratio "$p_stor" "$v_stor")"
printf '%-28s %10s %10s %8s\n' "${FILES} x 4 KiB up+down (files/s)" "$p_small" "$v_small" "$(ratio "$p_small" "$v_small")"
printf '%-28s %10s %10s %8s\n' "PSS per idle session (KiB)" "$p_mem" "$v_mem" "$(ratio "$v_mem" "$p_mem")"
