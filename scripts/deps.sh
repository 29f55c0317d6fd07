#!/usr/bin/env bash
# Installs the Debian 12 packages a make target needs, only those that are
# missing: building and running (always), --test (the real clients of the
# integration tests), --fuzz (clang and libFuzzer), --deb (debhelper for
# `make deb`), --bench (the anchor servers). Run as root (or with sudo).
set -euo pipefail

# Building and running portico (`make run`, `make install`).
build_pkgs=(
  build-essential meson ninja-build pkg-config
  libevent-dev libssl-dev libsqlite3-dev libgmime-3.0-dev libinih-dev
  libc-ares-dev libcrypt-dev libidn2-dev libsystemd-dev libssh-dev libopendkim-dev
  zlib1g-dev
)
# `make test`: cmocka, and the real clients the integration tests drive
# (mbsync is isync, mutt runs under tmux; swaks needs libnet-ssleay-perl
# for STARTTLS/TLS; sftp/scp, paramiko and rclone drive SFTP; systemd-analyze
# checks the unit, debhelper builds the package, bash-completion loads the
# completion; python3-prometheus-client parses the metrics endpoint;
# dnsmasq-base, the binary without its service, answers test_dns.py's zone;
# haproxy sends PROXY protocol v2 in test_proxy_protocol.py; the relay
# tests use python3-aiosmtpd as scripted peers, python3-dkim to verify
# signatures and a private postfix as the interop peer; strace checks the
# order of the queue's fsyncs in test_relay_group_commit.py).
test_pkgs=(
  libcmocka-dev python3 curl openssl swaks libnet-ssleay-perl lftp fetchmail isync mutt tmux
  chromium openssh-client python3-paramiko rclone systemd python3-prometheus-client
  debhelper fakeroot bash-completion dnsmasq-base haproxy
  python3-aiosmtpd python3-dkim postfix strace
)
# `make fuzz`: clang with libFuzzer and the sanitizer runtimes.
fuzz_pkgs=(clang libclang-rt-14-dev)
# `make deb`.
deb_pkgs=(debhelper fakeroot dpkg-dev)
# Anchors and load generators for bench/; linux-perf and strace count the
# system calls per request (COUNT=1, bench/lib.sh).
bench_pkgs=(nginx vsftpd dovecot-pop3d dovecot-imapd wrk apache2-utils postfix openssh-server
  linux-perf strace)

want=("${build_pkgs[@]}")
for arg in "$@"; do
  case "$arg" in
  --test) want+=("${test_pkgs[@]}") ;;
  --fuzz) want+=("${fuzz_pkgs[@]}") ;;
  --deb) want+=("${deb_pkgs[@]}") ;;
  --bench) want+=("${bench_pkgs[@]}") ;;
  *) echo "usage: scripts/deps.sh [--test] [--fuzz] [--deb] [--bench]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The anchor servers must not start (and take ports) when installed: a
# policy-rc.d that forbids starting, removed afterwards if we added it.
added_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  $SUDO sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
  added_policy=1
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
[ "$added_policy" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit 0
