#!/usr/bin/env bash
# bench/ftp: portico against vsftpd (Debian package) in the same run (issue 5
# "Benchmark"), both on loopback with plain FTP, passive data connections and
# a real account (portico: a portico account; vsftpd: a local Unix user,
# `portico-bench`, created if missing, logged in through PAM and chrooted):
#   1. RETR of one SIZE_MB file (default 1 GiB) with curl, MB/s
#   2. STOR of that file with curl, MB/s (portico fsyncs before its 226;
#      vsftpd does not; `sync` runs before every timed upload so neither
#      pays for the other's writeback)
#   3. FILES files of 4 KiB (default 1,000) uploaded then downloaded in one
#      lftp session (mirror -R, then mirror), files/s counting both ways;
#      also the CPU time lftp and the server used per file
#   4. PSS growth per logged-in idle session with SESSIONS sessions (default
#      200), KiB, over the server's whole process tree
# Each figure is measured RUNS times (default 3), the two servers one after
# the other in each run (alternating which goes first); every run is printed,
# then the medians and the ratio portico/vsftpd (memory: vsftpd/portico,
# so higher is better everywhere).
# Environment: PORTICO_BIN (default build/portico), SIZE_MB, FILES, SESSIONS,
# RUNS, VSFTPD, WORKLOADS (default "retr stor small mem").
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BIN=${PORTICO_BIN:-$top/build/portico}
SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-1000}
SESSIONS=${SESSIONS:-200}
RUNS=${RUNS:-3}
VSFTPD=${VSFTPD:-/usr/sbin/vsftpd}
WORKLOADS=${WORKLOADS:-retr stor small mem}
VUSER=portico-bench
PASS=bench-pw

for tool in "$VSFTPD" lftp curl python3 useradd chpasswd; do
  command -v "$tool" >/dev/null || { echo "bench/ftp: $tool is missing (scripts/deps.sh --bench)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench/ftp: needs root (vsftpd binds and logs in a local user)" >&2; exit 1; }

work=$(mktemp -d /tmp/portico-bench-ftp.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for g in "${cgroups[@]}"; do rmdir "$g" 2>/dev/null || true; done
  rm -rf "$work"
  free_ports_done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

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
# Server CPU time: each server runs in a cgroup of its own, so vsftpd's
# per-session processes count too (/proc/PID/stat's children times miss
# those its session processes never wait for). cgroup v2, else v1 cpuacct,
# else no CPU figure.
cgroups=()
cg_new() { # NAME PID: puts PID (and what it forks later) in a cgroup, named in $cg
  local g
  cg=
  for g in /sys/fs/cgroup /sys/fs/cgroup/cpuacct; do
    [ -w "$g" ] && { [ -e "$g/cgroup.controllers" ] || [ -e "$g/cpuacct.usage" ]; } || continue
    mkdir -p "$g/portico-bench-ftp-$$-$1" 2>/dev/null || continue
    cgroups+=("$g/portico-bench-ftp-$$-$1")
    if echo "$2" > "$g/portico-bench-ftp-$$-$1/cgroup.procs" 2>/dev/null; then
      cg="$g/portico-bench-ftp-$$-$1"; return
    fi
  done
}
cpu_of() { # CGROUP: CPU seconds so far, or 0
  if [ -r "$1/cpu.stat" ]; then awk '/^usage_usec/ {print $2 / 1e6}' "$1/cpu.stat"
  elif [ -r "$1/cpuacct.usage" ]; then awk '{print $1 / 1e9}' "$1/cpuacct.usage"
  else echo 0; fi
}

# ---- the workload's files ----
mkdir -p "$work/src/small"
head -c "$((SIZE_MB << 20))" /dev/urandom > "$work/src/big.bin"
python3 - "$work/src/small" "$FILES" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "f%04d" % i), "wb") as f:
        f.write(os.urandom(4096))
PY
chmod 755 "$work" "$work/src" "$work/src/small"
chmod 644 "$work/src/big.bin" "$work/src/small/"*

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
start_portico() {
  "$BIN" -c "$work/portico/portico.ini" serve >/dev/null 2>>"$work/portico/log" &
  ppid=$!
  pids+=($ppid)
  cg_new portico "$ppid"; pcg=$cg
  wait_port "$pport"
}
start_portico
echo "$PASS" | "$BIN" -c "$work/portico/portico.ini" user add bench@example.org --password-stdin >/dev/null
proot="$work/portico/data/users/example.org/bench/files"
mkdir -p "$proot"
cp "$work/src/big.bin" "$proot/big.bin"

