#!/usr/bin/env bash
# Builds (CMake, Release) and runs every issue-6 benchmark, then prints one table:
# ServerFixtures next to the baselines, with its ratio to the C lower bound and the target.
# Raw "key value" output of each run is kept in BUILD_DIR/results/.
#   bench/run.sh [BUILD_DIR]      (default: bench/build; a CMake build of the whole project)
# About two minutes on a 2-core machine (a first build adds about one); only 127.0.0.1 is used.
# FIXTURES_BENCH=PATH runs another fixtures_bench instead of the one built here.
set -euo pipefail

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$bench")
build=${1:-$bench/build}
mkdir -p "$build/results"
build=$(cd "$build" && pwd)
results=$build/results
python=/usr/bin/python3

c_cycles=2000
fixed_port_cycles=500
py_cycles=500
xprocess_cycles=30
wake_starts=500
flood_bytes=268435456  # 256 MiB
c_flood_reps=7
py_flood_reps=5
stop_count=500
stop_grace_ms=100
stop_ignore_count=20
many_servers=1000

# --- build ---------------------------------------------------------------------
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "configuring $build" >&2
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFIXTURES_BUILD_TESTS=OFF \
    -DFIXTURES_BUILD_EXAMPLES=OFF -DFIXTURES_INSTALL=OFF >"$results/cmake.log"
elif ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
  echo "warning: $build is not a Release build; figures will be pessimistic" >&2
fi
echo "building refserver c_baseline fixtures_bench" >&2
cmake --build "$build" -j"$(nproc)" --target refserver c_baseline fixtures_bench >>"$results/cmake.log"
server=$build/bench/refserver
c_baseline=$build/bench/c_baseline
fixtures_bench=${FIXTURES_BENCH:-$build/bench/fixtures_bench}

# --- run -----------------------------------------------------------------------
run() {  # run NAME COMMAND... : keeps the output in results/NAME.txt
  local name=$1; shift
  echo "running $name: ${*##*/}" >&2
  "$@" >"$results/$name.txt"
}
fx() { "$fixtures_bench" --server "$server" "$@"; }
cb() { "$c_baseline" --server "$server" "$@"; }

run c_cycle        cb cycle "$c_cycles"
run fx_cycle       fx cycle "$c_cycles" port0
run fx_cycle_fixed fx cycle "$fixed_port_cycles" fixed
run c_wake         cb wake "$wake_starts"
run fx_wake        fx wake "$wake_starts"
run c_flood        cb flood "$flood_bytes" "$c_flood_reps"
run c_devnull      cb devnull "$flood_bytes" "$c_flood_reps"
run fx_flood       fx flood "$flood_bytes" "$c_flood_reps"
run c_stop         cb stop "$stop_count"
run fx_stop        fx stop "$stop_count"
run c_stop_ignore  cb stop-ignore "$stop_grace_ms" "$stop_ignore_count"
run fx_stop_ignore fx stop-ignore "$stop_grace_ms" "$stop_ignore_count"
run fx_many        fx many "$many_servers"
run fx_alive       fx alive "$many_servers"
run py_cycle       "$python" "$bench/py_recipe.py" --server "$server" cycle "$py_cycles"
run py_flood       "$python" "$bench/py_recipe.py" --server "$server" flood "$flood_bytes" "$py_flood_reps"
run xprocess_cycle "$python" "$bench/xprocess_cycle.py" --server "$server" cycle "$xprocess_cycles"

# --- table ---------------------------------------------------------------------
get() {  # get NAME KEY : the value of KEY in results/NAME.txt, or "-"
  local file=$results/$1.txt
  [ -f "$file" ] || { echo -; return; }
  awk -v k="$2" '$1 == k { v = $2 } END { print (v == "" ? "-" : v) }' "$file"
}
ratio() {  # ratio A B : A/B with 2 decimals, "-" when either is missing
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-";
                                   else printf "%.2fx\n", a / b }'
}
fmt='%-36s %9s %9s %9s %11s %7s  %s\n'
row() {  # row LABEL C PY XPROCESS OURS RATIO TARGET
  printf "$fmt" "$@"
}
check() {  # check EXPR : "yes"/"NO" from an awk condition on the arguments a, b
  awk -v a="$2" -v b="${3:-0}" "BEGIN { if (a == \"-\") print \"?\"; else print (($1) ? \"yes\" : \"NO\") }"
}
time_row() {  # time_row LABEL C PY XPROCESS OURS MAX_RATIO|"" ABS_LIMIT|""
  local label=$1 c=$2 py=$3 xp=$4 ours=$5 max_ratio=$6 limit=$7 target="" met=""
  if [ -n "$max_ratio" ]; then
    target="<= ${max_ratio}x C"; met=$(check "a / b <= $max_ratio" "$ours" "$c")
  elif [ -n "$limit" ]; then
    target="< $limit ms"; met=$(check "a < $limit" "$ours")
  fi
  row "$label" "$c" "$py" "$xp" "$ours" "$(ratio "$ours" "$c")" "$target${met:+ -> $met}"
}

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
echo "times in ms (medians unless marked); ratio = ours/C for times and sizes, C/ours for rates"
echo
row "" "C" "Python" "xprocess" "ours" "ratio" "target -> met"
time_row "spawn->ready" "$(get c_cycle ready_median_ms)" "$(get py_cycle ready_median_ms)" \
  "$(get xprocess_cycle ready_median_ms)" "$(get fx_cycle ready_median_ms)" 1.2 ""
time_row "spawn->ready p99" "$(get c_cycle ready_p99_ms)" "$(get py_cycle ready_p99_ms)" \
  "$(get xprocess_cycle ready_p99_ms)" "$(get fx_cycle ready_p99_ms)" "" ""
