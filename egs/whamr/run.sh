#!/usr/bin/env bash
# WHAMR! (noisy and reverberant two-speaker mixtures): make the corpus from your WSJ0 copy, the
# WHAM! noise and the official WHAMR! metadata, in this environment (or with the official scripts in
# an environment of their own: --whamr-python; or use a WHAMR! folder you have), train an
# experiment of hparams/whamr/, evaluate it, build its hub folder; stage 5 compares experiments.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Options (defaults); each can be given as --name value (--help lists them all).
. egs/tools/common_options.sh
wsj0=""                       # WSJ0 root (LDC93S6A): the folder holding wsj0/, converted from .wv1 to .wav
wham_noise=""                 # the unpacked WHAM! noise corpus (wham_noise/{tr,cv,tt}, http://wham.whisper.ai)
whamr_scripts=""              # the unpacked official whamr_scripts (their data/ holds the metadata); empty: downloaded
whamr_python=""               # empty: make WHAMR! here; else the Python of an environment that runs the official
                              # scripts (pyroomacoustics 0.3.1, pandas, scipy, soundfile)
whamr=""                      # or: a WHAMR! folder you already have (holding wav8k/min/{tr,cv,tt})
sample_rates=8000             # stage 0 output rates, 8000 and/or 16000 (the experiment's data.sample_rate);
modes=min                     # and lengths, min and/or max (data.mode); --whamr-python makes all four
jobs=""                       # stage 0 processes, without --whamr-python (default: every CPU)
dataset=whamr
corpus=""                     # generated corpus (default data/whamr/corpus; --whamr when given)
manifests=""                  # default data/whamr/manifests
hparams=hparams/whamr/baseline.yaml
exp=""                        # experiment folder (default exp/whamr/<hparams file name>)
compare="hparams/whamr/baseline.yaml hparams/whamr/p16_relu.yaml hparams/whamr/mlp_s.yaml hparams/whamr/mlp_l.yaml hparams/whamr/baseline_9blocks.yaml hparams/whamr/baseline_12blocks.yaml"
options="${options} wsj0 wham_noise whamr_scripts whamr_python whamr sample_rates modes jobs dataset corpus manifests hparams exp compare"
help_message="Usage: $0 --wsj0 /path/to/wsj0_wav --wham-noise /path/to/wham_noise [--whamr-scripts DIR] [--stage N] [--stop-stage M] ...
       $0 --wsj0 ... --wham-noise ... --whamr-python /path/to/env/bin/python ...   (the official scripts)
       $0 --whamr /path/to/whamr ...   (a corpus you already have)"
. egs/tools/parse_options.sh

corpus=${whamr:-${corpus:-data/${dataset}/corpus}}

if [ "${stage}" -le 0 ] && [ "${stop_stage}" -ge 0 ]; then
  if [ -n "${whamr}" ]; then
    echo "== stage 0: using the existing corpus ${whamr}"
  elif [ -z "${wsj0}" ] || [ -z "${wham_noise}" ]; then
    cat >&2 <<MSG
$0: stage 0 needs the data. Either
  --wsj0 DIR --wham-noise DIR   your WSJ0 copy (LDC93S6A, the folder holding wsj0/ converted to .wav)
                                and the WHAM! noise (wham_noise.zip from http://wham.whisper.ai, unpacked);
                                WHAMR! is then made here from its official metadata (or by its official
                                scripts with --whamr-python PY), or
  --whamr DIR                   a WHAMR! folder you already have (holding wav8k/min/{tr,cv,tt}).
MSG
    exit 1
  else
    echo "== stage 0: make WHAMR! from ${wsj0} and ${wham_noise} into ${corpus}"
    args=(); [ -n "${jobs}" ] && args+=(--jobs "${jobs}")
    "${python}" -m asteroid_deepmask.recipe whamr --wsj0 "${wsj0}" --wham-noise "${wham_noise}" \
      --scripts "${whamr_scripts}" --python "${whamr_python}" --out "${corpus}" \
      --sample-rates ${sample_rates} --modes ${modes} "${args[@]}"
  fi
fi
. egs/tools/stages.sh
