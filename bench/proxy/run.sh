#!/usr/bin/env bash
# bench/proxy: the HTTP proxy and its cache (issue 12) against nginx and
# Varnish in the same run, on bench ports 45000-45099 of loopback
# (BENCH_PORT_BASE moves them: BASE+10 .. BASE+31), the
# origin being one nginx static server for everybody.
#   cache hits: wrk -t2 -c64 on a 1 KiB and a 1 MiB object through
#     portico's [http] proxy route (its cache), nginx proxy_cache and a
#     private Varnish instance (-s malloc), every one primed first, and the
#     origin directly; peak RSS and PSS of each under that load;
#   reverse miss: the same objects under /nc/, which the origin marks
#     no-store: portico (origin connections kept, pool.c), nginx
#     proxy_pass as shipped (HTTP/1.0 upstream, a connection per request)
#     and nginx with an upstream keepalive pool forward every request;
#   miss latency: wrk -t1 -c4 against an origin that answers after 10 ms
#     (bench/proxy/slow_origin.py, no-store), directly and through portico
#     and nginx: the median and p99 latency;
#   forward proxy: a 256 MiB HTTPS download through portico's CONNECT tunnel
#     (curl --proxytunnel) against the same download direct.
# Prints the median of RUNS runs and ratios, and for hits each server's
# own CPU per request (utime + stime over the run / requests). HITS_ONLY=1
# runs the hit rows only. Environment: PORTICO_BIN
# (default build/portico), DURATION (default 10), RUNS (default 3),
# BENCH_PORT_BASE (default 45000).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${PORTICO_BIN:-$top/build/portico}
duration=${DURATION:-10}
runs=${RUNS:-3}
cores=$(nproc)
for tool in nginx varnishd wrk curl openssl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
    echo "bench/proxy: $tool is missing (scripts/deps.sh --bench)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "bench/proxy: no $bin (make build)" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
VARNISHD=$(command -v varnishd || echo /usr/sbin/varnishd)
pb=${BENCH_PORT_BASE:-45000} # the ports used: pb+10 .. pb+31
origin=$((pb + 10)) origin_tls=$((pb + 11)) slow=$((pb + 12)) nproxy=$((pb + 20))
varnish=$((pb + 21)) vadmin=$((pb + 22)) nkeep=$((pb + 23)) prev=$((pb + 30)) pfwd=$((pb + 31))

tmp=$(mktemp -d /tmp/portico-bench-proxy.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$tmp"
  free_ports_done
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
# The origin: cacheable objects (an hour of max-age), and the same under
# /nc/ marked no-store for the miss path.
nginx_conf origin "server { listen 127.0.0.1:$origin reuseport; root $tmp/www; expires 1h;
    location /nc/ { alias $tmp/www/; expires off; add_header Cache-Control no-store; } }
  server { listen 127.0.0.1:$origin_tls ssl reuseport; root $tmp/www;
           ssl_certificate $tmp/cert.pem; ssl_certificate_key $tmp/key.pem; }"
