#!/usr/bin/env bash
# mini2mix: synthesise a small two-speaker corpus offline (eSpeak NG voices), train a small
# DPRNN with the MLP mask head, evaluate it, and build its hub folder. No dataset, no network.
set -euo pipefail
run_command=$(printf '%q ' "$0" "$@"); run_command=${run_command% }  # as typed, for the run's record
run_start=$(date +%s)
cd "$(dirname "$0")/../.."

# Options (defaults); each can be given as --name value (--help lists them all).
. egs/tools/common_options.sh
dataset=mini2mix              # name written into results.json and the model card
corpus=data/mini2mix          # corpus folder (made by stage 0)
manifests=data/mini2mix/manifests
hparams=hparams/mini2mix/dprnn_mlp.yaml
exp=exp/mini2mix/dprnn_mlp    # experiment folder: checkpoints, logs, best_model.pth, results, hub/
mixtures="400 50 50"          # mixtures in tr, cv and tt
compare=""                    # stage 5: experiment files to train, evaluate and compare
record_name=mini2mix_main     # name of the run's result record (${exp}/record.json)
options="${options} dataset corpus manifests hparams exp mixtures compare record_name"
help_message="Usage: $0 [--stage N] [--stop-stage M] [--option value ...]"
. egs/tools/parse_options.sh

if [ "${stage}" -le 0 ] && [ "${stop_stage}" -ge 0 ]; then
  echo "== stage 0: synthesise mini2mix into ${corpus}"
  "${python}" -m asteroid_deepmask.recipe mini2mix --out "${corpus}" --mixtures ${mixtures}
fi
. egs/tools/stages.sh

# The run's result record: its wall time (${SECONDS}: since this script started) and its scores, in
# ${exp}/record.json, when this run evaluated; docs/results/mini2mix_main.json is one
# (scripts/measure_docs_results.sh --main).
if run_stage 3 && [ -f "${exp}/results.json" ]; then
  echo "== record"
  step record --exp "${exp}" --name "${record_name}" --wall-s "${SECONDS}" --command "${run_command}" \
    --stages "${stage}-${stop_stage}" --since "${run_start}"
fi
