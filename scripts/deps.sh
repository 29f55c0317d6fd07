#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and fuzzing portico
# need (and, with --bench, the anchor servers the benchmarks compare against),
# only those that are missing. Run as root (or with sudo available).
set -euo pipefail

build_pkgs=(
  build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  libevent-dev libssl-dev libsqlite3-dev libgmime-3.0-dev libinih-dev
  libc-ares-dev libcrypt-dev libcmocka-dev libssh-dev
)
# Real clients for the integration tests.
test_pkgs=(python3 curl openssl swaks lftp fetchmail chromium openssh-client python3-paramiko
  rclone haproxy)
# Anchors and load generators for bench/.
bench_pkgs=(nginx vsftpd dovecot-pop3d wrk apache2-utils postfix openssh-server)

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
[ "${1:-}" = "--bench" ] && want+=("${bench_pkgs[@]}")

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
