#!/usr/bin/env bash
# Installs the project's CNI plugins (every executable of the host artifact: spiderpool,
# the IPAM plugin, and coordinator, the chained plugin) into a CNI bin dir, and optionally
# writes a macvlan network config that uses them. Idempotent (unchanged files are left alone) and
# atomic (each file is written beside its target and renamed over it), so a container
# runtime calling the plugin during an upgrade sees the old or the new file, never half.
# The Helm chart runs it from an init container with the host's dirs mounted.
#
#   scripts/install-cni.sh [options]
#     --from DIR          the host artifact to install (default: dist/cni/host beside this
#                         script's repo; build it with `node scripts/bundle.mjs --host`)
#     --bin-dir DIR       CNI bin dir (env CNI_BIN_DIR, default /opt/cni/bin)
#     --no-verify         do not run the installed plugin's VERSION command
#     --uninstall         remove the plugins (and the config file named by --conf-file)
#     --log-dir DIR       the only folder the plugins may write log files in (host setting,
#                         written to --host-settings; without it: /var/log/spidernet)
#     --host-settings F   the plugins' host settings file (env SPIDERPOOL_CNI_HOST_SETTINGS,
#                         default /etc/spidernet/spiderpool-cni.json; docs/security.md)
#   network config (written only with --master):
#     --master IF         the macvlan master interface on the host
#     --conf-dir DIR      CNI conf dir (env CNI_CONF_DIR, default /etc/cni/net.d)
#     --conf-file NAME    file name (default 90-spiderpool-macvlan.conflist; the runtime's
#                         default network is the lexically first file, so keep it late
#                         unless spiderpool's network should be the Pods' first NIC)
#     --name NAME         network name (default macvlan-<master>)
#     --mode MODE         macvlan mode (default bridge)
#     --cni-version V     config cniVersion (default 1.0.0; Debian's plugins speak <= 1.0.0)
#     --ipv4-pool A,B     ipam.default_ipv4_ippool      --ipv6-pool A,B  ipam.default_ipv6_ippool
#     --clean-gateway     ipam.clean_gateway: true
#     --socket PATH       ipam.ipam_unix_socket_path (default /var/run/spidernet/spiderpool.sock)
#     --log-level L       ipam.log_level (default info)
#     --log-file PATH     ipam.log_file_path (default /var/log/spidernet/spiderpool.log)
#     --coordinator       chain the coordinator plugin after macvlan (docs/coordinator.md)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
from="$here/../dist/cni/host"
bin_dir="${CNI_BIN_DIR:-/opt/cni/bin}"
conf_dir="${CNI_CONF_DIR:-/etc/cni/net.d}"
conf_file="90-spiderpool-macvlan.conflist"
verify=1 uninstall=0 master="" name="" mode="bridge" cni_version="1.0.0" coordinator=0
ipv4_pools="" ipv6_pools="" clean_gateway=false
socket="/var/run/spidernet/spiderpool.sock" log_level="info" log_file="/var/log/spidernet/spiderpool.log"
log_dir="" host_settings="${SPIDERPOOL_CNI_HOST_SETTINGS:-/etc/spidernet/spiderpool-cni.json}"
# A host artifact (bundle.mjs) holds one executable per plugin, named as the runtime calls
# it, and, in the launcher form, support files: the shared private Node and one bundle per
# plugin. Everything in --from is installed; these are the names when --from is absent.
default_plugins=(spiderpool coordinator)

die() { echo "install-cni: $*" >&2; exit 1; }
say() { echo "install-cni: $*" >&2; }

while (($#)); do
  opt="$1"; shift
  case "$opt" in
    --from) from="$1"; shift ;;
    --bin-dir) bin_dir="$1"; shift ;;
    --conf-dir) conf_dir="$1"; shift ;;
    --conf-file) conf_file="$1"; shift ;;
    --no-verify) verify=0 ;;
    --uninstall) uninstall=1 ;;
    --master) master="$1"; shift ;;
    --name) name="$1"; shift ;;
    --mode) mode="$1"; shift ;;
    --cni-version) cni_version="$1"; shift ;;
    --ipv4-pool) ipv4_pools="$1"; shift ;;
    --ipv6-pool) ipv6_pools="$1"; shift ;;
    --clean-gateway) clean_gateway=true ;;
    --socket) socket="$1"; shift ;;
    --log-level) log_level="$1"; shift ;;
    --log-file) log_file="$1"; shift ;;
    --log-dir) log_dir="$1"; shift ;;
    --host-settings) host_settings="$1"; shift ;;
    --coordinator) coordinator=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $opt (see --help)" ;;
  esac
done

