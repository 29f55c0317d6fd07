#!/usr/bin/env bash
# bench/http: portico against nginx (Debian package) in the same run, on the
# same files, on free loopback ports (issue 6 "Benchmark").
#   nginx:   one worker per core, sendfile on, tcp_nopush on, access_log
#            off, its own config in a temporary directory (nothing
#            system-wide is touched);
#   nginx-tuned (issue 15): the same plus what an operator adds for static
#            files: open_file_cache (descriptors and stat results kept),
#            keepalive_requests 100000;
#   portico: the release build, one loop thread per core, access log off,
#            [http] max_requests = 100000 (as nginx-tuned).
# Workloads: wrk -t2 -c64 on a 1 KiB and a 1 MiB file (requests/s, p50 and
# p99 latency, transfer/s), wrk -t1 -c1 on the 1 KiB file (one request at a
# time: the round trip), and ab -n 20000 -c 50 without keep-alive (new
# connections/s). Prints the median of RUNS runs of each figure, the ratio
# portico/nginx-tuned and portico/nginx of the medians, the median of the
# per-round ratios portico/nginx-tuned ("rounds/t": each round runs one
# workload on the three servers back to back, seconds apart), and the
# servers' peak PSS and RSS while under load. COUNT=1 adds the system calls per request of each server
# (perf stat on every syscalls:sys_enter_* tracepoint, bench/lib.sh).
# Environment: PORTICO_BIN (default build/portico), DURATION (wrk seconds,
# default 10), AB_N (default 20000), RUNS (default 3), COUNT (0).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${PORTICO_BIN:-$top/build/portico}
duration=${DURATION:-10}
ab_n=${AB_N:-20000}
cores=$(nproc)

for tool in nginx wrk ab; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
    echo "bench/http: $tool is missing (scripts/deps.sh --bench)" >&2; exit 1; }
done
if [ ! -x "$bin" ]; then
  # A release build of its own if build/ has none (warnings not fatal here:
  # this is a measurement, `make test` is the gate).
  bin=$top/build-bench/portico
  [ -f "$top/build-bench/build.ninja" ] ||
    meson setup "$top/build-bench" "$top" --buildtype=release -Dtests=false -Dwerror=false >/dev/null
  ninja -C "$top/build-bench" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

tmp=$(mktemp -d /tmp/portico-bench-http.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
  free_ports_done
}
trap cleanup EXIT

# ---- the same files for both ----
mkdir -p "$tmp/data/www"
head -c 1024 /dev/urandom > "$tmp/data/www/1k.bin"
head -c $((1024 * 1024)) /dev/urandom > "$tmp/data/www/1m.bin"
# nginx's workers run as an unprivileged user: let them read the files.
chmod 755 "$tmp" "$tmp/data" "$tmp/data/www"
chmod 644 "$tmp/data/www/"*.bin

# ---- nginx ----
nport=$(free_port)
mkdir -p "$tmp/nginx"
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes $cores;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
  sendfile on;
  tcp_nopush on;
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  types { application/octet-stream bin; }
  server {
    listen 127.0.0.1:$nport reuseport;
    root $tmp/data/www;
  }
}
EOF
"$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' 2>"$tmp/nginx/stderr" &
pids+=($!)
nginx_pid=$!

# ---- nginx, tuned as operators tune it for static files ----
tport=$(free_port)
mkdir -p "$tmp/tuned"
sed -e "s|$tmp/nginx/|$tmp/tuned/|g" -e "s|127.0.0.1:$nport|127.0.0.1:$tport|" \
    -e 's|^  access_log off;|  access_log off;\
  keepalive_requests 100000;\
  open_file_cache max=1000 inactive=20s;\
  open_file_cache_valid 30s;\
  open_file_cache_min_uses 2;\
  open_file_cache_errors on;|' "$tmp/nginx/nginx.conf" > "$tmp/tuned/nginx.conf"
"$NGINX" -p "$tmp/tuned" -c "$tmp/tuned/nginx.conf" -g 'daemon off;' 2>"$tmp/tuned/stderr" &
pids+=($!)
tuned_pid=$!

