#!/usr/bin/env bash
# Builds the reference server and the C baseline, runs every baseline of the
# issue-6 benchmark and prints a table of medians. Raw "key value" output of
# each run is kept in BUILD_DIR/results/.
#   bench/run_baselines.sh [BUILD_DIR]      (default: bench/build)
# Takes about a minute on a 2-core machine; only 127.0.0.1 is used.
set -euo pipefail

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$bench/build}
mkdir -p "$build/results"
build=$(cd "$build" && pwd)
results=$build/results
python=/usr/bin/python3

c_cycles=2000
py_cycles=500
xprocess_cycles=30
flood_bytes=268435456  # 256 MiB
c_flood_reps=7
py_flood_reps=5
stop_grace_ms=100
stop_count=20

for prog in refserver c_baseline; do
  cc -std=gnu11 -O2 -Wall -Wextra -o "$build/$prog" "$bench/$prog.c"
done
server=$build/refserver

run() {  # run NAME COMMAND... : keeps the output in results/NAME.txt
  local name=$1; shift
  echo "running $name: ${*##*/}" >&2
  "$@" >"$results/$name.txt"
}

run c_cycle       "$build/c_baseline" --server "$server" cycle "$c_cycles"
run c_flood       "$build/c_baseline" --server "$server" flood "$flood_bytes" "$c_flood_reps"
run c_devnull     "$build/c_baseline" --server "$server" devnull "$flood_bytes" "$c_flood_reps"
run c_stop        "$build/c_baseline" --server "$server" stop-ignore "$stop_grace_ms" "$stop_count"
run py_cycle      "$python" "$bench/py_recipe.py" --server "$server" cycle "$py_cycles"
run py_flood      "$python" "$bench/py_recipe.py" --server "$server" flood "$flood_bytes" "$py_flood_reps"
run xprocess_cycle "$python" "$bench/xprocess_cycle.py" --server "$server" cycle "$xprocess_cycles"

# --- ServerFixtures (our library) -------------------------------------------
# Its benchmark comes later, as a program taking c_baseline's modes and printing
# the same keys. Point FIXTURES_BENCH at it (default BUILD_DIR/fixtures_bench)
# and it gets its own rows below.
fixtures_bench=${FIXTURES_BENCH:-$build/fixtures_bench}
have_fixtures=0
if [ -x "$fixtures_bench" ]; then
  have_fixtures=1
  run fx_cycle "$fixtures_bench" --server "$server" cycle "$c_cycles"
  run fx_flood "$fixtures_bench" --server "$server" flood "$flood_bytes" "$c_flood_reps"
  run fx_stop  "$fixtures_bench" --server "$server" stop-ignore "$stop_grace_ms" "$stop_count"
fi

get() {  # get NAME KEY : the value of KEY in results/NAME.txt, or "-"
  awk -v k="$2" '$1 == k { v = $2 } END { print (v == "" ? "-" : v) }' "$results/$1.txt"
}

cycle_row() {  # cycle_row LABEL NAME
  printf '%-30s %7s %9s %9s %9s %9s %12s %9s\n' "$1" "$(get "$2" cycles)" \
    "$(get "$2" ready_median_ms)" "$(get "$2" cycle_min_ms)" "$(get "$2" cycle_median_ms)" \
    "$(get "$2" cycle_p99_ms)" "$(get "$2" teardown_median_ms)" "$(get "$2" cycles_per_s)"
}

flood_row() {  # flood_row LABEL NAME PREFIX
  printf '%-30s %9s %13s %9s\n' "$1" "$(get "$2" "$3_reps")" \
    "$(get "$2" "$3_median_ms")" "$(get "$2" "$3_mib_s")"
}

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
echo
echo "Start, one GET, SIGTERM, reap (times in ms)"
printf '%-30s %7s %9s %9s %9s %9s %12s %9s\n' baseline cycles ready_med cycle_min cycle_med \
  cycle_p99 teardown_med cycles/s
cycle_row "C posix_spawn + poll" c_cycle
cycle_row "Python Popen + reader thread" py_cycle
cycle_row "pytest-xprocess" xprocess_cycle
[ "$have_fixtures" = 1 ] && cycle_row "ServerFixtures" fx_cycle
echo
echo "Flood of $flood_bytes bytes in 100-byte lines: child spawn to reaped (ms)"
printf '%-30s %9s %13s %9s\n' baseline reps median_ms MiB/s
flood_row "C stdout to /dev/null" c_devnull devnull
flood_row "C read() 64 KiB from pipe" c_flood flood
flood_row "Python readline + Queue" py_flood flood
[ "$have_fixtures" = 1 ] && flood_row "ServerFixtures" fx_flood flood
echo
echo "Server ignoring SIGTERM: SIGTERM, ${stop_grace_ms} ms grace, SIGKILL; overshoot past grace (ms)"
printf '%-30s %9s %9s %9s\n' baseline stops median p99
printf '%-30s %9s %9s %9s\n' "C pidfd poll + SIGKILL" "$(get c_stop stops)" \
  "$(get c_stop overshoot_median_ms)" "$(get c_stop overshoot_p99_ms)"
if [ "$have_fixtures" = 1 ]; then
  printf '%-30s %9s %9s %9s\n' "ServerFixtures" "$(get fx_stop stops)" \
    "$(get fx_stop overshoot_median_ms)" "$(get fx_stop overshoot_p99_ms)"
fi
echo
echo "raw results: $results"
