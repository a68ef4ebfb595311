"""egs/mixit/count_mini.py: the 1-, 2- and 3-voice mixtures it scores are made of the voices it says."""
import os
import sys

import numpy as np
import soundfile as sf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "egs", "mixit"))

import count_mini  # noqa: E402  (egs/mixit is no package)


def test_three_voices_come_from_a_mixture_with_other_voices(tmp_path):
    rows, waves = [], {}
    for i, (a, b, n) in enumerate([("ann", "bob", 800), ("bob", "cat", 700), ("dan", "eve", 600)]):
        paths = []
        for voice in (a, b):
            waves[i, voice] = np.full(n, len(waves) + 1, dtype="float32") / 10
            paths.append(str(tmp_path / f"{i}_{voice}.wav"))
            sf.write(paths[-1], waves[i, voice], 8000, subtype="FLOAT")
        rows.append({"id": f"{i:05d}_{a}_-1.0_{b}_1.0", "sources": paths})
    assert count_mini.voices_of(rows[1]["id"]) == {"bob", "cat"}
    mixtures = count_mini.mixtures_by_voices(rows)
    assert [len(mixtures[v]) for v in (1, 2, 3)] == [3, 3, 3]
    np.testing.assert_allclose(mixtures[1][0], waves[0, "ann"])
    np.testing.assert_allclose(mixtures[2][1], waves[1, "bob"] + waves[1, "cat"])
    # row 0 (ann, bob) skips row 1 (bob, cat): its third voice is dan, cut to the shorter length
    np.testing.assert_allclose(mixtures[3][0], waves[0, "ann"][:600] + waves[0, "bob"][:600] + waves[2, "dan"])