# Values land in JSON and file names: allow only what they can legitimately be.
check() { [[ "$2" =~ $3 ]] || die "$1 '$2' is not valid ($4)"; }
check --conf-file "$conf_file" '^[A-Za-z0-9_.-]+\.conflist$' "a file name ending in .conflist"
[[ -z "$log_dir" ]] || check --log-dir "$log_dir" '^/[^"\\[:space:]]*$' "an absolute path"
check --host-settings "$host_settings" '^/[^"\\[:space:]]*$' "an absolute path"
if [[ -n "$master" ]]; then
  check --master "$master" '^[^/:[:space:]"\\]{1,15}$' "a Linux interface name"
  name="${name:-macvlan-$master}"
  check --name "$name" '^[A-Za-z0-9][A-Za-z0-9_.-]*$' "letters, digits, '_', '.', '-'"
  check --mode "$mode" '^(bridge|private|vepa|passthru)$' "bridge, private, vepa or passthru"
  check --cni-version "$cni_version" '^(0\.3\.0|0\.3\.1|0\.4\.0|1\.0\.0|1\.1\.0)$' "0.3.0 to 1.1.0"
  check --log-level "$log_level" '^(debug|info|warn|warning|error)$' "debug, info, warn or error"
  check --socket "$socket" '^/[^"\\[:space:]]*$' "an absolute path"
  check --log-file "$log_file" '^(/[^"\\[:space:]]*)?$' "an absolute path, or empty for no file"
  pool_list() { # "a,b" -> ["a","b"]
    local out="" p
    IFS=',' read -r -a items <<<"$1"
    for p in "${items[@]}"; do
      [[ -z "$p" ]] && continue
      check pool "$p" '^[][a-z0-9.*?-]+$' "a pool name or glob"
      out="${out:+$out, }\"$p\""
    done
    echo "[$out]"
  }
  v4="$(pool_list "$ipv4_pools")"; v6="$(pool_list "$ipv6_pools")"
fi

# Writes stdin to $1 through a temp file in the same dir, unless $1 already has that content.
# Returns 0 when it wrote, 1 when the file was already so; dies on failure (errexit does not
# apply inside a function called as a condition).
atomic_write() {
  local target="$1" mode="$2" tmp
  tmp="$(mktemp "$(dirname "$target")/.install-cni.XXXXXX")" || die "cannot create a temp file beside $target"
  if ! { cat >"$tmp" && chmod "$mode" "$tmp"; }; then rm -f "$tmp"; die "cannot write $tmp"; fi
  if [[ -f "$target" ]] && cmp -s "$tmp" "$target"; then rm -f "$tmp"; return 1; fi
  mv -f "$tmp" "$target" || { rm -f "$tmp"; die "cannot rename $tmp to $target"; }
}

# The plugins (entry points) of the artifact: its executables whose names do not start with a dot.
plugins=()
if [[ -d "$from" ]]; then
  for f in "$from"/*; do [[ -f "$f" && -x "$f" ]] && plugins+=("${f##*/}"); done
fi
((${#plugins[@]})) || plugins=("${default_plugins[@]}")
support_files() { # the support files any form may have installed for these plugins
  local p
  echo .spiderpool-node
  for p in "${plugins[@]}"; do echo ".$p.cjs"; done
}

if ((uninstall)); then
  # The project's plugins are removed whatever the artifact at hand holds.
  plugins=($(printf '%s\n' "${plugins[@]}" "${default_plugins[@]}" | sort -u))
  for f in "${plugins[@]}" $(support_files); do rm -f "$bin_dir/$f"; done
  rm -f "$conf_dir/$conf_file"
  say "removed ${plugins[*]} from $bin_dir and $conf_dir/$conf_file"
  exit 0
fi

[[ -x "$from/spiderpool" ]] || die "no plugin at $from/spiderpool: build it with 'node scripts/bundle.mjs --host' or pass --from"
mkdir -p "$bin_dir"
# Support files first, the entry points last: a new entry never runs with old support files.
changed=0
for f in $(support_files) "${plugins[@]}"; do
  [[ -f "$from/$f" ]] || continue
  file_mode=0644; [[ -x "$from/$f" ]] && file_mode=0755
  if atomic_write "$bin_dir/$f" "$file_mode" <"$from/$f"; then changed=1; say "installed $bin_dir/$f"; fi
done
# Support files of another form (switching launcher -> single executable) go last.
for f in $(support_files); do
  if [[ ! -f "$from/$f" && -e "$bin_dir/$f" ]]; then rm -f "$bin_dir/$f"; changed=1; say "removed stale $bin_dir/$f"; fi
done
((changed)) || for p in "${plugins[@]}"; do say "$bin_dir/$p is up to date"; done

# The log directory is the host's to set, never a network config's (cni/log-dir.ts).
if [[ -n "$log_dir" ]]; then
  mkdir -p "$(dirname "$host_settings")"
  if printf '{"log_dir": "%s"}\n' "$log_dir" | atomic_write "$host_settings" 0644; then say "wrote $host_settings (log_dir $log_dir)"; fi
fi

if ((verify)); then
  for p in "${plugins[@]}"; do
    out="$(CNI_COMMAND=VERSION "$bin_dir/$p" </dev/null)" || die "the installed plugin $p failed its VERSION call: $out"
    [[ "$out" == *'"supportedVersions"'* ]] || die "the installed plugin $p answered VERSION with: $out"
  done
fi

if [[ -n "$master" ]]; then
  coordinator_entry=""; ((coordinator)) && coordinator_entry=",
    { \"type\": \"coordinator\" }"
  log_file_line=""; [[ -n "$log_file" ]] && log_file_line="
        \"log_file_path\": \"$log_file\","
  mkdir -p "$conf_dir"
  if atomic_write "$conf_dir/$conf_file" 0644 <<EOF
{
  "cniVersion": "$cni_version",
  "name": "$name",
  "plugins": [
    {
      "type": "macvlan",
      "master": "$master",
      "mode": "$mode",
      "ipam": {
        "type": "spiderpool",
        "log_level": "$log_level",$log_file_line
        "default_ipv4_ippool": $v4,
        "default_ipv6_ippool": $v6,
        "clean_gateway": $clean_gateway,
        "ipam_unix_socket_path": "$socket"
      }
    }$coordinator_entry
  ]
}
EOF
  then say "wrote $conf_dir/$conf_file"; else say "$conf_dir/$conf_file is up to date"; fi
fi
