#!/usr/bin/env bash
# Builds the Kubernetes control-plane binaries, etcd, kwok and helm from the Go module
# proxy into a cache outside the repository, keyed by version, and prints the bin folder.
#
# A binary already in $KUBEBUILDER_ASSETS or on PATH is not built again: scripts/find-binary
# logic in test/harness prefers those. This script only fills the cache.
#
#   scripts/build-binaries.sh            # build what is missing, print the bin dir
#   scripts/build-binaries.sh --print    # print the bin dir only
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.35.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.5}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
HELM_VERSION="${HELM_VERSION:-v3.19.0}"
CACHE="${SPIDERPOOL_CACHE:-$HOME/.cache/spiderpool}"
BIN="$CACHE/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION"

if [[ "${1:-}" == "--print" ]]; then echo "$BIN"; exit 0; fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
export GOMODCACHE="${GOMODCACHE:-$CACHE/gomod}" GOCACHE="${GOCACHE:-$CACHE/gobuild}"
mkdir -p "$BIN" "$CACHE/src"
log() { echo "[build-binaries] $*" >&2; }

have() { [[ -x "$BIN/$1" ]]; }

# --- Kubernetes: a throwaway module that requires k8s.io/kubernetes and replaces every
# staging module (required upstream at v0.0.0) with its matching v0.<minor>.<patch> release.
build_kubernetes() {
  local missing=()
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do have "$b" || missing+=("$b"); done
  ((${#missing[@]})) || return 0
  local minor patch staging dir="$CACHE/src/k8s-$K8S_VERSION"
  minor=$(cut -d. -f2 <<<"${K8S_VERSION#v}"); patch=$(cut -d. -f3 <<<"${K8S_VERSION#v}")
  staging="v0.$minor.$patch"
  mkdir -p "$dir"; cd "$dir"
  if [[ ! -f go.mod ]] || ! grep -q "k8s.io/kubernetes $K8S_VERSION" go.mod; then
    log "preparing module for k8s.io/kubernetes $K8S_VERSION (staging modules at $staging)"
    rm -f go.mod go.sum
    local upstream
    upstream=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    go mod init local/k8s-build >/dev/null 2>&1
    go mod edit -go=1.25
    go mod edit -json "$upstream" \
      | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const r of JSON.parse(s).Replace??[]){if(r.New.Path.startsWith("./staging/"))console.log(r.Old.Path)}})' \
      | while read -r m; do go mod edit -replace "$m=$m@$staging"; done
    go mod edit -require "k8s.io/kubernetes@$K8S_VERSION"
  fi
  local pkgs=()
  for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b@$K8S_VERSION"); done
  log "go get ${pkgs[*]}"
  go get "${pkgs[@]}"
  local v="k8s.io/component-base/version" c="k8s.io/client-go/pkg/version" ld="-s -w"
  for p in "$v" "$c"; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  for b in "${missing[@]}"; do
    log "building $b $K8S_VERSION (a cold build takes several minutes)"
    go build -p "${BUILD_PARALLEL:-2}" -trimpath -tags=grpcnotrace -ldflags "$ld" -o "$BIN/$b.tmp" "k8s.io/kubernetes/cmd/$b"
    mv "$BIN/$b.tmp" "$BIN/$b"
  done
}

# --- etcd: its server module also carries replace directives, so it is built as a
# dependency of a throwaway module; the main package is the module root.
build_etcd() {
  have etcd && return 0
  local dir="$CACHE/src/etcd-$ETCD_VERSION"
  mkdir -p "$dir"; cd "$dir"
  [[ -f go.mod ]] || { go mod init local/etcd-build >/dev/null 2>&1; go mod edit -go=1.25; }
  log "building etcd $ETCD_VERSION"
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$BIN/etcd.tmp" "$BIN/etcd"
}

build_kwok() {
  have kwok && return 0
  log "building kwok $KWOK_VERSION"
  GOBIN="$BIN" go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok >= 0.8 ships no built-in stages; keep the module's stage documents beside it.
  local src
  src=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  rm -rf "$BIN/kwok-stages"; mkdir -p "$BIN/kwok-stages"
  cp -r "$src/kustomize/stage/." "$BIN/kwok-stages/"
  chmod -R u+w "$BIN/kwok-stages"
}

build_helm() {
  have helm && return 0
  log "building helm $HELM_VERSION"
  GOBIN="$BIN" go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

what="${1:-all}"
case "$what" in
  all) build_etcd; build_kwok; build_kubernetes; build_helm ;;
  etcd|kwok|kubernetes|helm) "build_$what" ;;
  *) echo "usage: $0 [--print|all|etcd|kwok|kubernetes|helm]" >&2; exit 2 ;;
esac
echo "$BIN"
