#!/usr/bin/env bash
# wsj0-2mix (and wsj0-3mix, through egs/wsj0-3mix/run.sh): generate the corpus from your WSJ0 copy
# with MERL's mix lists (or use a wsj0-mix folder you have), train an experiment of hparams/,
# evaluate it, build its hub folder; stage 5 trains and compares a list of experiments.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Options (defaults); each can be given as --name value (--help lists them all).
. egs/tools/common_options.sh
wsj0=""                       # WSJ0 root (LDC93S6A): the folder holding wsj0/, converted from .wv1 to .wav
wsj0mix=""                    # or: a wsj0-mix folder you already have (holding wav8k/min/{tr,cv,tt})
mix_lists=""                  # folder with MERL's mix_N_spk_{tr,cv,tt}.txt; empty: downloaded from MERL
active_levels=""              # folder of precomputed active levels (optional; see asteroid_deepmask.data.wsj0mix)
n_src=2                       # speakers per mixture
sample_rates=8000             # stage 0 output rates: 8000 and/or 16000 (the experiment's data.sample_rate)
modes=min                     # stage 0 lengths: min and/or max (the experiment's data.mode)
dataset=wsj0-2mix             # name of the corpus, its folders and its results
corpus=""                     # generated corpus (default data/<dataset>/corpus; --wsj0mix when given)
manifests=""                  # default data/<dataset>/manifests
hparams=hparams/wsj0-2mix/baseline.yaml
exp=""                        # experiment folder (default exp/<dataset>/<hparams file name>)
compare="hparams/wsj0-2mix/baseline.yaml hparams/wsj0-2mix/p16_relu.yaml hparams/wsj0-2mix/mlp_s.yaml hparams/wsj0-2mix/mlp_l.yaml hparams/wsj0-2mix/baseline_9blocks.yaml hparams/wsj0-2mix/baseline_12blocks.yaml"
options="${options} wsj0 wsj0mix mix_lists active_levels n_src sample_rates modes dataset corpus manifests hparams exp compare"
help_message="Usage: $0 --wsj0 /path/to/wsj0_wav [--stage N] [--stop-stage M] [--option value ...]
       $0 --wsj0mix /path/to/wsj0-Nmix ...   (a corpus you already have)"
. egs/tools/parse_options.sh

corpus=${wsj0mix:-${corpus:-data/${dataset}/corpus}}

if [ "${stage}" -le 0 ] && [ "${stop_stage}" -ge 0 ]; then
  if [ -n "${wsj0mix}" ]; then
    echo "== stage 0: using the existing corpus ${wsj0mix}"
  elif [ -z "${wsj0}" ]; then
    cat >&2 <<MSG
$0: stage 0 needs the data. Either
  --wsj0 DIR     your WSJ0 copy (LDC93S6A, https://catalog.ldc.upenn.edu/LDC93S6A): the folder holding
                 wsj0/si_tr_s, si_dt_05, si_et_05, with the .wv1 files converted to .wav (sph2pipe);
                 ${dataset} is then generated from MERL's mix lists, or
  --wsj0mix DIR  a ${dataset} folder you already have (holding wav8k/min/{tr,cv,tt}).
MSG
    exit 1
  else
    echo "== stage 0: generate ${dataset} from ${wsj0} into ${corpus}"
    extra=(); [ -n "${active_levels}" ] && extra=(--active-levels "${active_levels}")
    "${python}" -m asteroid_deepmask.recipe wsj0mix --wsj0 "${wsj0}" --mix-lists "${mix_lists}" \
      --out "${corpus}" --n-src "${n_src}" --sample-rates ${sample_rates} --modes ${modes} "${extra[@]}"
  fi
fi
. egs/tools/stages.sh
