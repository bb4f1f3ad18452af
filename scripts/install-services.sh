#!/usr/bin/env bash
# Installs what scripts/services.sh runs: Debian's PostgreSQL (the distro's default major), redis and
# the moto AWS emulator. Idempotent and non-interactive (CI runs it with CI=true and no stdin); when
# everything is already there it only checks and returns.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

# redis-server pulls in redis-tools (redis-cli); curl is the moto readiness probe.
readonly APT_PACKAGES=(postgresql redis-server curl)
readonly MOTO_REQUIREMENT='moto[server]>=5,<6'
readonly CREATECLUSTER_DROPIN=/etc/postgresql-common/createcluster.d/50-zero-to-millions.conf

log() { echo "install-services: $*"; }
die() {
  echo "install-services: error: $*" >&2
  exit 1
}

missing_apt_packages() {
  local package
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -qx 'install ok installed' || echo "$package"
  done
}

# services.sh runs its own clusters on other ports; the "main" cluster the Debian package would create
# (and start on 5432) is only dead weight, so ask postgresql-common not to create it.
disable_main_cluster_creation() {
  [[ -f $CREATECLUSTER_DROPIN ]] && return
  mkdir -p "$(dirname "$CREATECLUSTER_DROPIN")"
  echo 'create_main_cluster = false' >"$CREATECLUSTER_DROPIN"
}

install_apt_packages() {
  local missing
  mapfile -t missing < <(missing_apt_packages)
  if ((${#missing[@]} == 0)); then
    log "apt packages present: ${APT_PACKAGES[*]}"
    return
  fi
  log "installing ${missing[*]}"
  # Wait for the dpkg lock rather than fail when another apt run (or unattended-upgrades) holds it.
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A "main" cluster may exist anyway (installed before the drop-in existed): keep it from running or
# starting at boot, so nothing but our own clusters uses PostgreSQL's memory.
quiet_main_clusters() {
  local version cluster _port status _rest
  while read -r version cluster _port status _rest; do
    [[ $cluster == main ]] || continue
    if [[ $status == online* ]]; then
      log "stopping Debian's default cluster $version/main"
      pg_ctlcluster "$version" main stop
    fi
    echo manual >"/etc/postgresql/$version/main/start.conf"
  done < <(pg_lsclusters --no-header)
}

# pip is quick when the requirement is already satisfied (no network, about a second), and it is the
# only exact judge of the version range and the [server] extra's dependencies.
install_moto() {
  python3 -m pip --version >/dev/null 2>&1 || die "python3 has no pip (expected pyenv's python3)"
  python3 -m pip install --quiet --root-user-action=ignore "$MOTO_REQUIREMENT"
  local version
  version=$(python3 -c 'import importlib.metadata, moto.server; print(importlib.metadata.version("moto"))') ||
    die "moto is installed but 'import moto.server' fails"
  log "moto $version"
}

main() {
  ((EUID == 0)) || die "run as root (apt-get and the postgres user need it)"
  disable_main_cluster_creation
  install_apt_packages
  quiet_main_clusters
  install_moto
  log "done"
}

main "$@"
