#!/usr/bin/env bash
# Builds the Kubernetes control-plane binaries, etcd, kwok and helm from the Go module
# proxy into a cache outside the repository, one folder per component and version.
#
# local-cluster/binaries.ts prefers a binary in $KUBEBUILDER_ASSETS or on PATH; this script
# only fills the cache. Versions come from scripts/versions.env. npm start and
# cluster:up call it (through local-cluster/ensure-binaries.ts) for what they lack.
#
#   scripts/build-binaries.sh                  # build every component that is missing
#   scripts/build-binaries.sh etcd kwok        # only these (etcd kwok kubernetes helm)
#   scripts/build-binaries.sh --print          # print "<name> <cached path>" per binary
#   scripts/build-binaries.sh whereabouts      # Whereabouts (CNI IPAM) for bench/cni-add; never
#                                              # built by "all", and so never by npm test or CI
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
CACHE="${SPIDERPOOL_CACHE:-$HOME/.cache/spiderpool}"
# One folder per component and version, so a version bump rebuilds only that component.
dir_of() {
  case "$1" in
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl) echo "$CACHE/kubernetes-$K8S_VERSION" ;;
    etcd) echo "$CACHE/etcd-$ETCD_VERSION" ;;
    kwok) echo "$CACHE/kwok-$KWOK_VERSION" ;;
    helm) echo "$CACHE/helm-$HELM_VERSION" ;;
    whereabouts) echo "$CACHE/whereabouts-$WHEREABOUTS_VERSION" ;;
  esac
}
ALL=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm)

if [[ "${1:-}" == "--print" ]]; then for b in "${ALL[@]}"; do echo "$b $(dir_of "$b")/$b"; done; exit 0; fi

for what in "${@:-all}"; do
  case "$what" in
    all|etcd|kwok|kubernetes|helm|whereabouts) ;;
    *) echo "usage: $0 [--print | all | etcd kwok kubernetes helm whereabouts ...]" >&2; exit 2 ;;
  esac
done

# Debian's Go is too old for these modules; the official tarball lives in /usr/local/go.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi
if ! command -v go >/dev/null 2>&1; then
  echo "[build-binaries] Go is not installed: the binaries are built from the Go module proxy." >&2
  echo "[build-binaries] Install Go 1.25 or later (https://go.dev/dl/, into /usr/local/go), or put the" >&2
  echo "[build-binaries] binaries on PATH or in \$KUBEBUILDER_ASSETS." >&2
  exit 3
fi

# go build -v names each package as it compiles: whoever watches the log (npm start shows
# its last line every 15 s) sees the build move.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
export GOMODCACHE="${GOMODCACHE:-$CACHE/gomod}" GOCACHE="${GOCACHE:-$CACHE/gobuild}"
mkdir -p "$CACHE/src"
log() { echo "[build-binaries] $*" >&2; }

# One build per cache at a time (npm start in two terminals, or beside npm test): the
# second waits, then finds what the first built.
exec 9>"$CACHE/.build.lock"
if ! flock -n 9; then
  log "another build is filling $CACHE; waiting for it"
  flock 9
fi

have() { [[ -x "$(dir_of "$1")/$1" ]]; }

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
    local out; out="$(dir_of "$b")"; mkdir -p "$out"
    go build -v -p "${BUILD_PARALLEL:-2}" -trimpath -tags=grpcnotrace -ldflags "$ld" -o "$out/$b.tmp" "k8s.io/kubernetes/cmd/$b"
    mv "$out/$b.tmp" "$out/$b"
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
  local out; out="$(dir_of etcd)"; mkdir -p "$out"
  go build -v -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$out/etcd.tmp" "$out/etcd"
}

build_kwok() {
  have kwok && return 0
  log "building kwok $KWOK_VERSION"
  local out; out="$(dir_of kwok)"; mkdir -p "$out"
  GOBIN="$out" go install -v -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok >= 0.8 ships no built-in stages; keep the module's stage documents beside it.
  local src
  src=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  rm -rf "$out/stages"; mkdir -p "$out/stages"
  cp -r "$src/kustomize/stage/." "$out/stages/"
  chmod -R u+w "$out/stages"
}

build_helm() {
  have helm && return 0
  log "building helm $HELM_VERSION"
  local out; out="$(dir_of helm)"; mkdir -p "$out"
  GOBIN="$out" go install -v -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

# --- Whereabouts: its go.mod has a replace directive (go install refuses), so it is built
# as a dependency of a throwaway module carrying the same replace; its CRDs go beside it.
build_whereabouts() {
  have whereabouts && return 0
  local mod="github.com/k8snetworkplumbingwg/whereabouts" dir="$CACHE/src/whereabouts-$WHEREABOUTS_VERSION" src
  mkdir -p "$dir"; cd "$dir"
  log "building whereabouts $WHEREABOUTS_VERSION"
  src=$(go mod download -json "$mod@$WHEREABOUTS_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  if [[ ! -f go.mod ]]; then
    go mod init local/whereabouts-build >/dev/null 2>&1
    go mod edit -go=1.25
    go mod edit -json "$src/go.mod" \
      | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const r of JSON.parse(s).Replace??[])console.log(`${r.Old.Path}=${r.New.Path}@${r.New.Version}`)})' \
      | while read -r r; do go mod edit -replace "$r"; done
    go mod edit -require "$mod@$WHEREABOUTS_VERSION"
  fi
  go get "$mod/cmd@$WHEREABOUTS_VERSION"
  local out; out="$(dir_of whereabouts)"; mkdir -p "$out/crds"
  go build -v -trimpath -ldflags "-s -w" -o "$out/whereabouts.tmp" "$mod/cmd"
  cp "$src"/doc/crds/whereabouts.cni.cncf.io_*.yaml "$out/crds/"
  chmod -R u+w "$out/crds"
  mv "$out/whereabouts.tmp" "$out/whereabouts"
}

for what in "${@:-all}"; do
  case "$what" in
    all) build_etcd; build_kwok; build_kubernetes; build_helm ;;
    *) "build_$what" ;;
  esac
done
log "binaries are in $CACHE"
