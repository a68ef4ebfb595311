#!/usr/bin/env bash
# mini2mix: synthesise a small two-speaker corpus offline (eSpeak NG voices), train a small
# DPRNN with the MLP mask head, evaluate it, and build its hub folder. No dataset, no network.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Options (defaults); each can be given as --name value.
stage=0                       # first stage to run: 0 data, 1 manifests, 2 train, 3 evaluate, 4 package
stop_stage=4                  # last stage to run
data=data/mini2mix            # corpus folder (made by stage 0)
manifests=data/mini2mix/manifests
hparams=hparams/mini2mix/dprnn_mlp.yaml
exp=exp/mini2mix/dprnn_mlp    # experiment folder: checkpoints, logs, best_model.pth, results, hub/
mixtures="400 50 50"          # mixtures in tr, cv and tt
overrides=""                  # hparams overrides, e.g. "training.max_epochs=3 optim.lr=0.001"
force=false                   # true: redo the selected stages' work (only what this recipe made)
gpus=0                        # GPUs per node for training (Lightning DDP when more than one)
num_nodes=1                   # nodes for multi-node training (SLURM works through Lightning)
python=${PYTHON:-.venv/bin/python}
options="stage stop_stage data manifests hparams exp mixtures overrides force gpus num_nodes python"
help_message="Usage: $0 [--stage N] [--stop-stage M] [--option value ...]"
. egs/tools/parse_options.sh

step() { "${python}" -m asteroid_deepmask.recipe "$@"; }
run_stage() { [ "${stage}" -le "$1" ] && [ "${stop_stage}" -ge "$1" ]; }

if run_stage 0; then
  echo "== stage 0: synthesise mini2mix into ${data}"
  step mini2mix --out "${data}" --mixtures ${mixtures}
fi
if run_stage 1; then
  echo "== stage 1: manifests in ${manifests}"
  extra=(); [ "${force}" = true ] && extra=(--force)
  step manifests --wsj0mix "${data}" --out "${manifests}" "${extra[@]}"
fi
if run_stage 2; then
  if [ -f "${exp}/best_model.pth" ] && [ "${force}" != true ]; then
    echo "== stage 2: ${exp}/best_model.pth exists; skipping (--force true retrains)"
  else
    [ "${force}" = true ] && rm -rf "${exp}/checkpoints" "${exp}/best_model.pth"
    echo "== stage 2: train ${hparams} into ${exp}"
    sets=(); for o in ${overrides}; do sets+=(--set "${o}"); done
    step train --hparams "${hparams}" --manifests "${manifests}" --exp "${exp}" --gpus "${gpus}" \
      --num-nodes "${num_nodes}" "${sets[@]}"
  fi
fi
if run_stage 3; then
  if [ -f "${exp}/results.json" ] && [ "${force}" != true ]; then
    echo "== stage 3: ${exp}/results.json exists; skipping (--force true re-evaluates)"
    cat "${exp}/results.md"
  else
    echo "== stage 3: evaluate on the test set"
    step evaluate --manifests "${manifests}" --exp "${exp}" --dataset mini2mix
  fi
fi
if run_stage 4; then
  echo "== stage 4: hub folder in ${exp}/hub"
  step package --exp "${exp}"
fi
