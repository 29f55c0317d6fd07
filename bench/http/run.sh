#!/usr/bin/env bash
# bench/http: portico against nginx (Debian package) in the same run, on the
# same files, on free loopback ports (issue 6 "Benchmark").
#   nginx:   one worker per core, sendfile on, access_log off, its own config
#            in a temporary directory (nothing system-wide is touched);
#   portico: the release build, one loop thread per core, access log off.
# Workloads: wrk -t2 -c64 -d10s on a 1 KiB and a 1 MiB file (requests/s,
# p99 latency, transfer/s), and ab -n 20000 -c 50 without keep-alive (new
# connections/s). Prints the median of RUNS runs of each figure, the ratio
# portico/nginx, and both servers' peak PSS and RSS while under load.
# Environment: PORTICO_BIN (default build/portico), DURATION (wrk seconds,
# default 10), AB_N (default 20000), RUNS (default 3).
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
http_ready "$pport"
# Both must serve the very same bytes, or the comparison means nothing.
for port in "$nport" "$pport"; do
  for f in 1k.bin 1m.bin; do
    if ! curl -sf "http://127.0.0.1:$port/$f" | cmp -s - "$tmp/data/www/$f"; then
      echo "bench/http: port $port does not serve $f correctly" >&2; exit 1
    fi
  done
done

# ---- runs ----
# wrk: prints "Requests/sec" and, with --latency, the 99% line.
run_wrk() { # port file -> "rps p99 transfer"
  local out
  out=$(wrk -t2 -c64 -d"${duration}s" --latency "http://127.0.0.1:$1/$2")
  local rps p99 tr
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" { v = $2 + 0; u = $2; sub(/^[0-9.]+/, "", u);
                            if (u == "us") v /= 1000; else if (u == "s") v *= 1000;
                            print v }' <<<"$out")
  tr=$(awk '/Transfer\/sec/ {print $2}' <<<"$out")
  echo "$rps $p99 $tr"
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
echo "bench/http: $cores cores, wrk -t2 -c64 -d${duration}s, ab -n $ab_n -c 50 (no keep-alive), median of $runs runs"
declare -A v
for r in $(seq "$runs"); do
  for side in nginx portico; do
    port=$nport pid=$nginx_pid
    [ "$side" = portico ] && port=$pport pid=$portico_pid
    with_memory "$pid" "$tmp/mem.$side" run_wrk "$port" 1k.bin > "$tmp/out"
    read -r a b c < "$tmp/out"; v[$side.k1]+="$a "; v[$side.k1p99]+="$b "
    with_memory "$pid" "$tmp/mem.$side" run_wrk "$port" 1m.bin > "$tmp/out"
    read -r a b c < "$tmp/out"; v[$side.m1]+="$a "; v[$side.m1tr]+="${c%GB} "
    with_memory "$pid" "$tmp/mem.$side" run_ab "$port" > "$tmp/out"
    read -r a < "$tmp/out"; v[$side.ab]+="$a "
  done
done
m() { median ${v[$1]}; }

printf '%-30s %14s %14s %8s\n' "workload (median)" "nginx" "portico" "ratio"
printf '%-30s %14s %14s %8s\n' "1 KiB keep-alive req/s" "$(m nginx.k1)" "$(m portico.k1)" "$(ratio "$(m portico.k1)" "$(m nginx.k1)")"
printf '%-30s %14s %14s\n' "1 KiB p99 latency (ms)" "$(m nginx.k1p99)" "$(m portico.k1p99)"
printf '%-30s %14s %14s %8s\n' "1 MiB keep-alive req/s" "$(m nginx.m1)" "$(m portico.m1)" "$(ratio "$(m portico.m1)" "$(m nginx.m1)")"
printf '%-30s %14s %14s\n' "1 MiB transfer (GB/s)" "$(m nginx.m1tr)" "$(m portico.m1tr)"
printf '%-30s %14s %14s %8s\n' "new connections/s (ab)" "$(m nginx.ab)" "$(m portico.ab)" "$(ratio "$(m portico.ab)" "$(m nginx.ab)")"
np=$(peak "$tmp/mem.nginx" 1); pp=$(peak "$tmp/mem.portico" 1)
nr=$(peak "$tmp/mem.nginx" 2); pr=$(peak "$tmp/mem.portico" 2)
printf '%-30s %14s %14s %8s\n' "peak PSS under load (KiB)" "$np" "$pp" "$(ratio "$pp" "$np")"
printf '%-30s %14s %14s %8s\n' "peak RSS under load (KiB)" "$nr" "$pr" "$(ratio "$pr" "$nr")"
for side in nginx portico; do echo "runs $side: 1k=${v[$side.k1]} 1m=${v[$side.m1]} ab=${v[$side.ab]}"; done
