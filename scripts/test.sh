#!/usr/bin/env bash
# The second command of the README (and all of CI): installs what is missing, then builds and
# runs the whole test suite through ctest in the presets ci (warnings as errors, packaging),
# asan (AddressSanitizer + UBSan) and tsan (ThreadSanitizer). Stops at the first failure.
# Give preset names to run only those: scripts/test.sh ci
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(ci asan tsan)
for preset in "${presets[@]}"; do
  echo "=== preset $preset"
  cmake --workflow --preset "$preset"
done
echo "=== all presets passed: ${presets[*]}"
