# What the stages of every recipe use, sourced by stages.sh (and by recipes with stages of their own,
# such as egs/mixit/run.sh) once the options are read: step (a `python -m asteroid_deepmask.recipe`
# step), run_stage N (whether stage N is selected), the overrides as --set arguments (`sets`),
# --force as `extra`, and train_experiment (stage 2, with the recipe's manifests, GPUs and nodes).
sets=(); for o in ${overrides}; do sets+=(--set "${o}"); done  # the experiment's overrides, for stages 1 and 2
step() { "${python}" -m asteroid_deepmask.recipe "$@"; }
run_stage() { [ "${stage}" -le "$1" ] && [ "${stop_stage}" -ge "$1" ]; }
extra=(); [ "${force}" = true ] && extra=(--force)

train_experiment() {  # hparams file, experiment folder, then options of the train step
  echo "== train: $1 into $2"
  step train --hparams "$1" --manifests "${manifests}" --exp "$2" --gpus "${gpus}" --num-nodes "${num_nodes}" \
    "${sets[@]}" "${extra[@]}" "${@:3}"
}