# ---- vsftpd: a local user through PAM, chrooted into its own tree ----
# The user gets a login shell (PAM's pam_shells) and / as home (vsftpd
# enters the home before local_root), nothing else.
id "$VUSER" >/dev/null 2>&1 || useradd --no-create-home --home-dir / --shell /bin/sh "$VUSER"
[ "$(getent passwd "$VUSER" | cut -d: -f6)" = / ] || usermod --home / "$VUSER"
echo "$VUSER:$PASS" | chpasswd
vport=$(free_port)
read -r vlo vhi < <(free_range)
vroot="$work/vsftpd/root"
mkdir -p "$vroot" "$work/vsftpd/empty"
chmod 755 "$work/vsftpd"
cp "$work/src/big.bin" "$vroot/big.bin"
chown -R "$VUSER:" "$vroot"
cat > "$work/vsftpd/vsftpd.conf" <<CONF
listen=YES
listen_address=127.0.0.1
listen_port=$vport
background=NO
anonymous_enable=NO
local_enable=YES
local_root=$vroot
chroot_local_user=YES
allow_writeable_chroot=YES
write_enable=YES
local_umask=022
pam_service_name=vsftpd
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
start_vsftpd() {
  "$VSFTPD" "$work/vsftpd/vsftpd.conf" &
  vpid=$!
  pids+=($vpid)
  cg_new vsftpd "$vpid"; vcg=$cg
  wait_port "$vport"
}
start_vsftpd

# A fresh server process: memory freed by earlier workloads (which a
# long-lived portico reuses for new sessions) does not hide the growth.
restart() {
  if [ "$1" = portico ]; then kill "$ppid"; wait "$ppid" || true; start_portico
  else kill "$vpid"; wait "$vpid" || true; start_vsftpd; fi
}
server_pid() { if [ "$1" = portico ]; then echo "$ppid"; else echo "$vpid"; fi; }
server_cg() { if [ "$1" = portico ]; then echo "$pcg"; else echo "$vcg"; fi; }
url_of() {
  case $1 in
    portico) echo "ftp://bench%40example.org:$PASS@127.0.0.1:$pport/$2" ;;
    vsftpd) echo "ftp://$VUSER:$PASS@127.0.0.1:$vport/$2" ;;
  esac
}
root_of() { if [ "$1" = portico ]; then echo "$proot"; else echo "$vroot"; fi; }

# ---- 1, 2. one big file down and up, MB/s ----
retr() {
  curl -s --ftp-pasv -o /dev/null -w '%{speed_download}\n' "$(url_of "$1" big.bin)" |
    awk '{printf "%.0f\n", $1 / 1e6}'
}
stor() {
  sync
  curl -s --ftp-pasv -T "$work/src/big.bin" -w '%{speed_upload}\n' "$(url_of "$1" up.bin)" |
    awk '{printf "%.0f\n", $1 / 1e6}'
  cmp -s "$work/src/big.bin" "$(root_of "$1")/up.bin" || { echo "bench/ftp: $1 STOR mismatch" >&2; exit 1; }
  rm -f "$(root_of "$1")/up.bin"
}

# The disk's durable write speed, for reading the STOR figures: portico's
# STOR ends with the file on disk, vsftpd's in the page cache.
disk() {
  sync
  dd if="$work/src/big.bin" of="$work/disk.bin" bs=1M conv=fsync 2>&1 |
    awk -v n="$((SIZE_MB << 20))" '/copied/ {for (i = 2; i <= NF; i++) if ($i == "s,") printf "%.0f\n", n / $(i - 1) / 1e6}'
  rm -f "$work/disk.bin"
}

# ---- 3. small files: one lftp session mirrors up, then back ----
# Prints "files/s lftp-cpu-us/file server-cpu-us/file".
small() {
  local name=$1 i=$2 login cg
  if [ "$name" = portico ]; then
    login="open -u bench@example.org,$PASS -p $pport 127.0.0.1"
  else
    login="open -u $VUSER,$PASS -p $vport 127.0.0.1"
  fi
  cg=$(server_cg "$name")
  rm -rf "$work/back"
  sync
  local c0 t0 t1 c1 lcpu
  c0=$(cpu_of "$cg")
  t0=$(date +%s.%N)
  lcpu=$( { /usr/bin/time -f '%U %S' lftp -c "set ftp:ssl-allow no; set net:max-retries 1; \
           set cmd:fail-exit yes; $login; mirror -R $work/src/small small$i; \
           mirror small$i $work/back" >/dev/null; } 2>&1 | tail -1)
  t1=$(date +%s.%N)
  sleep 0.2 # the session's last work (vsftpd: its processes exiting)
  c1=$(cpu_of "$cg")
  [ "$(ls "$work/back" | wc -l)" = "$FILES" ] && cmp -s "$work/src/small/f0000" "$work/back/f0000" ||
    { echo "bench/ftp: $name mirror mismatch" >&2; exit 1; }
  rm -rf "$(root_of "$name")/small$i"
  awk -v n="$FILES" -v a="$t0" -v b="$t1" -v l="$lcpu" -v c0="$c0" -v c1="$c1" \
    'BEGIN {split(l, u, " "); printf "%.0f %.0f %.0f\n", 2 * n / (b - a),
            (u[1] + u[2]) * 1e6 / (2 * n), (c1 - c0) * 1e6 / (2 * n)}'
}

