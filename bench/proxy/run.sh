#!/usr/bin/env bash
# bench/proxy: the HTTP proxy (issue 12) against nginx in the same run, on
# bench ports 41000-41099 of loopback, the origin being one nginx static
# server for everybody (no cache anywhere: the miss path).
#   reverse proxy: wrk -t2 -c64 on a 1 KiB and a 1 MiB object through
#     portico's [http] proxy route and through nginx proxy_pass (both open a
#     connection to the origin per request: nginx's default HTTP/1.0
#     upstream, portico's Connection: close), and the origin directly;
#   forward proxy: a 256 MiB HTTPS download through portico's CONNECT tunnel
#     (curl --proxytunnel) against the same download direct (no Debian
#     package proxies CONNECT besides squid; direct is the floor).
# Prints the median of RUNS runs, ratios, and peak RSS under the wrk load.
# Environment: PORTICO_BIN (default build/portico), DURATION (default 10),
# RUNS (default 3).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${PORTICO_BIN:-$top/build/portico}
duration=${DURATION:-10}
runs=${RUNS:-3}
cores=$(nproc)
for tool in nginx wrk curl openssl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
    echo "bench/proxy: $tool is missing (scripts/deps.sh --bench)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "bench/proxy: no $bin (make build)" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
origin=41010 origin_tls=41011 nproxy=41020 prev=41030 pfwd=41031

tmp=$(mktemp -d /tmp/portico-bench-proxy.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/www" "$tmp/data"
head -c 1024 /dev/urandom > "$tmp/www/1k.bin"
head -c $((1024 * 1024)) /dev/urandom > "$tmp/www/1m.bin"
head -c $((256 * 1024 * 1024)) /dev/zero > "$tmp/www/256m.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
  2>/dev/null
chmod 755 "$tmp" "$tmp/www"; chmod 644 "$tmp/www/"* "$tmp/key.pem" "$tmp/cert.pem"

nginx_conf() { # dir body
  mkdir -p "$tmp/$1"
  cat > "$tmp/$1/nginx.conf" <<EOF
worker_processes $cores;
pid $tmp/$1/nginx.pid;
error_log $tmp/$1/error.log warn;
events { worker_connections 4096; }
http {
  sendfile on; tcp_nopush on; access_log off;
  client_body_temp_path $tmp/$1/body; proxy_temp_path $tmp/$1/proxy;
  fastcgi_temp_path $tmp/$1/fastcgi; uwsgi_temp_path $tmp/$1/uwsgi; scgi_temp_path $tmp/$1/scgi;
  types { application/octet-stream bin; }
  $2
}
EOF
  "$NGINX" -p "$tmp/$1" -c "$tmp/$1/nginx.conf" -g 'daemon off;' 2>"$tmp/$1/stderr" &
  pids+=($!)
}
nginx_conf origin "server { listen 127.0.0.1:$origin reuseport; root $tmp/www; }
  server { listen 127.0.0.1:$origin_tls ssl reuseport; root $tmp/www;
           ssl_certificate $tmp/cert.pem; ssl_certificate_key $tmp/key.pem; }"
nginx_conf nproxy "server { listen 127.0.0.1:$nproxy reuseport;
  location /p/ { proxy_pass http://127.0.0.1:$origin/; } }"
nginx_pid=${pids[-1]}

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
[sftp]
listen =
[http]
listen = 127.0.0.1:$prev
listen_tls =
proxy = /p/ http://127.0.0.1:$origin/
[proxy]
listen = 127.0.0.1:$pfwd
connect_ports = $origin_tls
EOF
"$bin" -c "$tmp/portico.ini" serve >"$tmp/portico.out" 2>"$tmp/portico.err" &
pids+=($!)
portico_pid=$!

for port in $origin $nproxy $prev $pfwd; do wait_port "$port"; done
base_n=http://127.0.0.1:$nproxy/p base_p=http://127.0.0.1:$prev/p base_o=http://127.0.0.1:$origin
for f in 1k.bin 1m.bin; do
  for url in "$base_o/$f" "$base_n/$f" "$base_p/$f"; do
    curl -sf "$url" | cmp -s - "$tmp/www/$f" || { echo "bench/proxy: $url is wrong" >&2; exit 1; }
  done
done

run_wrk() { # url -> "rps p99ms"
  local out
  out=$(wrk -t2 -c64 -d"${duration}s" --latency "$1")
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1 == "99%" { v = $2 + 0; u = $2;
        sub(/^[0-9.]+/, "", u); if (u == "us") v /= 1000; else if (u == "s") v *= 1000; print v }' <<<"$out")"
}
rss_kb() { # pid -> RSS of pid and its children
  local t=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    t=$((t + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
with_rss() { # pid file cmd...
  local pid=$1 file=$2; shift 2
  ( while :; do rss_kb "$pid" >> "$file"; sleep 0.2; done ) & local s=$!
  "$@"; kill "$s"; wait "$s" 2>/dev/null || true
}
tunnel_mbs() { # with|without proxy -> MB/s of the 256 MiB download
  local px=()
  [ "$1" = with ] && px=(-p -x "http://127.0.0.1:$pfwd")
  curl -s -o /dev/null --cacert "$tmp/cert.pem" "${px[@]}" -w '%{speed_download}' \
    "https://127.0.0.1:$origin_tls/256m.bin" | awk '{printf "%.0f", $1 / 1e6}'
}

echo "bench/proxy: $cores cores, wrk -t2 -c64 -d${duration}s, median of $runs runs"
declare -A v
for r in $(seq "$runs"); do
  for f in 1k 1m; do
    read -r a b < <(run_wrk "$base_o/$f.bin"); v[direct.$f]+="$a "; v[direct.$f.p99]+="$b "
    read -r a b < <(with_rss "$nginx_pid" "$tmp/rss.nginx" run_wrk "$base_n/$f.bin")
    v[nginx.$f]+="$a "; v[nginx.$f.p99]+="$b "
    read -r a b < <(with_rss "$portico_pid" "$tmp/rss.portico" run_wrk "$base_p/$f.bin")
    v[portico.$f]+="$a "; v[portico.$f.p99]+="$b "
  done
  v[tunnel.direct]+="$(tunnel_mbs without) "
  v[tunnel.portico]+="$(tunnel_mbs with) "
done
m() { median ${v[$1]}; }
printf '%-34s %10s %10s %10s %8s\n' "workload (median)" "direct" "nginx" "portico" "p/nginx"
for f in 1k 1m; do
  printf '%-34s %10s %10s %10s %8s\n' "reverse miss $f req/s" "$(m direct.$f)" "$(m nginx.$f)" \
    "$(m portico.$f)" "$(ratio "$(m portico.$f)" "$(m nginx.$f)")"
  printf '%-34s %10s %10s %10s\n' "reverse miss $f p99 (ms)" "$(m direct.$f.p99)" \
    "$(m nginx.$f.p99)" "$(m portico.$f.p99)"
done
printf '%-34s %10s %10s %10s %8s\n' "CONNECT 256 MiB HTTPS (MB/s)" "$(m tunnel.direct)" "-" \
  "$(m tunnel.portico)" "p/direct $(ratio "$(m tunnel.portico)" "$(m tunnel.direct)")"
np=$(sort -n "$tmp/rss.nginx" | tail -1); pp=$(sort -n "$tmp/rss.portico" | tail -1)
printf '%-34s %10s %10s %10s %8s\n' "peak RSS under wrk (KiB)" "-" "$np" "$pp" "$(ratio "$pp" "$np")"
for k in "${!v[@]}"; do echo "runs $k: ${v[$k]}"; done | sort
