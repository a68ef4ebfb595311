# Stages 1-5 of every recipe, sourced by egs/<dataset>/run.sh after its stage 0. It uses the
# recipe's variables: stage stop_stage python corpus manifests hparams exp dataset overrides force
# gpus num_nodes metrics eval_model eval_precision compare seeds; an empty manifests or exp means
# data/<dataset>/manifests or exp/<dataset>/<hparams file name>.
#   1 manifests of ${corpus}, in the layout ${hparams} asks for
#   2 train ${hparams} into ${exp}          (resumes from its last checkpoint)
#   3 evaluate ${exp} on the test set, or ${eval_model} if given (an exported .onnx / .pt file, a hub
#     folder) instead of its best model, in ${eval_precision}
#   4 hub folder of ${exp}
#   5 compare: stages 2-3 for every file in ${compare} (once per seed of ${seeds}), then a Table-2-style
#     markdown table with one row per file
# Each step skips work it has done before, and --force true starts it over (the Python steps decide both:
# the names of an experiment folder's files are asteroid_deepmask/experiment/folder.py's).
manifests=${manifests:-data/${dataset}/manifests}
exp=${exp:-exp/${dataset}/$(basename "${hparams}" .yaml)}
. "$(dirname "${BASH_SOURCE[0]}")/stage_helpers.sh"

evaluate_experiment() {  # experiment folder, then options of the evaluate step
  echo "== evaluate: $1 on the test set"
  step evaluate --manifests "${manifests}" --exp "$1" --dataset "${dataset}" --metrics ${metrics} \
    --precision "${eval_precision}" "${extra[@]}" "${@:2}"
}

if run_stage 1; then
  echo "== stage 1: manifests of ${corpus} in ${manifests}"
  step manifests --corpus "${corpus}" --hparams "${hparams}" --out "${manifests}" "${sets[@]}" "${extra[@]}"
fi
if run_stage 2; then
  echo "== stage 2"
  train_experiment "${hparams}" "${exp}"
fi
if run_stage 3; then
  echo "== stage 3"
  evaluate_experiment "${exp}" ${eval_model:+--model "${eval_model}"}
fi
if run_stage 4; then
  echo "== stage 4: hub folder of ${exp}"
  step package --exp "${exp}"
fi
if run_stage 5; then
  [ -n "${compare}" ] || { echo "$0: stage 5 needs --compare 'hparams/a.yaml hparams/b.yaml ...'" >&2; exit 1; }
  # A run per seed of --seeds, in <name>_seed<N>; no --seeds: one run with the file's own seed, in <name>.
  suffixes=(""); [ -n "${seeds}" ] && suffixes=()
  for seed in ${seeds}; do
    [[ "${seed}" =~ ^[0-9]+$ ]] || { echo "$0: --seeds takes whole numbers (e.g. --seeds \"0 1 2\"), got '${seed}'" >&2; exit 1; }
    suffixes+=("_seed${seed}")
  done
  file_sets=("${sets[@]}")
  exps=()
  for suffix in "${suffixes[@]}"; do  # seed by seed, so that a stopped run has every file at some seeds
    for file in ${compare}; do
      dir="$(dirname "${exp}")/$(basename "${file}" .yaml)${suffix}"
      sets=("${file_sets[@]}"); [ -n "${suffix}" ] && sets+=(--set "training.seed=${suffix#_seed}")
      echo "== stage 5: ${dir}"
      train_experiment "${file}" "${dir}"
      evaluate_experiment "${dir}"
      exps+=("${dir}")
    done
  done
  sets=("${file_sets[@]}")
  echo "== stage 5: comparison (also in $(dirname "${exp}")/comparison.md)"
  step compare --exps "${exps[@]}" --out "$(dirname "${exp}")/comparison.md"
fi
