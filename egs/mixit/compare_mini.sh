#!/usr/bin/env bash
# On mini2mix, the same model (--hparams, P = 8) and budget trained three ways, once per seed:
#   supervised_seed<N>    on the sources (the best assignment of the P outputs to them: dynamic grouping)
#   unsupervised_seed<N>  MixIT on mixtures of the training mixtures: the sources are never read
#   semi_seed<N>          MixIT, with --supervised-share of each batch from the first --labelled-share of
#                         the training mixtures, with their sources
# then each scored on the test set (stage 3: SI-SDRi of the outputs assigned to the references, as the
# evaluation states it) and one table row per way: the mean and 95 % CI over seeds (recipe/confidence.py).
# About 9 mini2mix trainings: an hour or more on a CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."

. egs/tools/common_options.sh
corpus=data/mini2mix          # mini2mix (stage 0 synthesises it when missing)
mixtures="400 50 50"          # its mixtures in tr, cv and tt
labelled_share=0.1            # share of the training mixtures whose sources the semi-supervised runs use
labelled_corpus=""            # those mixtures (default <corpus>_labelled<share>): mini2mix's generator draws
                              # mixtures in order from one seed, so a smaller tr holds the first ones
manifests=""                  # default <corpus>/manifests
hparams=hparams/mixit/mini2mix.yaml
exp=exp/mixit/mini2mix        # parent of the experiment folders and comparison.md
supervised_share=0.1          # semi: share of each batch that is labelled
seeds="0 1 2"
ways="supervised unsupervised semi"  # which of the three ways to train and score (e.g. unsupervised alone)
options="${options} corpus mixtures labelled_share labelled_corpus manifests hparams exp supervised_share seeds ways"
help_message="Usage: $0 [--seeds \"0 1 2\"] [--ways \"${ways}\"] [--stage N] [--stop-stage M] [--option value ...]"
. egs/tools/parse_options.sh

manifests=${manifests:-${corpus}/manifests}
labelled_corpus=${labelled_corpus:-${corpus}_labelled${labelled_share}}
read -r n_train n_valid n_test <<< "${mixtures}"
n_labelled=$("${python}" -c "import sys; print(max(1, round(float(sys.argv[1]) * int(sys.argv[2]))))" \
  "${labelled_share}" "${n_train}")
labelled_manifests=${labelled_corpus}/manifests
. egs/tools/stage_helpers.sh
user_sets=("${sets[@]}")
for way in ${ways}; do
  case "${way}" in supervised|unsupervised|semi) ;;
    *) echo "$0: --ways: unknown way '${way}'; choose among supervised unsupervised semi" >&2; exit 1;; esac
done
way_sets() {  # way, seed: the --set options and train options of one run
  sets=("${user_sets[@]}" --set "training.seed=$2")
  case "$1" in
    supervised) sets+=(--set training.unsupervised_mixit=false --set training.grouping=dynamic);;
    semi) sets+=(--set "training.supervised_share=${supervised_share}")
          way_args=(--supervised-manifests "${labelled_manifests}");;
  esac
}

if run_stage 0; then
  echo "== stage 0: mini2mix (${mixtures}) in ${corpus}, its first ${n_labelled} training mixtures in ${labelled_corpus}"
  step mini2mix --out "${corpus}" --mixtures ${mixtures}
  step mini2mix --out "${labelled_corpus}" --mixtures "${n_labelled}" "${n_valid}" "${n_test}"
fi
if run_stage 1; then
  echo "== stage 1: manifests"
  step manifests --corpus "${corpus}" --hparams "${hparams}" --out "${manifests}" "${sets[@]}" "${extra[@]}"
  step manifests --corpus "${labelled_corpus}" --hparams "${hparams}" --out "${labelled_manifests}" "${sets[@]}" \
    "${extra[@]}"
fi
exps=()
for seed in ${seeds}; do  # seed by seed, so that a stopped run has every way at some seeds
  for way in ${ways}; do
    dir="${exp}/${way}_seed${seed}"
    way_args=(); way_sets "${way}" "${seed}"
    if run_stage 2; then
      echo "== stage 2: ${dir}"
      train_experiment "${hparams}" "${dir}" "${way_args[@]}"
    fi
    if run_stage 3; then
      echo "== stage 3: ${dir} on the test set"
      step evaluate --manifests "${manifests}" --exp "${dir}" --dataset mini2mix --metrics ${metrics} "${extra[@]}"
    fi
    exps+=("${dir}")
  done
done
if run_stage 4; then
  echo "== stage 4: comparison (also in ${exp}/comparison.md)"
  step compare --exps "${exps[@]}" --out "${exp}/comparison.md"
fi
