#!/usr/bin/env bash
# Re-make the three small models the Examples gallery and the live page use, from nothing, offline, on the CPU:
#   ./docs/examples/make_models.sh
# It runs the mini2mix recipe (egs/mini2mix/run.sh, stages 0-4: synthesise the corpus into
# data/mini2mix, manifests, train, evaluate on the 50 test mixtures, hub folder) once per experiment
# file of hparams/docs/ (seed 0), then copies each hub folder (less its model card) and its results.json
# into docs/examples/models/<name>/. On a 2-core CPU the first two took about 15 minutes together (idle), the
# causal one 45 minutes (with other jobs running). Extra options go to run.sh
# (e.g. --force true to train again over an earlier run in exp/docs/).
# Training is seeded but not bit-exact across machines and thread counts: a re-made model scores
# close to the kept one, not the same, and its results.json says how well.
set -euo pipefail
cd "$(dirname "$0")/../.."
for name in mini2mix_mlp mini2mix_p4 mini2mix_causal; do
  exp=exp/docs/${name}
  ./egs/mini2mix/run.sh --hparams "hparams/docs/${name}.yaml" --exp "${exp}" "$@"
  out=docs/examples/models/${name}
  rm -rf "${out}"
  mkdir -p "${out}"
  # The hub folder less its model card (README.md): under docs/ a Markdown file is a page for Sphinx and
  # for the code-block test, and the card's usage block names a placeholder repository.
  cp "${exp}"/hub/config.json "${exp}"/hub/model.safetensors "${out}/"
  cp "${exp}/results.json" "${out}/results.json"
  echo "== ${out}: $(du -sh "${out}" | cut -f1)"
done
