#!/usr/bin/env bash
# bench/http: portico against nginx (Debian package) in the same run, on the
# same files, on free loopback ports (issue 6 "Benchmark").
#   nginx:   one worker per core, sendfile on, access_log off, its own config
#            in a temporary directory (nothing system-wide is touched);
#   portico: the release build, one loop thread per core, access log off.
# Workloads: wrk -t2 -c64 -d10s on a 1 KiB and a 1 MiB file (requests/s,
# p99 latency, transfer/s), and ab -n 20000 -c 50 without keep-alive (new
# connections/s). Prints each figure, the ratio portico/nginx, and the peak
# RSS of both servers.
# Environment: PORTICO_BIN (default build/portico), DURATION (wrk seconds,
# default 10), AB_N (default 20000).
set -euo pipefail
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

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

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

wait_port() {
  for _ in $(seq 200); do
    if curl -s -o /dev/null "http://127.0.0.1:$1/1k.bin"; then return 0; fi
    sleep 0.05
  done
  echo "bench/http: nothing answers on port $1" >&2; exit 1
}
wait_port "$nport"
wait_port "$pport"
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
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  tr=$(awk '/Transfer\/sec/ {print $2}' <<<"$out")
  echo "$rps $p99 $tr"
}
run_ab() { # port -> connections/s
  ab -q -n "$ab_n" -c 50 "http://127.0.0.1:$1/1k.bin" 2>/dev/null |
    awk '/Requests per second/ {print $4}'
}
peak_rss_kb() { # pid -> VmHWM of it and its children (nginx workers)
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    v=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
ratio() { python3 -c "a,b=float('$1'),float('$2'); print(f'{a/b:.2f}' if b else 'n/a')"; }

echo "bench/http: $cores cores, wrk -t2 -c64 -d${duration}s, ab -n $ab_n -c 50 (no keep-alive)"
read -r n1_rps n1_p99 n1_tr < <(run_wrk "$nport" 1k.bin)
read -r p1_rps p1_p99 p1_tr < <(run_wrk "$pport" 1k.bin)
read -r n2_rps n2_p99 n2_tr < <(run_wrk "$nport" 1m.bin)
read -r p2_rps p2_p99 p2_tr < <(run_wrk "$pport" 1m.bin)
n3=$(run_ab "$nport")
p3=$(run_ab "$pport")
nrss=$(peak_rss_kb "$nginx_pid")
prss=$(peak_rss_kb "$portico_pid")

printf '%-28s %14s %14s %8s\n' "workload" "nginx" "portico" "ratio"
printf '%-28s %14s %14s %8s\n' "1 KiB keep-alive req/s" "$n1_rps" "$p1_rps" "$(ratio "$p1_rps" "$n1_rps")"
printf '%-28s %14s %14s\n' "1 KiB p99 latency" "$n1_p99" "$p1_p99"
printf '%-28s %14s %14s %8s\n' "1 MiB keep-alive req/s" "$n2_rps" "$p2_rps" "$(ratio "$p2_rps" "$n2_rps")"
printf '%-28s %14s %14s\n' "1 MiB transfer/s" "$n2_tr" "$p2_tr"
printf '%-28s %14s %14s\n' "1 MiB p99 latency" "$n2_p99" "$p2_p99"
printf '%-28s %14s %14s %8s\n' "new connections/s (ab)" "$n3" "$p3" "$(ratio "$p3" "$n3")"
printf '%-28s %14s %14s %8s\n' "peak RSS KiB (all procs)" "$nrss" "$prss" "$(ratio "$prss" "$nrss")"
