#!/usr/bin/env bash
# Kept for old habits: every benchmark now runs from run.sh (it builds with CMake).
exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" "$@"
