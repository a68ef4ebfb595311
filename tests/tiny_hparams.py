"""The hyperparameters of the tiny experiment the training tests run (a plain module, so that tests can import
it: a test importing ``conftest`` gets whichever conftest.py pytest loaded last)."""
TINY_MODEL = dict(name="DPRNNDeepMask", n_src=2, n_filters=16, kernel_size=16, stride=8, bn_chan=8, hid_size=8,
                  chunk_size=10, hop_size=5, n_repeats=1)
TINY_HPARAMS = dict(
    model=TINY_MODEL,
    data=dict(dataset="tiny", sample_rate=8000, mode="min", n_src=2, segment=0.25),
    training=dict(seed=0, batch_size=1, max_epochs=10, early_stop_patience=100, gradient_clip_norm=5.0),
    optim=dict(lr=0.001),
    scheduler=dict(factor=0.5, patience=3),
)
