#!/usr/bin/env bash
# Installs what ServerFixtures needs to build, test and run its examples (the servers of those
# against real servers included, never started as services), on Debian 12+ or Ubuntu 24.04+:
# only what is missing (nothing is downloaded when all is there).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# locales: the locale sources localedef reads, so that the test of reading logs back under a
# comma-decimal locale (de_DE, built by the test itself without root) runs instead of skipping.
# meson: the packaging test of a Meson project using the .deb's pkg-config files (cpack's DEB
# generator itself needs nothing more: no dpkg-dev, the .deb has no shared library).
# catch2, doctest-dev: the examples with other test frameworks (examples/catch2_test.cpp,
# examples/doctest_test.cpp).
want=(g++ make cmake pkg-config git python3 sqlite3 libgtest-dev libgmock-dev googletest
      libcpp-httplib-dev locales meson catch2 doctest-dev)
missing=()
for p in "${want[@]}"; do installed "$p" || missing+=("$p"); done

# Boost >= 1.81 (Process v2 is usable from there; Debian 12's default libboost-dev is 1.74, so
# a versioned package is named). Keep an installed one if it is recent enough.
boost_minor() { sed -E 's/^libboost1\.([0-9]+)-dev$/\1/'; }
have_boost=""
for p in $(dpkg-query -W -f='${Package}\n' 'libboost1.*-dev' 2>/dev/null | grep -E '^libboost1\.[0-9]+-dev$' || true); do
  if installed "$p" && [ "$(echo "$p" | boost_minor)" -ge 81 ]; then have_boost=$(echo "$p" | boost_minor); fi
done

updated=""
update() { [ -n "$updated" ] || { $SUDO apt-get update -q; updated=1; }; }

if [ -z "$have_boost" ]; then
  update
  have_boost=$(apt-cache pkgnames libboost1. | grep -E '^libboost1\.[0-9]+-dev$' | boost_minor | sort -n | awk '$1 >= 81' | tail -n 1)
  if [ -z "$have_boost" ]; then
    echo "install-deps: no Boost >= 1.81 in this system's package lists (Debian 12 and Ubuntu 24.04 have it)" >&2
    exit 1
  fi
  missing+=("libboost1.${have_boost}-dev")
fi
installed "libboost-filesystem1.${have_boost}-dev" || missing+=("libboost-filesystem1.${have_boost}-dev")
if [ "$have_boost" -ge 86 ]; then
  installed "libboost-process1.${have_boost}-dev" || missing+=("libboost-process1.${have_boost}-dev")
fi

# The servers of the examples against real servers (examples/redis_test.cpp and others). Any
# nginx package will do (Debian 12's nginx-light is a metapackage over nginx).
servers=()
for p in redis-server redis-tools memcached mariadb-server mariadb-client; do
  installed "$p" || servers+=("$p")
done
installed nginx || installed nginx-light || installed nginx-full || installed nginx-core ||
  installed nginx-extras || servers+=(nginx)
missing+=("${servers[@]}")

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed (Boost 1.${have_boost})"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
update
# The examples run these servers as their own children; Debian's packages would start them as
# system services on their usual ports on a machine with an init system (a container or chroot
# without one blocks it already). Where no policy-rc.d says otherwise, forbid starting services
# for the time of this install (invoke-rc.d and deb-systemd-invoke both ask it).
policy=/usr/sbin/policy-rc.d
if [ ${#servers[@]} -gt 0 ] && [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# install-deps.sh: no service started during this install\nexit 101\n' |
    $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