nginx_conf nproxy "proxy_cache_path $tmp/nproxy/cache keys_zone=c:16m max_size=1g;
  server { listen 127.0.0.1:$nproxy reuseport;
  location /p/ { proxy_pass http://127.0.0.1:$origin/; }
  location /s/ { proxy_pass http://127.0.0.1:$slow/; }
  location /c/ { proxy_pass http://127.0.0.1:$origin/; proxy_cache c; } }
  upstream kept { server 127.0.0.1:$origin; keepalive 64; }
  server { listen 127.0.0.1:$nkeep reuseport;
  location /p/ { proxy_pass http://kept/; proxy_http_version 1.1;
                 proxy_set_header Connection \"\"; } }"
nginx_pid=${pids[-1]}

# Varnish 7.1: a private instance, its own work dir, malloc storage.
mkdir -p "$tmp/varnish"
cat > "$tmp/varnish/default.vcl" <<VCL
vcl 4.1;
backend origin { .host = "127.0.0.1"; .port = "$origin"; }
sub vcl_recv { set req.url = regsub(req.url, "^/c/", "/"); }
VCL
chmod -R a+rX "$tmp/varnish"
"$VARNISHD" -F -n "$tmp/varnish/work" -a "127.0.0.1:$varnish" -T "127.0.0.1:$vadmin" \
  -f "$tmp/varnish/default.vcl" -s malloc,256m >"$tmp/varnish/stdout" 2>&1 &
pids+=($!)
varnish_pid=$!

python3 "$(dirname "$0")/slow_origin.py" "$slow" 0.010 &
pids+=($!)

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
proxy = /c/ http://127.0.0.1:$origin/
proxy = /s/ http://127.0.0.1:$slow/
[proxy]
listen = 127.0.0.1:$pfwd
connect_ports = $origin_tls
EOF
"$bin" -c "$tmp/portico.ini" serve >"$tmp/portico.out" 2>"$tmp/portico.err" &
pids+=($!)
portico_pid=$!

for port in $origin $slow $nproxy $nkeep $varnish $prev $pfwd; do wait_port "$port"; done
base_n=http://127.0.0.1:$nproxy/p/nc base_p=http://127.0.0.1:$prev/p/nc
base_k=http://127.0.0.1:$nkeep/p/nc
base_o=http://127.0.0.1:$origin/nc
hit_o=http://127.0.0.1:$origin hit_n=http://127.0.0.1:$nproxy/c hit_v=http://127.0.0.1:$varnish/c
hit_p=http://127.0.0.1:$prev/c
for f in 1k.bin 1m.bin; do # correct, and primed (each cache stores both objects)
  for url in "$base_o/$f" "$base_n/$f" "$base_k/$f" "$base_p/$f" "$hit_n/$f" "$hit_v/$f" "$hit_p/$f" \
             "$hit_n/$f" "$hit_v/$f" "$hit_p/$f"; do
    curl -sf "$url" | cmp -s - "$tmp/www/$f" || { echo "bench/proxy: $url is wrong" >&2; exit 1; }
  done
done
curl -sfI "$hit_p/1k.bin" | grep -qi '^age:' || { echo "bench/proxy: portico did not cache" >&2; exit 1; }

run_wrk() { # url -> "rps p99ms requests"
  local out
  out=$(wrk -t2 -c64 -d"${duration}s" --latency "$1")
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1 == "99%" { v = $2 + 0; u = $2;
        sub(/^[0-9.]+/, "", u); if (u == "us") v /= 1000; else if (u == "s") v *= 1000; print v }' <<<"$out") $(awk '/requests in/ {print $1}' <<<"$out")"
}
tree() { # pid -> pid and its descendants
  local p
  echo "$1"
  for p in $(pgrep -P "$1" || true); do tree "$p"; done
}
rss_kb() { # pid -> "RSS PSS" (KiB) of pid and its descendants
  local r=0 q=0 p a b
  for p in $(tree "$1"); do
    a=$(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    b=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    r=$((r + ${a:-0})); q=$((q + ${b:-0}))
  done
  echo "$r $q"
}
cpu_ticks() { # pid -> utime + stime (clock ticks) of pid and its descendants
  local t=0 p x
  for p in $(tree "$1"); do
    x=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}')
    t=$((t + ${x:-0}))
  done
  echo "$t"
}
hit_run() { # name pid url -> "rps cpu-us-per-request": the server's own CPU,
  local t0 t1 a b n # a figure the other loads of a shared machine move less
  t0=$(cpu_ticks "$2")
  read -r a b n < <(with_rss "$2" "$tmp/mem.$1" run_wrk "$3")
  t1=$(cpu_ticks "$2")
  echo "$a $(python3 -c "print(f'{($t1 - $t0) * 1e6 / $(getconf CLK_TCK) / max(${n:-0}, 1):.1f}')")"
}
with_rss() { # pid file cmd...
  local pid=$1 file=$2; shift 2
  ( while :; do rss_kb "$pid" >> "$file"; sleep 0.2; done ) & local s=$!
  "$@"; kill "$s"; wait "$s" 2>/dev/null || true
}
run_lat() { # url -> "p50ms p99ms" at low concurrency
  wrk -t1 -c4 -d"${duration}s" --latency "$1" | awk '
    function ms(x,  u, v) { v = x + 0; u = x; sub(/^[0-9.]+/, "", u)
      if (u == "us") v /= 1000; else if (u == "s") v *= 1000; return v }
    $1 == "50%" { a = ms($2) } $1 == "99%" { b = ms($2) } END { print a, b }'
}
tunnel_mbs() { # with|without proxy -> MB/s of the 256 MiB download
  local px=()
  [ "$1" = with ] && px=(-p -x "http://127.0.0.1:$pfwd")
  curl -s -o /dev/null --cacert "$tmp/cert.pem" "${px[@]}" -w '%{speed_download}' \
    "https://127.0.0.1:$origin_tls/256m.bin" | awk '{printf "%.0f", $1 / 1e6}'
}

echo "bench/proxy: $cores cores, wrk -t2 -c64 -d${duration}s, median of $runs runs," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A v
for r in $(seq "$runs"); do
  for f in 1k 1m; do
    read -r a b _ < <(run_wrk "$hit_o/$f.bin"); v[hdirect.$f]+="$a "
    read -r a b < <(hit_run nginx "$nginx_pid" "$hit_n/$f.bin")
    v[hnginx.$f]+="$a "; v[hnginx.$f.cpu]+="$b "
    read -r a b < <(hit_run varnish "$varnish_pid" "$hit_v/$f.bin")
    v[hvarnish.$f]+="$a "; v[hvarnish.$f.cpu]+="$b "
    read -r a b < <(hit_run portico "$portico_pid" "$hit_p/$f.bin")
    v[hportico.$f]+="$a "; v[hportico.$f.cpu]+="$b "
  done
  [ -n "${HITS_ONLY:-}" ] && continue
  for w in direct:"http://127.0.0.1:$slow/x" nginx:"http://127.0.0.1:$nproxy/s/x" \
           portico:"http://127.0.0.1:$prev/s/x"; do
    read -r a b < <(run_lat "${w#*:}"); v[lat.${w%%:*}]+="$a "; v[lat.${w%%:*}.p99]+="$b "
  done
  for f in 1k 1m; do
    read -r a b _ < <(run_wrk "$base_o/$f.bin"); v[direct.$f]+="$a "; v[direct.$f.p99]+="$b "
    read -r a b _ < <(run_wrk "$base_n/$f.bin")
    v[nginx.$f]+="$a "; v[nginx.$f.p99]+="$b "
    read -r a b _ < <(run_wrk "$base_k/$f.bin"); v[nginxk.$f]+="$a "; v[nginxk.$f.p99]+="$b "
    read -r a b _ < <(run_wrk "$base_p/$f.bin")
    v[portico.$f]+="$a "; v[portico.$f.p99]+="$b "
  done
  v[tunnel.direct]+="$(tunnel_mbs without) "
  v[tunnel.portico]+="$(tunnel_mbs with) "
done
m() { median ${v[$1]}; }
best() { python3 -c "print(max(float('$1'), float('$2')))"; }
printf '%-34s %10s %10s %10s %10s %8s\n' "cache hits (median)" "direct" "nginx" "varnish" \
  "portico" "p/best"
for f in 1k 1m; do
  printf '%-34s %10s %10s %10s %10s %8s\n' "reverse hit $f req/s" "$(m hdirect.$f)" \
    "$(m hnginx.$f)" "$(m hvarnish.$f)" "$(m hportico.$f)" \
    "$(ratio "$(m hportico.$f)" "$(best "$(m hnginx.$f)" "$(m hvarnish.$f)")")"
  printf '%-34s %10s %10s %10s %10s %8s\n' "  server CPU per hit $f (us)" "-" \
    "$(m hnginx.$f.cpu)" "$(m hvarnish.$f.cpu)" "$(m hportico.$f.cpu)" \
    "$(ratio "$(m hportico.$f.cpu)" "$(python3 -c "print(min(float('$(m hnginx.$f.cpu)'), float('$(m hvarnish.$f.cpu)')))")")"
done
peak() { sort -n -k"$2" "$1" | tail -1 | cut -d' ' -f"$2"; }
for k in 1:RSS 2:PSS; do
  printf '%-34s %10s %10s %10s %10s %8s\n' "peak ${k#*:} under hits (KiB)" "-" \
    "$(peak "$tmp/mem.nginx" "${k%:*}")" "$(peak "$tmp/mem.varnish" "${k%:*}")" \
    "$(peak "$tmp/mem.portico" "${k%:*}")" \
    "p/nginx $(ratio "$(peak "$tmp/mem.portico" "${k%:*}")" "$(peak "$tmp/mem.nginx" "${k%:*}")")"
done
if [ -n "${HITS_ONLY:-}" ]; then
  for k in "${!v[@]}"; do echo "runs $k: ${v[$k]}"; done | sort
  exit 0
fi
printf '%-34s %10s %10s %10s %8s\n' "miss, origin 10 ms: p50 (ms)" "$(m lat.direct)" \
  "$(m lat.nginx)" "$(m lat.portico)" "p/direct $(ratio "$(m lat.portico)" "$(m lat.direct)")"
printf '%-34s %10s %10s %10s\n' "miss, origin 10 ms: p99 (ms)" "$(m lat.direct.p99)" \
  "$(m lat.nginx.p99)" "$(m lat.portico.p99)"
# nginx: proxy_pass as shipped (HTTP/1.0 upstream, a connection per
# request); nginx-ka: with an upstream keepalive pool, like portico's.
printf '%-34s %10s %10s %10s %10s %8s %8s\n' "no-store (median)" "direct" "nginx" "nginx-ka" \
  "portico" "p/nginx" "p/ka"
for f in 1k 1m; do
  printf '%-34s %10s %10s %10s %10s %8s %8s\n' "reverse miss $f req/s" "$(m direct.$f)" \
    "$(m nginx.$f)" "$(m nginxk.$f)" "$(m portico.$f)" \
    "$(ratio "$(m portico.$f)" "$(m nginx.$f)")" "$(ratio "$(m portico.$f)" "$(m nginxk.$f)")"
  printf '%-34s %10s %10s %10s %10s\n' "reverse miss $f p99 (ms)" "$(m direct.$f.p99)" \
    "$(m nginx.$f.p99)" "$(m nginxk.$f.p99)" "$(m portico.$f.p99)"
done
printf '%-34s %10s %10s %10s %8s\n' "CONNECT 256 MiB HTTPS (MB/s)" "$(m tunnel.direct)" "-" \
  "$(m tunnel.portico)" "p/direct $(ratio "$(m tunnel.portico)" "$(m tunnel.direct)")"
for k in "${!v[@]}"; do echo "runs $k: ${v[$k]}"; done | sort
