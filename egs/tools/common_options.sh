# Options every recipe has, sourced at the top of egs/<dataset>/run.sh before its own; each can be
# given as --name value. The recipe adds its own names to `options` (parse_options.sh reads it).
stage=0                       # first stage: 0 data, 1 manifests, 2 train, 3 evaluate, 4 package, 5 compare
stop_stage=4                  # last stage to run
overrides=""                  # hparams overrides, e.g. "training.batch_size=8 optim.lr=0.0005"
metrics="si_sdr sdr"          # evaluation metrics, among si_sdr sdr sir sar stoi
force=false                   # true: redo the selected stages' work (only what this recipe made)
gpus=0                        # GPUs per node for training (Lightning DDP when more than one)
num_nodes=1                   # nodes for multi-node training (SLURM works through Lightning)
python=${PYTHON:-.venv/bin/python}
options="stage stop_stage overrides metrics force gpus num_nodes python"
