#!/usr/bin/env bash
# Compares the spawn of two fixtures_bench builds (say main's and a branch's), each against the
# C lower bound measured in the same round: `cycle N` and `wake N` of each, alternated, ROUNDS
# times, then the median over the rounds of spawn->ready, cycles/s and the wake-up, as
# figures and as ratios to C (ours/C for times, C/ours for rates).
#   bench/compare.sh BUILD_A BUILD_B [ROUNDS] [CYCLES]
# BUILD_* are Release builds of the project holding bench/fixtures_bench (bench/run.sh makes
# one); refserver and c_baseline come from BUILD_A. Raw output stays in BUILD_A/compare/.
set -euo pipefail

a=$(cd "$1" && pwd)
b=$(cd "$2" && pwd)
rounds=${3:-5}
cycles=${4:-1000}
wakes=$((cycles / 2))
out=$a/compare
mkdir -p "$out"
rm -f "$out"/*.txt
server=$a/bench/refserver
c=$a/bench/c_baseline

get() { awk -v k="$2" '$1 == k { v = $2 } END { print (v == "" ? "-" : v) }' "$1"; }

for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds" >&2
  "$c" --server "$server" cycle "$cycles" >"$out/c_cycle.$round.txt"
  "$a/bench/fixtures_bench" --server "$server" cycle "$cycles" port0 >"$out/a_cycle.$round.txt"
  "$b/bench/fixtures_bench" --server "$server" cycle "$cycles" port0 >"$out/b_cycle.$round.txt"
  "$c" --server "$server" wake "$wakes" >"$out/c_wake.$round.txt"
  "$a/bench/fixtures_bench" --server "$server" wake "$wakes" >"$out/a_wake.$round.txt"
  "$b/bench/fixtures_bench" --server "$server" wake "$wakes" >"$out/b_wake.$round.txt"
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# series WHICH MODE KEY: one value per round
series() { for r in $(seq 1 "$rounds"); do get "$out/$1_$2.$r.txt" "$3"; done; }
# ratios WHICH MODE KEY INVERT: per-round ratio to C of the same round
ratios() {
  for r in $(seq 1 "$rounds"); do
    awk -v o="$(get "$out/$1_$2.$r.txt" "$3")" -v c="$(get "$out/c_$2.$r.txt" "$3")" -v inv="$4" \
      'BEGIN { printf "%.3f\n", inv ? c / o : o / c }'
  done
}

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "medians over $rounds rounds of cycle $cycles / wake $wakes; ratio = ours/C (times), C/ours (rates), per round"
printf '%-26s %10s %10s %10s %9s %9s\n' "" "C" "A" "B" "A ratio" "B ratio"
row() {  # row LABEL MODE KEY INVERT
  printf '%-26s %10s %10s %10s %8sx %8sx\n' "$1" "$(series c "$2" "$3" | median)" "$(series a "$2" "$3" | median)" \
    "$(series b "$2" "$3" | median)" "$(ratios a "$2" "$3" "$4" | median)" "$(ratios b "$2" "$3" "$4" | median)"
}
row "spawn->ready (ms)" cycle ready_median_ms 0
row "cycles/s" cycle cycles_per_s 1
row "cycle (ms)" cycle cycle_median_ms 0
row "teardown (ms)" cycle teardown_median_ms 0
row "wake-up (ms)" wake wake_median_ms 0
echo "A = $a"
echo "B = $b"
