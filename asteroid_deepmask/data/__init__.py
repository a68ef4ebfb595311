"""Data: mixtures of mixtures for MixIT, the offline mini2mix corpus, LibriMix generation, the
manifests of a corpus folder (or of a folder of unlabeled recordings) that training and evaluation
read, and dynamic mixing of their training sources."""
from .dynamic_mixing import DynamicMixingDataset
from .librimix import generate_librimix
from .manifest_dataset import ManifestDataset
from .manifests import check_manifests, corpus_layout, manifest_path, write_manifests
from .mini2mix import make_mini2mix
from .mixture_of_mixtures import MixturesOfMixturesDataset, mixtures_of_mixtures
from .unlabeled import write_unlabeled_manifests

__all__ = [
    "DynamicMixingDataset",
    "ManifestDataset",
    "MixturesOfMixturesDataset",
    "check_manifests",
    "corpus_layout",
    "generate_librimix",
    "make_mini2mix",
    "manifest_path",
    "mixtures_of_mixtures",
    "write_manifests",
    "write_unlabeled_manifests",
]
