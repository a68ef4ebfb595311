#!/usr/bin/env bash
# LibriMix (Libri2Mix, Libri3Mix): generate the corpus from your LibriSpeech and WHAM! noise with the
# official LibriMix metadata (or use a LibriMix folder you have), train an experiment of
# hparams/librimix/, evaluate it, build its hub folder; stage 5 trains and compares a list of experiments.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Options (defaults); each can be given as --name value (--help lists them all).
. egs/tools/common_options.sh
librispeech=""                # LibriSpeech folder holding train-clean-360, train-clean-100, dev-clean, test-clean (.flac)
wham_noise=""                 # the unpacked WHAM! noise (wham_noise/{tr,cv,tt}, http://wham.whisper.ai)
librimix=""                   # or: a Libri2Mix / Libri3Mix folder you have (wav8k/min/{train-360,dev,test}/...)
librimix_metadata=""          # folder of the official libri{2,3}mix_*.csv; empty: downloaded from the LibriMix repository
download=false                # true: download the missing LibriSpeech subsets and WHAM! noise first (sizes printed)
n_src=""                      # these four override the experiment's data section: 2 or 3 speakers,
task=""                       #   sep_clean, sep_noisy, enh_single or enh_both,
sample_rate=""                #   8000 or 16000,
mode=""                       #   min or max
sample_rates=""               # stage 0 output rates, e.g. "8000 16000" (default: the experiment's)
modes=""                      # stage 0 lengths, e.g. "min max" (default: the experiment's)
subsets=""                    # stage 0 subsets among train-360 train-100 dev test (default: the experiment's train set, dev, test)
types=""                      # stage 0 mixtures among mix_clean mix_both mix_single (default: the task's)
jobs=""                       # stage 0 processes (default: every CPU)
dataset=""                    # name of the results (default libri<n>mix, plus the options above that are set)
corpus=""                     # generated corpus (default data/librimix/Libri<n>Mix; --librimix when given)
manifests=""                  # default data/<dataset>/manifests/<hparams file name>
hparams=hparams/librimix/baseline.yaml
exp=""                        # experiment folder (default exp/<dataset>/<hparams file name>)
compare="hparams/librimix/baseline.yaml hparams/librimix/p16_relu.yaml hparams/librimix/mlp_s.yaml hparams/librimix/mlp_l.yaml"
options="${options} librispeech wham_noise librimix librimix_metadata download n_src task sample_rate mode sample_rates"
options="${options} modes subsets types jobs dataset corpus manifests hparams exp compare"
help_message="Usage: $0 --librispeech /path/to/LibriSpeech --wham-noise /path/to/wham_noise [--stage N] [--stop-stage M] ...
       $0 --librimix /path/to/Libri2Mix ...   (a corpus you already have)
       $0 --download true ...                 (LibriSpeech and WHAM! noise downloaded first)"
. egs/tools/parse_options.sh

# --n-src, --task, --sample-rate and --mode go first: --overrides can still change them.
set_data=""
[ -n "${n_src}" ] && set_data+=" data.n_src=${n_src} model.n_src=${n_src}"
case "${task}" in
  "") ;;
  enh_*) set_data+=" data.task=${task} model.n_src=1";;  # one target: the speech (or the clean mixture)
  *) set_data+=" data.task=${task}";;
esac
[ -n "${sample_rate}" ] && set_data+=" data.sample_rate=${sample_rate} model.sample_rate=${sample_rate}"
[ -n "${mode}" ] && set_data+=" data.mode=${mode}"
overrides="${set_data# } ${overrides}"
dataset=${dataset:-libri${n_src:-2}mix${task:+_${task}}${sample_rate:+_$((sample_rate / 1000))k}${mode:+_${mode}}}
corpus=${librimix:-${corpus:-data/librimix/Libri${n_src:-2}Mix}}
manifests=${manifests:-data/${dataset}/manifests/$(basename "${hparams}" .yaml)}
exp=${exp:-exp/${dataset}/$(basename "${hparams}" .yaml)}
if [ "${download}" = true ]; then
  librispeech=${librispeech:-data/librimix/LibriSpeech}
  wham_noise=${wham_noise:-data/librimix/wham_noise}
fi

if [ "${stage}" -le 0 ] && [ "${stop_stage}" -ge 0 ]; then
  if [ -n "${librimix}" ]; then
    [ -d "${librimix}" ] || { echo "$0: --librimix '${librimix}' is not a folder: pass a Libri2Mix or Libri3Mix folder (holding wav8k/)." >&2; exit 2; }
    echo "== stage 0: using the existing corpus ${librimix} for ${exp}"
  elif [ -z "${librispeech}" ] || [ -z "${wham_noise}" ]; then
    cat >&2 <<MSG
$0: stage 0 needs the data. Either
  --librispeech DIR --wham-noise DIR   LibriSpeech (https://www.openslr.org/12: train-clean-360, train-clean-100,
                                       dev-clean, test-clean) and the WHAM! noise (wham_noise.zip, http://wham.whisper.ai,
                                       unpacked); LibriMix is then made with the official metadata, or
  --download true                      the same, downloaded first (LibriSpeech 30 GB and WHAM! noise 17 GB at most), or
  --librimix DIR                       a Libri2Mix / Libri3Mix folder you already have (holding wav8k/min/{train-360,dev,test}).
MSG
    exit 1
  else
    echo "== stage 0: generate Libri${n_src:-2}Mix from ${librispeech} and ${wham_noise} into ${corpus} for ${exp}"
    args=(); for o in ${overrides}; do args+=(--set "${o}"); done
    [ -n "${librimix_metadata}" ] && args+=(--librimix-metadata "${librimix_metadata}")
    [ "${download}" = true ] && args+=(--download)
    [ -n "${jobs}" ] && args+=(--jobs "${jobs}")
    for name in sample_rates modes subsets types; do
      [ -n "${!name}" ] && args+=("--${name//_/-}" ${!name})
    done
    "${python}" -m asteroid_deepmask.recipe librimix --librispeech "${librispeech}" --wham-noise "${wham_noise}" \
      --out "${corpus}" --hparams "${hparams}" "${args[@]}"
  fi
fi
. egs/tools/stages.sh