# ---- portico ----
pport=$(free_port)
cat > "$tmp/portico.ini" <<EOF
[portico]
data_dir = $tmp/data
domains = bench.example
threads = $cores
log_level = warn
[smtp]
listen =
[submission]
listen =
listen_tls =
[pop3]
listen =
listen_tls =
[imap]
listen =
listen_tls =
[ftp]
listen =
listen_tls =
[http]
listen = 127.0.0.1:$pport
listen_tls =
max_requests = 100000
EOF
"$bin" -c "$tmp/portico.ini" serve >"$tmp/portico.out" 2>"$tmp/portico.err" &
pids+=($!)
portico_pid=$!

http_ready() { # port: until it serves 1k.bin
  for _ in $(seq 200); do
    if curl -s -o /dev/null "http://127.0.0.1:$1/1k.bin"; then return 0; fi
    sleep 0.05
  done
  echo "bench/http: nothing answers on port $1" >&2; exit 1
}
http_ready "$nport"
http_ready "$tport"
http_ready "$pport"
# All must serve the very same bytes, or the comparison means nothing.
for port in "$nport" "$tport" "$pport"; do
  for f in 1k.bin 1m.bin; do
    if ! curl -sf "http://127.0.0.1:$port/$f" | cmp -s - "$tmp/data/www/$f"; then
      echo "bench/http: port $port does not serve $f correctly" >&2; exit 1
    fi
  done
done

