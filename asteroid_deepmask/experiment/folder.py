"""An experiment folder (``exp/<dataset>/<name>``): the names of the files the recipe's steps write
into it, which step makes which, and whether a step has its work to do.

Every module that reads or writes an experiment folder (training, evaluation, publishing,
comparison, the recipe's steps) takes the names from here; ``egs/tools/stages.sh`` knows none of
them: each step decides itself whether its work is done (:meth:`ExperimentFolder.should_run`).
"""
import os
import shutil

from ..utils.atomic import sweep_partials

MODEL = "best_model.pth"  #: the best model, written with ``serialize()`` (training's last file)
HPARAMS = "hparams.yaml"  #: the experiment file it trained with, its defaults filled in, and the version
TRAIN_TIME = "train_time.json"  #: ``{"train_seconds", "resumed", "host", "cpus"}`` of the last training run
CHECKPOINTS = "checkpoints"  #: Lightning's ``best.ckpt`` and ``last.ckpt`` (training resumes from the latter)
LAST_CHECKPOINT = os.path.join(CHECKPOINTS, "last.ckpt")
LOGS = "logs"  #: CSV logs, a ``version_N`` folder per run
TENSORBOARD = "tensorboard"  #: TensorBoard logs, a ``version_N`` folder per run
METRICS = "metrics.csv"  #: per-utterance metrics of the evaluation
RESULTS = "results.json"  #: the evaluation's summary (evaluation's last file; model cards read it)
RESULTS_TABLE = "results.md"  #: the summary as a markdown table
HUB = "hub"  #: the hub folder built from the experiment
REFERENCE_FREE = "reference_free"  #: a MixIT model's scores computed without references (a results folder)
#: a result record of how often ``count_sources`` counts 1, 2 and 3 voices right (``egs/mixit/count_mini.py --record``)
COUNTING = "counting.json"

#: What each step makes in an experiment folder, and the file it writes last (its work is done when that exists).
STEP_OUTPUTS = {
    "train": (MODEL, HPARAMS, TRAIN_TIME, CHECKPOINTS, LOGS, TENSORBOARD),
    "evaluate": (METRICS, RESULTS, RESULTS_TABLE),
}
DONE_WHEN = {"train": MODEL, "evaluate": RESULTS}


class ExperimentFolder:
    """The files of one experiment folder.

    Args:
        path (str or os.PathLike): the folder (it need not exist yet).

    Example:
        >>> import os, tempfile
        >>> exp = ExperimentFolder(tempfile.mkdtemp())
        >>> os.path.basename(exp.file(LAST_CHECKPOINT)), exp.should_run("evaluate", force=False)
        ('last.ckpt', True)
    """

    def __init__(self, path):
        self.path = os.fspath(path)

    def file(self, name):
        """The path of ``name`` (one of this module's names) in the folder."""
        return os.path.join(self.path, name)

    def should_run(self, step, force, finished=lambda: True):
        """Whether ``step`` ("train" or "evaluate") has its work to do, saying so on stdout when it has not.

        A step that runs starts by removing the temporary files (``*.partial``) that a killed run
        left in the folder: the folder is the experiment's, and only this step writes there now.

        Args:
            force (bool): start the step over: what it made in this folder before (:data:`STEP_OUTPUTS`)
                is removed, and nothing else.
            finished (callable): called when the step's last file exists; False when that file is not
                the end of this run's work (a training to go on for more epochs).
        """
        done = self.file(DONE_WHEN[step])
        if not force and os.path.isfile(done) and finished():
            print(f"== {step}: {done} exists; skipping (--force redoes it)", flush=True)
            return False
        sweep_partials(self.path)
        if force:
            for name in STEP_OUTPUTS[step]:
                path = self.file(name)
                if os.path.isdir(path):
                    shutil.rmtree(path)
                elif os.path.lexists(path):
                    os.remove(path)
        return True
