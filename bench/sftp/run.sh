#!/usr/bin/env bash
# bench/sftp: portico against OpenSSH's sshd (Debian package, its own config
# in a temp dir on a free loopback port, `Subsystem sftp internal-sftp`) in
# the same run (issue 11 "Benchmark"), the same cipher on both sides
# (aes128-gcm@openssh.com for the sftp client; the memory workload's
# paramiko sessions use aes128-ctr, which paramiko has) and key logins (portico: an account with the key
# added by `portico user key add`; sshd: root with an authorized_keys file):
#   1. a SIZE_MB file (default 1 GiB) uploaded with `sftp`, MB/s (portico
#      fsyncs before it answers CLOSE; sshd does not; `sync` runs before
#      every timed upload so neither pays for the other's writeback)
#   2. the same file downloaded with `sftp`, MB/s
#   3. FILES files of 4 KiB (default 1,000) uploaded then downloaded in one
#      `sftp -b` session (put -r, get -r), files/s counting both ways
#   4. PSS growth per logged-in idle SFTP session with SESSIONS sessions
#      (default 200, paramiko), KiB, over the server's whole process tree
#      (sshd forks a process pair per session)
# Each figure is measured RUNS times (default 3), the two servers one after
# the other in each run (alternating which goes first); every run is printed,
# then the medians and the ratio portico/sshd (memory: sshd/portico, so
# higher is better everywhere).
# Environment: PORTICO_BIN (default build/portico), SIZE_MB, FILES, SESSIONS,
# RUNS, SSHD, WORKLOADS (default "up down small mem").
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BIN=${PORTICO_BIN:-$top/build/portico}
SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-1000}
SESSIONS=${SESSIONS:-200}
RUNS=${RUNS:-3}
SSHD=${SSHD:-/usr/sbin/sshd}
WORKLOADS=${WORKLOADS:-up down small mem}
CIPHER=aes128-gcm@openssh.com

for tool in "$SSHD" sftp ssh-keygen python3; do
  command -v "$tool" >/dev/null || { echo "bench/sftp: $tool is missing (scripts/deps.sh --bench)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench/sftp: needs root (sshd runs as root, logs in root)" >&2; exit 1; }
/usr/bin/python3 -c 'import paramiko' 2>/dev/null || { echo "bench/sftp: python3-paramiko is missing" >&2; exit 1; }

work=$(mktemp -d /tmp/portico-bench-sftp.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
  free_ports_done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- the workload's files and the client key ----
mkdir -p "$work/src/small" "$work/dst"
head -c "$((SIZE_MB << 20))" /dev/urandom > "$work/src/big.bin"
python3 - "$work/src/small" "$FILES" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "f%04d" % i), "wb") as f:
        f.write(os.urandom(4096))
PY
ssh-keygen -q -t ed25519 -N '' -f "$work/id_bench"

# ---- portico ----
pport=$(free_port)
mkdir -p "$work/portico"
cat > "$work/portico/portico.ini" <<INI
[portico]
data_dir = $work/portico/data
domains = example.org
log_level = warn
max_connections_per_ip = 10000
[sftp]
listen = 127.0.0.1:$pport
max_sessions_per_ip = 10000
max_sessions = 10000
INI
# the domains of the config exist once the store opens (domain add would fail)
echo bench-pw | "$BIN" -c "$work/portico/portico.ini" user add bench@example.org --password-stdin >/dev/null
"$BIN" -c "$work/portico/portico.ini" user key add bench@example.org "$work/id_bench.pub" >/dev/null
pfiles=$work/portico/data/users/example.org/bench/files
start_portico() {
  "$BIN" -c "$work/portico/portico.ini" serve >/dev/null 2>>"$work/portico/log" &
  ppid=$!
  pids+=($ppid)
  wait_port "$pport"
}

# ---- OpenSSH sshd ----
sport=$(free_port)
mkdir -p "$work/sshd" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/sshd/host_ed25519"
cp "$work/id_bench.pub" "$work/sshd/authorized_keys"
chmod 600 "$work/sshd/authorized_keys"
cat > "$work/sshd/sshd_config" <<CONF
Port $sport
ListenAddress 127.0.0.1
HostKey $work/sshd/host_ed25519
PidFile $work/sshd/pid
AuthorizedKeysFile $work/sshd/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Ciphers $CIPHER,aes128-ctr
Subsystem sftp internal-sftp
MaxStartups 1000:30:2000
MaxSessions 1000
LogLevel ERROR
CONF
sfiles=$work/sshd/files
mkdir -p "$sfiles"
start_sshd() {
  "$SSHD" -f "$work/sshd/sshd_config" -D -e 2>>"$work/sshd/log" &
  spid=$!
  pids+=($spid)
  wait_port "$sport"
}

server_pid() { if [ "$1" = portico ]; then echo "$ppid"; else echo "$spid"; fi; }
restart() { # NAME: a fresh server process
  local pid
  pid=$(server_pid "$1")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  if [ "$1" = portico ]; then start_portico; else start_sshd; fi
}
start_portico
start_sshd

# sftp -b against NAME with the batch on stdin; the remote directory of each
target() { # NAME: "port user dir"
  if [ "$1" = portico ]; then echo "$pport bench@example.org ."; else echo "$sport root $sfiles"; fi
}
batch() { # NAME: runs the batch file on stdin
  local port user dir
  read -r port user dir < <(target "$1")
  sftp -q -b - -P "$port" -i "$work/id_bench" -o BatchMode=yes -o Ciphers=$CIPHER \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    "$user@127.0.0.1" >/dev/null || {
    echo "bench/sftp: $1: sftp failed" >&2
    tail -n 5 "$work/portico/log" "$work/sshd/log" >&2
    exit 1
  }
}
remote_dir() { read -r _ _ dir < <(target "$1"); echo "$dir"; }
local_dir() { if [ "$1" = portico ]; then echo "$pfiles"; else echo "$sfiles"; fi; }
now() { date +%s.%N; }
rate() { python3 -c "print(f'{$1 / ($3 - $2):.1f}')"; }