# ---- 4. memory: PSS of the server's process tree, before and with SESSIONS ----
# Each measurement starts from a freshly started server.
# A few sessions log in first and stay (so one-off costs such as the first
# password hash on each pool thread are not counted per session), then
# SESSIONS more; the growth between the two is divided by SESSIONS. Also
# the growth of private memory (USS), which other processes cannot shift.
tree_pids() {
  local p
  echo "$1"
  for p in $(pgrep -P "$1" || true); do tree_pids "$p"; done
}
tree_mem() { # PID: "PSS USS" of the tree, KiB
  local p
  for p in $(tree_pids "$1"); do cat "/proc/$p/smaps_rollup" 2>/dev/null || true; done |
    awk '/^Pss:/ {pss += $2} /^Private_(Clean|Dirty):/ {uss += $2} END {print pss + 0, uss + 0}'
}
waitfor() { for _ in $(seq 1200); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
memory() { # sets mem_pss and mem_uss, KiB per session (not in a subshell: restarts)
  local name=$1 user port pid pss0 uss0 pss1 uss1
  restart "$name"
  pid=$(server_pid "$name")
  if [ "$name" = portico ]; then user=bench@example.org; port=$pport; else user=$VUSER; port=$vport; fi
  rm -f "$work/mem-warm" "$work/mem-go" "$work/mem-ready"
  python3 - "$port" "$user" "$PASS" "$SESSIONS" "$work/mem-" <<'PY' &
import ftplib, os, sys, time
port, user, pw, n, flag = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
held = []
def login():
    f = ftplib.FTP(); f.connect("127.0.0.1", port, timeout=60); f.login(user, pw); held.append(f)
for _ in range(4):
    login()
open(flag + "warm", "w").close()
while not os.path.exists(flag + "go"):
    time.sleep(0.05)
for _ in range(n):
    login()
open(flag + "ready", "w").close()
time.sleep(600)
PY
  local hp=$!
  waitfor "$work/mem-warm" || { echo "bench/ftp: $name sessions did not log in" >&2; exit 1; }
  sleep 1
  read -r pss0 uss0 < <(tree_mem "$pid")
  touch "$work/mem-go"
  waitfor "$work/mem-ready" || { echo "bench/ftp: $name sessions did not log in" >&2; exit 1; }
  sleep 1
  read -r pss1 uss1 < <(tree_mem "$pid")
  kill "$hp" 2>/dev/null || true
  wait "$hp" 2>/dev/null || true
  sleep 1 # the sessions end before the next measurement
  mem_pss=$(awk -v a="$pss1" -v b="$pss0" -v n="$SESSIONS" 'BEGIN {printf "%.1f", (a - b) / n}')
  mem_uss=$(awk -v a="$uss1" -v b="$uss0" -v n="$SESSIONS" 'BEGIN {printf "%.1f", (a - b) / n}')
}

# ---- the runs ----
declare -A v
has() { [[ " $WORKLOADS " == *" $1 "* ]]; }
echo "bench/ftp: $(nproc) cores, RETR/STOR ${SIZE_MB} MiB, ${FILES} x 4 KiB, ${SESSIONS} sessions, $RUNS runs"
for i in $(seq "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then order="portico vsftpd"; else order="vsftpd portico"; fi
  line="run $i:"
  for w in retr stor small mem; do
    has "$w" || continue
    for name in $order; do
      case $w in
        retr) x=$(retr "$name") ;;
        stor) x=$(stor "$name") ;;
        small)
          read -r x lus sus < <(small "$name" "$i")
          v[$name.lcpu]+="$lus "; v[$name.scpu]+="$sus " ;;
        mem)
          memory "$name"
          x=$mem_pss; v[$name.uss]+="$mem_uss " ;;
      esac
      v[$name.$w]+="$x "
      line+=" $name.$w=$x"
    done
  done
  if has stor; then x=$(disk); v[disk]+="$x "; line+=" disk=$x"; fi
  echo "$line"
done

m() { median ${v[$1]}; }
row() { # label key higher-is-better(1)|lower(0)
  local p q
  p=$(m "portico.$2"); q=$(m "vsftpd.$2")
  printf '%-34s %9s %9s %7s   portico: %s  vsftpd: %s\n' "$1" "$p" "$q" \
    "$(if [ "$3" = 1 ]; then ratio "$p" "$q"; else ratio "$q" "$p"; fi)" "${v[portico.$2]% }" "${v[vsftpd.$2]% }"
}
echo
printf '%-34s %9s %9s %7s   %s\n' "workload (median of $RUNS)" portico vsftpd ratio "runs"
has retr && row "RETR ${SIZE_MB} MiB (MB/s)" retr 1
has stor && row "STOR ${SIZE_MB} MiB (MB/s)" stor 1
has stor && printf '%-34s %9s %9s %7s   %s\n' "  disk: dd conv=fsync (MB/s)" "$(m disk)" "" "" "${v[disk]% }"
if has small; then
  row "${FILES} x 4 KiB up+down (files/s)" small 1
  printf '%-34s %9s %9s\n' "  lftp CPU per file (us)" "$(m portico.lcpu)" "$(m vsftpd.lcpu)"
  printf '%-34s %9s %9s\n' "  server CPU per file (us)" "$(m portico.scpu)" "$(m vsftpd.scpu)"
fi
has mem && row "PSS per idle session (KiB)" mem 0
has mem && row "  private (USS) per session (KiB)" uss 0
exit 0