time_row "spawn->ready, {port} in argv" "$(get c_cycle ready_median_ms)" - - \
  "$(get fx_cycle_fixed ready_median_ms)" "" ""
time_row "ready-line wake-up" "$(get c_wake wake_median_ms)" - - "$(get fx_wake wake_median_ms)" "" ""
time_row "ready-line wake-up p99" "$(get c_wake wake_p99_ms)" - - "$(get fx_wake wake_p99_ms)" "" 1
time_row "  of which line logged, p99" "$(get c_wake wake_p99_ms)" - - "$(get fx_wake logged_p99_ms)" "" ""
time_row "cycle (start, GET, stop, reap)" "$(get c_cycle cycle_median_ms)" \
  "$(get py_cycle cycle_median_ms)" "$(get xprocess_cycle cycle_median_ms)" \
  "$(get fx_cycle cycle_median_ms)" "" ""
c_rate=$(get c_cycle cycles_per_s); fx_rate=$(get fx_cycle cycles_per_s); py_rate=$(get py_cycle cycles_per_s)
row "cycles/s" "$c_rate" "$py_rate" "$(get xprocess_cycle cycles_per_s)" \
  "$fx_rate" "$(ratio "$c_rate" "$fx_rate")" \
  ">= 0.8x C -> $(check 'a >= 0.8 * b' "$fx_rate" "$c_rate")"
row "  ours / Python recipe" - - - "$(ratio "$fx_rate" "$py_rate" | tr -d x)" "" \
  ">= 2 -> $(check 'a >= 2 * b' "$fx_rate" "$py_rate")"
time_row "cycle teardown (Stop + destroy)" "$(get c_cycle teardown_median_ms)" \
  "$(get py_cycle teardown_median_ms)" "$(get xprocess_cycle teardown_median_ms)" \
  "$(get fx_cycle teardown_median_ms)" 2 ""
time_row "flood 256 MiB, C to /dev/null" "$(get c_devnull devnull_median_ms)" - - - "" ""
time_row "flood 256 MiB, captured" "$(get c_flood flood_median_ms)" \
  "$(get py_flood flood_median_ms)" - "$(get fx_flood flood_median_ms)" 1.2 ""
c_mibs=$(get c_flood flood_mib_s); fx_mibs=$(get fx_flood flood_mib_s)
row "capture MiB/s" "$c_mibs" "$(get py_flood flood_mib_s)" - "$fx_mibs" "$(ratio "$c_mibs" "$fx_mibs")" ""
c_rss=$(get c_flood peak_rss_kib); fx_rss=$(get fx_flood peak_rss_kib)
row "peak RSS during flood (KiB)" "$c_rss" - - "$fx_rss" "$(ratio "$fx_rss" "$c_rss")" \
  "< 65536 KiB -> $(check 'a < 65536' "$fx_rss")"
row "  flood lines in log file / written" - - - \
  "$(get fx_flood flood_lines_checked)/$(( flood_bytes / 100 + (flood_bytes % 100 > 0) ))" "" ""
time_row "stop: SIGTERM->reaped" "$(get c_stop teardown_median_ms)" - - \
  "$(get fx_stop teardown_median_ms)" "" 0.3
time_row "stop: then destroy" - - - "$(get fx_stop destroy_median_ms)" "" ""
time_row "stop overshoot past ${stop_grace_ms} ms grace" "$(get c_stop_ignore overshoot_median_ms)" - - \
  "$(get fx_stop_ignore overshoot_median_ms)" "" 20
time_row "stop overshoot p99" "$(get c_stop_ignore overshoot_p99_ms)" - - \
  "$(get fx_stop_ignore overshoot_p99_ms)" "" 20
time_row "$many_servers servers one after another" - - - "$(get fx_many many_total_ms)" "" ""
fds="$(get fx_many fds_before)/$(get fx_many fds_after)"
threads="$(get fx_many threads_before)/$(get fx_many threads_after)"
leak=$(awk -v f="$fds" -v t="$threads" -v z="$(get fx_many zombies_left)" 'BEGIN {
  split(f, a, "/"); split(t, b, "/"); print (a[1] == a[2] && b[1] == b[2] && z == 0 ? "yes" : "NO") }')
row "  fds, threads before/after" - - - "$fds $threads" "" "no leak -> $leak"
row "  RSS KiB before/after, zombies" - - - \
  "$(get fx_many rss_kib_before)/$(get fx_many rss_kib_after) $(get fx_many zombies_left)" "" ""
time_row "$many_servers servers alive at once: start all" - - - "$(get fx_alive alive_start_all_ms)" "" ""
time_row "  then stop all" - - - "$(get fx_alive alive_stop_all_ms)" "" ""
row "  fds before/during/after" - - - \
  "$(get fx_alive alive_fds_before)/$(get fx_alive alive_fds_during)/$(get fx_alive alive_fds_after)" "" ""
row "  fds per server" - - - "$(get fx_alive alive_fds_per_server)" "" \
  "<= 4 -> $(check 'a <= 4' "$(get fx_alive alive_fds_per_server)")"
row "  threads before/during/after" - - - \
  "$(get fx_alive alive_threads_before)/$(get fx_alive alive_threads_during)/$(get fx_alive alive_threads_after)" "" \
  "bounded -> $(check 'a <= b + 1' "$(get fx_alive alive_threads_during)" "$(get fx_alive alive_threads_before)")"
row "  RSS KiB before/during/after" - - - \
  "$(get fx_alive alive_rss_kib_before)/$(get fx_alive alive_rss_kib_during)/$(get fx_alive alive_rss_kib_after)" "" ""
row "  zombies left" - - - "$(get fx_alive alive_zombies_left)" "" ""
echo
echo "raw results: $results"