# ---- runs ----
# wrk: prints "Requests/sec" and, with --latency, the 50% and 99% lines.
run_wrk() { # port file connections -> "rps p50 p99 transfer requests"
  local out threads=2
  [ "$3" = 1 ] && threads=1
  out=$(wrk -t"$threads" -c"$3" -d"${duration}s" --latency "http://127.0.0.1:$1/$2")
  local rps p50 p99 tr total
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(latency_ms 50% <<<"$out")
  p99=$(latency_ms 99% <<<"$out")
  tr=$(awk '/Transfer\/sec/ {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$rps $p50 $p99 $tr $total"
}
latency_ms() { # "50%" | "99%": wrk's latency line in ms
  awk -v k="$1" '$1 == k { v = $2 + 0; u = $2; sub(/^[0-9.]+/, "", u);
                            if (u == "us") v /= 1000; else if (u == "s") v *= 1000;
                            print v }'
}
run_ab() { # port -> connections/s
  ab -q -n "$ab_n" -c 50 "http://127.0.0.1:$1/1k.bin" 2>/dev/null |
    awk '/Requests per second/ {print $4}'
}
# Memory while the load runs: PSS (shared pages split fairly between the
# processes that map them) and RSS, summed over the server's processes
# (nginx: master and workers), sampled every 0.2 s; the peak is reported.
# (Not VmHWM: portico's high-water mark is set at start-up by yescrypt,
# which hashes the first account's password with 16 MiB on purpose.)
mem_kb() { # field pid -> sum over pid and its children
  local total=0 p v
  for p in $2 $(pgrep -P "$2" || true); do
    v=$(awk -v f="$1:" '$1 == f {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
sample_memory() { # pid file: appends "pss rss" lines until killed
  while :; do echo "$(mem_kb Pss "$1") $(mem_kb Rss "$1")" >> "$2"; sleep 0.2; done
}
with_memory() { # pid file cmd...: runs cmd while sampling pid's memory into file
  local pid=$1 file=$2; shift 2
  sample_memory "$pid" "$file" & local sampler=$!
  "$@"
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
}
peak() { sort -n -k"$2" "$1" | tail -n 1 | awk -v k="$2" '{print $k}'; }

runs=${RUNS:-3}
echo "bench/http: $cores cores, wrk -t2 -c64 and -t1 -c1 -d${duration}s, ab -n $ab_n -c 50 (no keep-alive), median of $runs runs; load: $(uptime | sed 's/.*load/load/')"
sides="nginx tuned portico"
declare -A v port pid
port[nginx]=$nport pid[nginx]=$nginx_pid
port[tuned]=$tport pid[tuned]=$tuned_pid
port[portico]=$pport pid[portico]=$portico_pid
# Each round runs one workload on the three servers back to back, so that
# a ratio compares figures taken seconds apart (the machine is shared:
# besides the medians, the median of the per-round ratios is printed).
for r in $(seq "$runs"); do
  for side in $sides; do
    with_memory "${pid[$side]}" "$tmp/mem.$side" run_wrk "${port[$side]}" 1k.bin 64 > "$tmp/out"
    read -r a b c d e < "$tmp/out"; v[$side.k1]+="$a "; v[$side.k1p50]+="$b "; v[$side.k1p99]+="$c "
  done
  for side in $sides; do
    run_wrk "${port[$side]}" 1k.bin 1 > "$tmp/out"
    read -r a b c d e < "$tmp/out"; v[$side.c1]+="$a "; v[$side.c1p50]+="$b "; v[$side.c1p99]+="$c "
  done
  for side in $sides; do
    with_memory "${pid[$side]}" "$tmp/mem.$side" run_wrk "${port[$side]}" 1m.bin 64 > "$tmp/out"
    read -r a b c d e < "$tmp/out"; v[$side.m1]+="$a "; v[$side.m1tr]+="${d%GB} "
  done
  for side in $sides; do
    with_memory "${pid[$side]}" "$tmp/mem.$side" run_ab "${port[$side]}" > "$tmp/out"
    read -r a < "$tmp/out"; v[$side.ab]+="$a "
  done
done
m() { median ${v[$1]}; }

round_ratios() { # key other: median of portico/other over the rounds
  python3 -c "import statistics,sys; p=sys.argv[1].split(); o=sys.argv[2].split()
print(f'{statistics.median(float(a)/float(b) for a,b in zip(p,o)):.2f}')" "${v[portico.$1]}" "${v[$2.$1]}"
}
row() { # label key [noratio]
  local n t p
  n=$(m nginx.$2) t=$(m tuned.$2) p=$(m portico.$2)
  if [ -n "${3:-}" ]; then
    printf '%-28s %12s %12s %12s\n' "$1" "$n" "$t" "$p"
  else
    printf '%-28s %12s %12s %12s %8s %8s %8s\n' "$1" "$n" "$t" "$p" "$(ratio "$p" "$t")" \
      "$(ratio "$p" "$n")" "$(round_ratios "$2" tuned)"
  fi
}
printf '%-28s %12s %12s %12s %8s %8s %8s\n' "workload (median)" "nginx" "nginx-tuned" "portico" "/tuned" "/nginx" "rounds/t"
row "1 KiB -c64 req/s" k1
row "1 KiB -c64 p50 (ms)" k1p50 x
row "1 KiB -c64 p99 (ms)" k1p99 x
row "1 KiB -c1 req/s" c1
row "1 KiB -c1 p50 (ms)" c1p50 x
row "1 KiB -c1 p99 (ms)" c1p99 x
row "1 MiB -c64 req/s" m1
row "1 MiB transfer (GB/s)" m1tr x
row "new connections/s (ab)" ab
for side in $sides; do
  echo "peak under load $side: PSS $(peak "$tmp/mem.$side" 1) KiB, RSS $(peak "$tmp/mem.$side" 2) KiB"
done
for side in $sides; do
  echo "runs $side: 1k=${v[$side.k1]} c1=${v[$side.c1]} 1m=${v[$side.m1]} ab=${v[$side.ab]}"
done
echo "load after: $(uptime | sed 's/.*load/load/')"

# ---- system calls per request (COUNT=1) ----
[ "${COUNT:-0}" = 1 ] || exit 0
allpids() { echo "$1$(pgrep -P "$1" | sed 's/^/,/' | tr -d '\n')"; }
count_wrk() { # port file connections: wrk's request count into $tmp/n
  run_wrk "$@" | awk '{print $5}' > "$tmp/n"
}
count_ab() { # port: connections made into $tmp/n
  run_ab "$1" >/dev/null; echo "$ab_n" > "$tmp/n"
}
for side in $sides; do
  p=${port[$side]} ps=$(allpids "${pid[$side]}")
  for w in "1k.bin 64" "1k.bin 1" "1m.bin 64"; do
    count_syscalls "$ps" "$tmp/perf" count_wrk "$p" $w
    echo "syscalls per request, $side, wrk $w ($(cat "$tmp/n") requests):"
    per_unit "$tmp/perf" "$(cat "$tmp/n")"
  done
  count_syscalls "$ps" "$tmp/perf" count_ab "$p"
  echo "syscalls per connection, $side, ab -c 50:"
  per_unit "$tmp/perf" "$(cat "$tmp/n")"
done
