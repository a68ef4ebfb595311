#!/usr/bin/env bash
# On mini2mix, the same model (--hparams, P = 8) and budget trained several ways, once per seed:
#   supervised_seed<N>    on the sources (the best assignment of the P outputs to them: dynamic grouping)
#   unsupervised_seed<N>  MixIT on mixtures of the training mixtures: the sources are never read
#   semi_seed<N>          MixIT, with --supervised-share of each batch from the first --labelled-share of
#                         the training mixtures, with their sources
#   sparse_seed<N>        unsupervised, plus --sparsity-weight times the L1/L2 sparsity of the outputs' RMS (the
#                         recipe's default since this comparison; every other way sets training.sparsity_weight=0)
#   decorrelated_seed<N>  unsupervised, plus --covariance-weight times the envelope covariance of the outputs
#   power_seed<N>         unsupervised, with the power mixture-consistency projection (silent outputs stay silent)
#   teacher_seed<N>       teacher-student MixIT: a student with --student-outputs outputs trained with PIT on the
#                         grouped outputs of a MixIT teacher (--teacher EXP; default this seed's unsupervised run,
#                         so list unsupervised before teacher in --ways)
# then each scored on the test set (stage 3: SI-SDRi of the outputs assigned to the references, of the
# outputs `separate --active-only` keeps, DNSMOS with --metrics dnsmos; and counting on 1, 2 and 3 voices,
# egs/mixit/count_mini.py) and one table row per way: the mean and 95 % CI over seeds (recipe/confidence.py),
# in ${exp}/comparison.md and as a result record in ${exp}/comparison.json.
# About 21 mini2mix trainings with the default --ways: two and a half hours or more on a CPU.
set -euo pipefail
invocation="./egs/mixit/compare_mini.sh"  # the command the result record names, as typed
for arg in "$@"; do [[ "${arg}" == *[[:space:]]* ]] && arg="\"${arg}\""; invocation+=" ${arg}"; done
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
record=""                     # the result record of the comparison (default <exp>/comparison.json; the docs show
                              # docs/results/mixit_comparison.json)
supervised_share=0.1          # semi: share of each batch that is labelled
sparsity_weight=1.0           # sparse: training.sparsity_weight (one value measured; not tuned)
covariance_weight=1.0         # decorrelated: training.covariance_weight (not tuned either)
teacher=""                    # teacher: the teacher's experiment folder (default <exp>/unsupervised_seed<N>)
student_outputs=4             # teacher: the student's outputs (model.n_outputs; a multiple of the model's n_src)
seeds="0 1 2"
all_ways="supervised unsupervised semi sparse decorrelated power teacher"
ways=${all_ways}              # which ways to train and score (e.g. unsupervised alone)
options="${options} corpus mixtures labelled_share labelled_corpus manifests hparams exp record supervised_share"
options="${options} sparsity_weight covariance_weight teacher student_outputs seeds ways"
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
  case " ${all_ways} " in *" ${way} "*) ;;
    *) echo "$0: --ways: unknown way '${way}'; choose among ${all_ways}" >&2; exit 1;; esac
done
way_sets() {  # way, seed: the --set options and train options of one run
  # without sparsity unless the way says otherwise (hparams/mixit/p8_mlp.yaml trains with it); --overrides next
  sets=(--set training.sparsity_weight=0 "${user_sets[@]}" --set "training.seed=$2")
  case "$1" in
    supervised) sets+=(--set training.unsupervised_mixit=false --set training.grouping=dynamic);;
    semi) sets+=(--set "training.supervised_share=${supervised_share}")
          way_args=(--supervised-manifests "${labelled_manifests}");;
    sparse) sets+=(--set "training.sparsity_weight=${sparsity_weight}");;
    decorrelated) sets+=(--set "training.covariance_weight=${covariance_weight}");;
    power) sets+=(--set model.mixture_consistency=power);;
    teacher) sets+=(--set "training.teacher=${teacher:-${exp}/unsupervised_seed$2}/best_model.pth"
                    --set "model.n_outputs=${student_outputs}");;
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
      "${python}" egs/mixit/count_mini.py --exp "${dir}" --manifests "${manifests}" "${extra[@]}"  # 1, 2, 3 voices
    fi
    exps+=("${dir}")
  done
done
if run_stage 4; then
  echo "== stage 4: comparison (also in ${exp}/comparison.md)"
  step compare --exps "${exps[@]}" --out "${exp}/comparison.md" --record "${record:-${exp}/comparison.json}" \
    --name mixit_comparison --command "${invocation}"
fi
