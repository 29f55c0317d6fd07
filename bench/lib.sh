# bench/lib.sh: helpers every bench/<protocol>/run.sh sources.

# A free TCP port on loopback: any, or with BENCH_PORTS=LOW-HIGH the next
# free one of that range (a machine shared by several benchmarks), never one
# this script was already given (the last one is kept in /tmp/bench-port.PID).
free_port() {
  python3 - "${BENCH_PORTS:-}" "/tmp/bench-port.$$" <<'PY'
import os, socket, sys
span, state = sys.argv[1], sys.argv[2]
if not span:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); sys.exit()
low, high = map(int, span.split("-"))
last = int(open(state).read()) if os.path.exists(state) else low - 1
for port in range(max(low, last + 1), high + 1):
    try:
        s = socket.socket(); s.bind(("127.0.0.1", port)); s.close()
    except OSError:
        continue
    open(state, "w").write(str(port)); print(port); sys.exit()
sys.exit("bench: no free port in " + span)
PY
}
# Forgets the ports handed out (a script's cleanup calls it).
free_ports_done() { rm -f "/tmp/bench-port.$$"; }

# Waits (at most 10 s) until something accepts on 127.0.0.1:PORT.
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 not up" >&2
  return 1
}

# The median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

# a/b with two decimals ("n/a" when b is 0).
ratio() { python3 -c "a,b=float('$1'),float('$2'); print(f'{a/b:.2f}' if b else 'n/a')"; }

# System calls per unit of work (issue 15): counts every syscalls:sys_enter_*
# tracepoint of the given processes (comma-separated PIDs, every thread)
# with `perf stat` while the command runs, into FILE (perf's CSV).
count_syscalls() { # pids file cmd...
  local pids=$1 file=$2; shift 2
  perf stat -x, -e 'syscalls:sys_enter_*' -p "$pids" -o "$file" 2>/dev/null & local perf=$!
  sleep 0.5 # perf attaches
  "$@"
  kill -INT "$perf"; wait "$perf" 2>/dev/null || true
}
# Prints "name per-unit" for every system call counted at least 0.01 times
# per unit, and the total: count_syscalls' FILE divided by UNITS.
per_unit() { # file units
  awk -F, -v n="$2" '$3 ~ /sys_enter_/ && $1 + 0 > 0 {
      name = $3; sub(/.*sys_enter_/, "", name); v = $1 / n; t += v
      if (v >= 0.01) printf "  %-16s %8.2f\n", name, v }
    END { printf "  %-16s %8.2f\n", "total", t }' "$1"
}

# Every Maildir given holds exactly COUNT delivered messages (new/ + cur/),
# or the bench stops with NAME's complaint.
check_delivered() { # name count maildir...
  local name=$1 want=$2 d got; shift 2
  for d in "$@"; do
    got=$(find "$d/new" "$d/cur" -type f | wc -l)
    [ "$got" -eq "$want" ] || { echo "$name: $d holds $got messages, not $want" >&2; exit 1; }
  done
}
