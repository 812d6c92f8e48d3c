#!/usr/bin/env bash
# Installs what the tests and the local control plane need beyond npm packages:
# Debian packages (real CNI plugins, iproute2, promtool) and the Go-built Kubernetes
# binaries (cached under ~/.cache/spiderpool, keyed by version). Quick when all is there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

packages=(containernetworking-plugins iproute2 iputils-ping iputils-arping prometheus)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "[ensure-deps] installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm start asks for the packages only (it builds the binaries it needs itself).
[[ "${1:-}" == "--packages-only" ]] && exit 0
"$here/build-binaries.sh" all