# ---- 1./2. one big file up and down ----
up() {
  local d t0 t1
  d=$(remote_dir "$1")
  rm -f "$(local_dir "$1")/big.bin"; sync
  t0=$(now); echo "put $work/src/big.bin $d/big.bin" | batch "$1"; t1=$(now)
  rate "$SIZE_MB * 1.048576" "$t0" "$t1"
}
down() {
  local d t0 t1
  d=$(remote_dir "$1")
  rm -f "$work/dst/big.bin"
  t0=$(now); echo "get $d/big.bin $work/dst/big.bin" | batch "$1"; t1=$(now)
  cmp -s "$work/src/big.bin" "$work/dst/big.bin" || { echo "bench/sftp: $1 download differs" >&2; exit 1; }
  rate "$SIZE_MB * 1.048576" "$t0" "$t1"
}

# ---- 3. many small files up then down in one session ----
small() {
  local d t0 t1
  d=$(remote_dir "$1")
  rm -rf "$(local_dir "$1")/small" "$work/dst/small"; sync
  t0=$(now)
  printf 'put -r %s %s/small\nget -r %s/small %s/small\n' "$work/src/small" "$d" "$d" "$work/dst" | batch "$1"
  t1=$(now)
  [ "$(ls "$work/dst/small" | wc -l)" = "$FILES" ] || { echo "bench/sftp: $1 small files missing" >&2; exit 1; }
  rate "2 * $FILES" "$t0" "$t1"
}

# ---- 4. memory: PSS of the server's process tree, before and with SESSIONS ----
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
memory() { # sets mem_pss and mem_uss, KiB per session
  local name=$1 port user pid pss0 uss0 pss1 uss1
  restart "$name"
  pid=$(server_pid "$name")
  read -r port user _ < <(target "$name")
  rm -f "$work/mem-warm" "$work/mem-go" "$work/mem-ready"
  /usr/bin/python3 - "$port" "$user" "$work/id_bench" "$SESSIONS" "$work/mem-" <<'PY' 2>/dev/null &
import os, sys, time, warnings
warnings.simplefilter("ignore")
import paramiko
port, user, keyfile, n, flag = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
key = paramiko.Ed25519Key.from_private_key_file(keyfile)
held = []
def login():
    t = paramiko.Transport(("127.0.0.1", port))
    t.get_security_options().ciphers = ("aes128-ctr",)  # paramiko has no AES-GCM
    t.connect(username=user, pkey=key)
    c = paramiko.SFTPClient.from_transport(t)
    c.listdir(".")
    held.append((t, c))
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
  waitfor "$work/mem-warm" || { echo "bench/sftp: $name sessions did not log in" >&2; exit 1; }
  sleep 1
  read -r pss0 uss0 < <(tree_mem "$pid")
  touch "$work/mem-go"
  waitfor "$work/mem-ready" || { echo "bench/sftp: $name sessions did not log in" >&2; exit 1; }
  sleep 2
  read -r pss1 uss1 < <(tree_mem "$pid")
  kill "$hp" 2>/dev/null || true
  wait "$hp" 2>/dev/null || true
  sleep 1
  mem_pss=$(awk -v a="$pss1" -v b="$pss0" -v n="$SESSIONS" 'BEGIN {printf "%.1f", (a - b) / n}')
  mem_uss=$(awk -v a="$uss1" -v b="$uss0" -v n="$SESSIONS" 'BEGIN {printf "%.1f", (a - b) / n}')
}

# ---- the runs ----
declare -A v
has() { [[ " $WORKLOADS " == *" $1 "* ]]; }
echo "bench/sftp: $(nproc) cores, ${SIZE_MB} MiB up/down, ${FILES} x 4 KiB, ${SESSIONS} sessions, $RUNS runs, $CIPHER"
for i in $(seq "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then order="portico sshd"; else order="sshd portico"; fi
  line="run $i:"
  for w in up down small mem; do
    has "$w" || continue
    for name in $order; do
      case $w in
        up) x=$(up "$name") ;;
        down) x=$(down "$name") ;;
        small) x=$(small "$name") ;;
        mem) memory "$name"; x=$mem_pss; v[$name.uss]+="$mem_uss " ;;
      esac
      v[$name.$w]+="$x "
      line+=" $name.$w=$x"
    done
  done
  echo "$line"
done

m() { median ${v[$1]}; }
row() { # label key higher-is-better(1)|lower(0)
  local p q
  p=$(m "portico.$2"); q=$(m "sshd.$2")
  printf '%-34s %9s %9s %7s   portico: %s  sshd: %s\n' "$1" "$p" "$q" \
    "$(if [ "$3" = 1 ]; then ratio "$p" "$q"; else ratio "$q" "$p"; fi)" "${v[portico.$2]% }" "${v[sshd.$2]% }"
}
printf '%-34s %9s %9s %7s\n' "median of $RUNS runs" portico sshd ratio
has up && row "upload ${SIZE_MB} MiB (MB/s)" up 1
has down && row "download ${SIZE_MB} MiB (MB/s)" down 1
has small && row "${FILES} x 4 KiB up+down (files/s)" small 1
if has mem; then
  row "PSS per idle session (KiB)" mem 0
  row "USS per idle session (KiB)" uss 0
fi
