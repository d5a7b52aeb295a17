#!/usr/bin/env bash
# Installs what WG Punch needs to build, run and test on Debian/Ubuntu.
#   scripts/deps.sh run     - build and run the app (cgo + X11/GL headers)
#   scripts/deps.sh test    - everything `make test` uses (mingw too: the package tests cross-build a .exe;
#                             wine: the Wine tier runs that .exe and its MSI)
#   scripts/deps.sh dist    - what the release builds need (the same set)
# Only Debian packages and Go modules are fetched. Safe to run again: it only
# calls apt-get for packages that are missing.
set -euo pipefail
what=${1:-test}

run_pkgs=(gcc pkg-config libgl1-mesa-dev libgl1-mesa-dri xorg-dev)
test_pkgs=("${run_pkgs[@]}" wireguard-tools wireguard-go coturn zbar-tools iperf3 xvfb
  imagemagick dbus dbus-x11 xauth xdotool xfce4-panel iptables nftables iproute2 conntrack netcat-openbsd
  iputils-ping util-linux procps librsvg2-bin
  msitools wixl osslsigncode openssl unzip desktop-file-utils dpkg gcc-mingw-w64-x86-64
  wine)
dist_pkgs=("${test_pkgs[@]}")

case $what in
run) pkgs=("${run_pkgs[@]}") ;;
test) pkgs=("${test_pkgs[@]}") ;;
dist) pkgs=("${dist_pkgs[@]}") ;;
*) echo "usage: $0 run|test|dist" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || { echo "deps: Go 1.26 or newer is needed (https://go.dev/dl); not found on PATH" >&2; exit 1; }
cd "$(dirname "$0")/.."
go mod download
