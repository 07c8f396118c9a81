#!/usr/bin/env bash
# Re-run the biowear baseline figures (the reference output is benchmarks/tables/figures.txt).
#
# usage: reproduce_figures.sh "<biowear invocation prefix>" <output folder>
#   $1  command prefix, word-split (no quoting inside), e.g.  biowear   or  .venv/bin/biowear
#       or  /work/baseline/bw.sh  (a wrapper that runs biowear.cli:main from a given source tree)
#   $2  output folder; every run folder and log goes under it (it must not already hold these runs:
#       compress and demo resume from what is in their --out folder)
#
# env: BIOWEAR_DATA (default ../shared/data); BIOWEAR_CACHE (default $2/cache, i.e. a cold cache, so
#      data preparation is re-done by the code under test rather than read from an older cache).
#
# Writes $2/logs/<figure>.txt (full output) and $2/figures.txt (the deterministic lines only: timing and
# latency columns dropped) -- diff that against the baseline's figures.txt (same lines as in the .md).
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 '<biowear prefix>' <output folder>" >&2
    exit 64
fi
read -r -a BW <<< "$1"
OUT=$2
export BIOWEAR_DATA=${BIOWEAR_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/data}
export BIOWEAR_CACHE=${BIOWEAR_CACHE:-$OUT/cache}
mkdir -p "$OUT/logs"
for d in train-mitdb train-mitdb-2 compress-mitdb demo; do
    if [ -e "$OUT/$d" ]; then
        echo "$OUT/$d exists; give an empty output folder" >&2
        exit 1
    fi
done

run() {  # run <log name> <biowear args...>: print and log the output
    local name=$1
    shift
    echo "+ biowear $*" | tee "$OUT/logs/$name.txt"
    "${BW[@]}" "$@" 2>&1 | tee -a "$OUT/logs/$name.txt"
}

# a. cost table
run cost-arch cost --arch blocks=4,x=2,lstm=32 --arch blocks=15,x=4,lstm=256
run cost-grid cost --grid

# b. MIT-BIH binary training (5 records, beat windows 128 @ 128 Hz, 2 epochs, seed 0, CPU), twice
TRAIN=(train --dataset mitdb --classes binary --arch blocks=2,x=1,lstm=16 --records 100,101,103,105,106
       --window beat --window-samples 128 --fs-hz 128 --epochs 2 --seed 0 --device cpu)
run train-1 "${TRAIN[@]}" --out "$OUT/train-mitdb"
run train-2 "${TRAIN[@]}" --out "$OUT/train-mitdb-2"

# d. compression point of the model from b
run compress compress "$OUT/train-mitdb/model.pt" --config "$OUT/train-mitdb/config.json" --methods global \
    --sparsity 0.9 --bits 4 --finetune-epochs 1 --no-int8 --out "$OUT/compress-mitdb"

# c. the demo (synthetic ECG: six strategies, compression of the front's most accurate network, report paths)
run demo demo --out "$OUT/demo"
run demo-report report "$OUT/demo"

# ---- deterministic extract --------------------------------------------------------------------------
{
    echo "## a. cost --arch"
    grep -E '^│' "$OUT/logs/cost-arch.txt"
    echo "## a. cost --grid"
    grep -E '^│' "$OUT/logs/cost-grid.txt"
    for i in 1 2; do
        echo "## b. train run $i"
        grep -E '^data: |^split |^epoch |^│|^accuracy |^training: ' "$OUT/logs/train-$i.txt" \
            | sed -E 's/ \([0-9.]+ s\)$//; s/, [0-9.]+ s, [0-9]+ samples\/s//'
    done
    echo "## b. model.pt identical across the two runs?"
    if cmp -s "$OUT/train-mitdb/model.pt" "$OUT/train-mitdb-2/model.pt"; then echo "yes"; else echo "NO"; fi
    echo "## d. compress (latency column dropped)"
    grep -E '^│|^best within' "$OUT/logs/compress.txt" | sed -E 's/│ +[0-9.]+( ±[0-9.]+)? │$/│/'
    echo "## c. demo: per-network lines (training time dropped)"
    grep -E '^  [a-z0-9-]+: blocks=' "$OUT/logs/demo.txt" | sed -E 's/ +\((trained in [0-9.]+ s|cached)\)$//'
    echo "## c. demo: strategy summaries (exploration time dropped)"
    grep -E '^[a-z0-9-]+: [0-9]+ trained' "$OUT/logs/demo.txt" | sed -E 's/exploration time [0-9.]+ s, //'
    echo "## c. demo: strategy table (exploration s and time reduction dropped)"
    grep -E '^│ +(exhaustive|random|ga-|nsga2|spea2)' "$OUT/logs/demo.txt" \
        | awk -F'│' '{printf "│%s│%s│%s│%s│%s│\n", $2, $3, $5, $6, $8}'
    echo "## c. demo: compression (latency column dropped)"
    grep -E '^compressing |^│ .*(original|kmeans|int8|structured|prune)|^best within' "$OUT/logs/demo.txt" \
        | sed -E 's/│ +[0-9.]+( ±[0-9.]+)? │$/│/'
    echo "## c. demo: report paths"
    grep -E '^demo reports|^  /' "$OUT/logs/demo.txt" | sed -E "s#$OUT/##; s/-[0-9a-f]{8}\//-HASH\//"
    echo "## c. demo: compressed network folder (its sha256[:8] suffix, of the model file bytes, dropped)"
    (cd "$OUT/demo/compress" && ls | sed -E "s/-[0-9a-f]{8}$//")
    echo "## c. demo report (re-rendered from the store)"
    grep -E 'front of' "$OUT/logs/demo-report.txt"
} > "$OUT/figures.txt"
echo "deterministic figures: $OUT/figures.txt"
