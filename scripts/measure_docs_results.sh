#!/usr/bin/env bash
# Measure every benchmark the docs show and write its result record into docs/results/ (the
# Benchmarks page, the README's numbers and the getting-started table are made from them).
#
#   ./scripts/measure_docs_results.sh          # the benchmarks: about 25 minutes on 2 idle cores
#   ./scripts/measure_docs_results.sh --main   # also ./egs/mini2mix/run.sh in a fresh folder (about
#                                              # 7 minutes more) and the int8 accuracy of its model
#   ./scripts/measure_docs_results.sh --only bench_mixit   # one benchmark (repeatable)
#
# Run it on an otherwise idle machine: the numbers are wall-clock times. Each record names the host
# it ran on; to keep the records of another host kind, copy docs/results/<name>.json to
# docs/results/<name>-<host>.json before measuring again (the docs show every host's records).
# Then `python scripts/readme_numbers.py` rewrites the README's numbers from the records.
# Not measured here (hours of training): docs/results/mixit_comparison.json, from
#   ./egs/mixit/compare_mini.sh --metrics "si_sdr sdr dnsmos" --record docs/results/mixit_comparison.json
set -euo pipefail
cd "$(dirname "$0")/.."

main=false
only=()
out=docs/results
while [ $# -gt 0 ]; do
  case "$1" in
    --main) main=true; shift;;
    --only) only+=("$2"); shift 2;;
    --out) out=$2; shift 2;;
    -h|--help) sed -n '2,15p' "$0"; exit 0;;
    *) echo "$0: unknown option $1 (--main, --only NAME, --out DIR)" >&2; exit 2;;
  esac
done
python=${PYTHON:-.venv/bin/python}
[ -x "${python}" ] || ./scripts/setup.sh
mkdir -p "${out}"
export HF_HUB_OFFLINE=1 PYTHONWARNINGS=ignore::DeprecationWarning

selected() { [ ${#only[@]} -eq 0 ] || [[ " ${only[*]} " == *" $1 "* ]]; }
measure() {  # record name, then the benchmark script and its options
  local name=$1 start=${SECONDS}
  shift
  selected "${name}" || return 0
  echo "== ${name}: $*"
  "${python}" "$@" --record "${out}/${name}.json"
  echo "== ${name}: $((SECONDS - start)) s"
}

# Budgets (2 idle cores): each is a few minutes; together about 25.
if selected complexity_paper; then  # counts, not times: the paper's rows (about 1.5 min)
  "${python}" -m asteroid_deepmask.cli complexity --paper --record "${out}/complexity_paper.json" > /dev/null
fi
measure bench_mixit benchmarks/bench_mixit.py                                          # ~0.5 min
measure bench_models benchmarks/bench_models.py --reps 3 --separate-reps 20           # ~4 min
measure bench_maskers benchmarks/bench_maskers.py --reps 2                             # ~3 min
measure bench_streaming benchmarks/bench_streaming.py --seconds 2 --reps 3 --rerun-blocks 10   # ~6 min
measure bench_export benchmarks/bench_export.py --models baseline mlp_l --seconds 4 --reps 5 --profile   # ~2 min
measure bench_long_files benchmarks/bench_long_files.py --minutes 0.5 2 5 --reps 1     # ~6 min
measure bench_dnsmos benchmarks/bench_dnsmos.py --evaluation 100                      # ~3 min
measure bench_web benchmarks/bench_web.py --reps 3 --screenshot docs/_static/web_page.png   # ~3 min, Chromium
if "${python}" -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then
  measure gpu_check benchmarks/gpu_check.py                                            # ~2 min, GPU only
fi

if [ "${main}" = true ]; then
  # The main command as a new user runs it: a fresh corpus and experiment, every stage.
  work=$(mktemp -d)
  trap 'rm -rf "${work}"' EXIT
  if selected mini2mix_main; then
    echo "== mini2mix_main: ./egs/mini2mix/run.sh in ${work}"
    ./egs/mini2mix/run.sh --corpus "${work}/corpus" --manifests "${work}/manifests" --exp "${work}/exp"
    # The record names the command as typed; the folders were only redirected out of the checkout.
    "${python}" - "${work}/exp/record.json" "${out}/mini2mix_main.json" <<'EOF'
import json, sys
from asteroid_deepmask.utils.result_records import write_record
record = json.load(open(sys.argv[1]))
record["command"], record["experiment"] = "./egs/mini2mix/run.sh", "exp/mini2mix/dprnn_mlp"
write_record(sys.argv[2], record)
print(f"record written to {sys.argv[2]}")
EOF
  fi
  if [ -f "${work}/exp/best_model.pth" ]; then
    measure bench_int8_accuracy benchmarks/bench_int8_accuracy.py --exp "${work}/exp" --manifests "${work}/manifests"
  fi
fi
echo "records in ${out}/: $(ls "${out}" | tr '\n' ' ')"
echo "next: python scripts/readme_numbers.py && ./scripts/docs.sh"
