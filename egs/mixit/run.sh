#!/usr/bin/env bash
# MixIT from your own recordings: a folder of unlabeled audio (any format soundfile reads, any rate
# and channel count, searched recursively) is cut into segments, and an overseparating model
# (P = 8) is trained on mixtures of two segments, its outputs remixed into the two (Wisdom et al.,
# NeurIPS 2020); optionally semi-supervised with a share of each batch from a labelled corpus.
# Evaluated without references on held-out recordings, and with references on --test-corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Options (defaults); each can be given as --name value (--help lists them all).
. egs/tools/common_options.sh
metrics="si_sdr sdr dnsmos remix_si_sdr"  # stage 3: each computed where it can be: with references (--test-corpus) or without
audio=""                      # stage 0: the folder of recordings
name=""                       # name of the data and experiment folders (default: the audio folder's name)
manifests=""                  # segments and manifests of the recordings (default data/mixit/<name>/manifests)
hparams=hparams/mixit/p8_mlp.yaml
exp=""                        # experiment folder (default exp/mixit/<name>/<hparams file name>[_semi<share>])
valid_share=0.1               # stage 0: share of the recordings held out (validation, and stage 3's scores)
channel=""                    # stage 0: channel of multi-channel files (0-based); empty: their average
silence_db=-40                # stage 0: drop segments this far (dB) below the loudest one of their recording
supervised_corpus=""          # semi-supervised: a labelled corpus in the experiment's layout (wav8k/min/{tr,cv,tt}/{mix,s1,s2})
supervised_share=0.1          #   the share of each training batch taken from it
supervised_manifests=""       #   its manifests (default data/mixit/<corpus folder name>/manifests)
test_corpus=""                # stage 3: a labelled test folder (mix or mix_clean, s1, s2, ...), e.g. Libri2Mix/wav8k/min/test
test_manifests=""             #   its manifest (default data/mixit/<name>/test_<test folder name>)
eval_segments=100             # stage 3: held-out segments scored without references (DNSMOS: about 1 s per output and segment)
options="${options} audio name manifests hparams exp valid_share channel silence_db supervised_corpus supervised_share"
options="${options} supervised_manifests test_corpus test_manifests eval_segments"
help_message="Usage: $0 --audio /data/my_recordings [--exp DIR] [--stage N] [--stop-stage M] ...
       $0 --audio DIR --supervised-corpus data/mini2mix --supervised-share 0.1     (semi-supervised)
       $0 --audio DIR --test-corpus /data/Libri2Mix/wav8k/min/test --metrics \"si_sdr pesq stoi dnsmos\""
. egs/tools/parse_options.sh

[ -n "${audio}${name}" ] || { echo "$0: give --audio DIR (the folder of your recordings; see --help)" >&2; exit 1; }
name=${name:-$(basename "${audio%/}")}
manifests=${manifests:-data/mixit/${name}/manifests}
exp=${exp:-exp/mixit/${name}/$(basename "${hparams}" .yaml)${supervised_corpus:+_semi${supervised_share}}}
if [ -n "${supervised_corpus}" ]; then
  supervised_manifests=${supervised_manifests:-data/mixit/$(basename "${supervised_corpus%/}")/manifests}
  overrides="training.supervised_share=${supervised_share} ${overrides}"  # --overrides still win
fi
[ -n "${test_corpus}" ] && test_manifests=${test_manifests:-data/mixit/${name}/test_$(basename "${test_corpus%/}")}
. egs/tools/stage_helpers.sh

if run_stage 0; then
  [ -n "${audio}" ] || { echo "$0: stage 0 needs --audio DIR" >&2; exit 1; }
  echo "== stage 0: segments of the recordings in ${audio} into ${manifests}"
  step unlabeled --audio "${audio}" --out "${manifests}" --hparams "${hparams}" "${sets[@]}" \
    --valid-share "${valid_share}" --silence-db "${silence_db}" ${channel:+--channel "${channel}"}
fi
if run_stage 1; then
  if [ -n "${supervised_corpus}" ]; then
    echo "== stage 1: manifests of the labelled corpus ${supervised_corpus} in ${supervised_manifests}"
    step manifests --corpus "${supervised_corpus}" --hparams "${hparams}" --out "${supervised_manifests}" \
      "${sets[@]}" "${extra[@]}"
  fi
  if [ -n "${test_corpus}" ]; then
    echo "== stage 1: manifest of the labelled test folder ${test_corpus} in ${test_manifests}"
    step test-manifest --folder "${test_corpus}" --out "${test_manifests}" "${extra[@]}"
  fi
fi
if run_stage 2; then
  echo "== stage 2"
  train_experiment "${hparams}" "${exp}" ${supervised_corpus:+--supervised-manifests "${supervised_manifests}"}
fi
if run_stage 3; then
  echo "== stage 3: evaluate ${exp} (${metrics})"
  step evaluate-mixit --manifests "${manifests}" --exp "${exp}" --metrics ${metrics} --limit "${eval_segments}" "${extra[@]}" \
    ${test_corpus:+--test-manifests "${test_manifests}" --dataset "$(basename "${test_corpus%/}")"}
fi
if run_stage 4; then
  echo "== stage 4: hub folder of ${exp}"
  step package --exp "${exp}"
fi
