# Options every recipe has, sourced at the top of egs/<dataset>/run.sh before its own; each can be
# given as --name value. The recipe adds its own names to `options` (parse_options.sh reads it).
stage=0                       # first stage: 0 data, 1 manifests, 2 train, 3 evaluate, 4 package, 5 compare
stop_stage=4                  # last stage to run
overrides=""                  # hparams overrides, e.g. "training.batch_size=8 optim.lr=0.0005"
metrics="si_sdr sdr"          # evaluation metrics, among si_sdr sdr sir sar stoi
force=false                   # true: redo the selected stages' work (only what this recipe made)
gpus=0                        # GPUs per node for training (Lightning DDP when more than one)
num_nodes=1                   # nodes for multi-node training (SLURM works through Lightning)
python=${PYTHON:-}            # Python to run with; empty: the repository's .venv, else python3/python of the active env
options="stage stop_stage overrides metrics force gpus num_nodes python"
seeds=""; options="${options} seeds"  # stage 5: a run per seed of each --compare file, e.g. "0 1 2"; empty: its own seed
eval_model=""; eval_precision=32; options="${options} eval_model eval_precision"  # stage 3: score this file (.onnx, .pt, hub folder; empty: best_model.pth) in 32, bf16 or int8

# Called by parse_options.sh once the options are read: the first of --python (or $PYTHON), else
# .venv/bin/python, python3, python that finds asteroid_deepmask and the packages it needs becomes
# ${python}, and is named. Finding them (not importing them) keeps the check to a few milliseconds.
use_python() {
  local candidates=("${python}") candidate found
  local check='import sys; from importlib.util import find_spec
needed = ("asteroid_deepmask", "torch", "torchaudio", "asteroid", "pytorch_lightning", "soundfile", "yaml")
if not all(map(find_spec, needed)): sys.exit(1)
print(sys.executable, "(Python", sys.version.split()[0] + ")")'
  [ -n "${python}" ] || candidates=(.venv/bin/python python3 python)
  for candidate in "${candidates[@]}"; do
    command -v "${candidate}" > /dev/null || continue
    if found=$("${candidate}" -c "${check}" 2> /dev/null); then
      python=${candidate}
      echo "using python: ${found}"
      return
    fi
  done
  echo "$0: no Python among '${candidates[*]}' can import asteroid_deepmask and its dependencies; activate the" \
    "environment where it is installed (pip install -e .) or give --python /path/to/python" >&2
  exit 1
}
