#!/usr/bin/env bash
# wsj0-3mix: the wsj0-2mix recipe with three speakers and the paper's Table 3 experiments.
# Every option of egs/wsj0-2mix/run.sh applies (--help lists them); later options override these.
exec "$(dirname "$0")/../wsj0-2mix/run.sh" --n-src 3 --dataset wsj0-3mix \
  --hparams hparams/wsj0-3mix/baseline.yaml \
  --compare "hparams/wsj0-3mix/baseline.yaml hparams/wsj0-3mix/mlp_l.yaml" "$@"
