#!/usr/bin/env bash
# The first command of the README: installs what is missing, builds (preset "dev"), and runs
# the examples against real servers (redis, memcached, nginx in front of a backend, MariaDB,
# Python's http.server, our cpp-httplib greeter).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --workflow --preset examples
