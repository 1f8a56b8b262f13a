#!/usr/bin/env bash
# The oxygen case's convergence table (docs/performance.md, "The oxygen case: convergence
# table"): scenes/tests/oxygen_vessel_mm.yaml from 0 (as written) and from 40 uM, the explicit
# reference and lod, adi, be, trbdf2 at steps of 1 min to 3 h (every output time a step
# boundary), be and trbdf2 also with time.model_terms=in_solve at 5 min, 1 h and 3 h, and adi
# once more with an output at every step (15 min for its 1 and 5 min steps) for its lowest
# value, which the state check does not test under adi. Each run gets DIR/load.txt with its
# CPU time (user + system) and the load average before and after it. Then writes
# OUT/table_from0.md and OUT/table_from40.md with scripts/convergence-table.
# usage (from the repository root): bench/oxygen_convergence.sh TMESIM OUT [--tables-only]
# About 25 min of CPU time on the 2-core machine of docs/performance.md; run it under nice.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: bench/oxygen_convergence.sh TMESIM OUT [--tables-only]" >&2
  exit 2
fi
tmesim=$1 out=$2 tables_only=${3:-}
export OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive
steps=(1min 5min 15min 30min 1h 90min 3h)
one() { # one DIR [--set ...]: run, then DIR/load.txt; a failed run is reported and left as DIR.incomplete
  local dir=$1
  shift
  local l0
  l0=$(cut -d' ' -f1 /proc/loadavg)
  if ! /usr/bin/time -f '%U %S' -o "$dir.time" nice -n 5 "$tmesim" run scenes/tests/oxygen_vessel_mm.yaml \
    -o "$dir" --force -q --check-every 1 "$@" >"$dir.log" 2>&1; then
    echo "$dir: failed, see $dir.log" >&2
    return 0
  fi
  rm "$dir.log"
  read -r u s <"$dir.time" && rm "$dir.time"
  printf 'CPU %.3g s, load %s to %s\n' "$(echo "$u + $s" | bc -l)" "$l0" "$(cut -d' ' -f1 /proc/loadavg)" >"$dir/load.txt"
}
for ic in 0 40; do
  [ "$tables_only" = --tables-only ] && break
  d=$out/from$ic
  mkdir -p "$d"
  init=(--set "species[O2].initial={constant: $ic uM}")
  one "$d/explicit" "${init[@]}"
  for step in "${steps[@]}"; do
    value=$(echo "$step" | sed -E 's/([0-9])([a-z])/\1 \2/') # 90min -> 90 min
    for integ in lod adi be trbdf2; do
      one "$d/${integ}_$step" "${init[@]}" --set time.integrator=$integ --set "time.step=$value"
    done
    every=$value
    case $step in 1min | 5min) every="15 min" ;; esac
    one "$d/adi_${step}_every" "${init[@]}" --set time.integrator=adi --set "time.step=$value" \
      --set "time.output_every=$every"
    case $step in 5min | 1h | 3h)
      for integ in be trbdf2; do
        one "$d/${integ}_in_solve_$step" "${init[@]}" --set time.integrator=$integ --set "time.step=$value" \
          --set time.model_terms=in_solve
      done
      ;;
    esac
  done
done
src=$(pwd)
for ic in 0 40; do
  runs=() labels=()
  for integ in lod adi be trbdf2; do
    for step in "${steps[@]}"; do
      runs+=("${integ}_$step")
      labels+=(--label "${integ}_$step=$integ, $(echo "$step" | sed -E 's/([0-9])([a-z])/\1 \2/')")
    done
  done
  (cd "$out/from$ic" && /usr/bin/python3 "$src/scripts/convergence-table" explicit "${runs[@]}" --hour 3 --hour 12 \
    --observe 'O2.centre.mean [uM]' --observe 'O2.grid.mean [uM]' --lowest 'O2.grid.min [uM]' --threshold 0 \
    "${labels[@]}") >"$out/table_from$ic.md"
  for step in "${steps[@]}"; do # adi's lowest value over the outputs at every step
    printf 'adi %s: lowest %s\n' "$step" "$(tail -n +2 "$out/from$ic/adi_${step}_every/observables.csv" |
      cut -d, -f4 | sort -g | head -1)"
  done >>"$out/table_from$ic.md"
  for step in 5min 1h 3h; do # in_solve against split: bitwise the same volumes?
    for integ in be trbdf2; do
      same=yes
      for f in "$out/from$ic/${integ}_$step"/fields_*.vti; do
        cmp -s "$f" "$out/from$ic/${integ}_in_solve_$step/$(basename "$f")" || same=no
      done
      echo "$integ $step: in_solve volumes bitwise the same as split: $same"
    done
  done >>"$out/table_from$ic.md"
done
