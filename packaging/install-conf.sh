#!/bin/sh
# Installs the sample configuration ($1) as $2/portico.conf under
# $DESTDIR unless a configuration is already there.
set -eu
dir="${DESTDIR:-}$2"
mkdir -p "$dir"
if [ ! -e "$dir/portico.conf" ]; then
  install -m 0644 "$1" "$dir/portico.conf"
fi
