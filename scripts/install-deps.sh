#!/usr/bin/env bash
# Installs the Debian packages media-janitor needs to build, test and run its demo.
# Idempotent: does nothing when everything is there. Needs root (or sudo) to install.
set -euo pipefail

packages=(libsqlite3-dev sqlite3 libinotifytools0-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null 2>&1; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "error: missing packages ${missing[*]}; install them with apt-get as root" >&2
  exit 1
fi
