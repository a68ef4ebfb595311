"""Block sizes in the caller's units, and a default block that fits any stride (issue 36, item 5)."""
import warnings

import numpy as np
import pytest
import soundfile as sf
import torch

from asteroid_deepmask import DPRNNDeepMask
from asteroid_deepmask.cli import main
from asteroid_deepmask.deployment.streaming_export import block_samples, check_block, export_streaming_model
from asteroid_deepmask.utils.errors import UserFacingWarning


def _tiny(stride):
    torch.manual_seed(0)
    return DPRNNDeepMask(n_src=2, causal=True, n_filters=16, bn_chan=8, hid_size=8, chunk_size=10, n_repeats=1,
                         kernel_size=2 * stride, stride=stride).eval()


def test_export_streaming_model_talks_in_samples(tmp_path):
    with pytest.raises(ValueError) as error:
        export_streaming_model(_tiny(8), str(tmp_path / "live.pt"), block=81)
    message = str(error.value)
    assert "block=81 samples" in message and "stride (8 samples" in message and "block=80 or block=88" in message
    assert "--block-ms" not in message and "block_ms" not in message
    with pytest.raises(ValueError, match="block=4 samples.*use e.g. block=8"):
        check_block(4, 8)


def test_block_samples_takes_a_model():
    model = _tiny(8)
    assert block_samples(model, 10) == 80 == block_samples(8000, 10, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert block_samples(model) == 80  # 10 ms is whole strides: no rounding, no warning
    with pytest.raises(ValueError, match="stride=4 differs"):
        block_samples(model, 10, stride=4)
    with pytest.raises(ValueError, match="stride"):
        block_samples(8000, 10)


def test_errors_name_the_callers_option(tmp_path):
    model = _tiny(8)
    with pytest.raises(ValueError, match=r"^--block-ms 4.5 is 36 samples.*e\.g\. --block-ms 4 or --block-ms 5\.$"):
        block_samples(model, 4.5, name="--block-ms")
    with pytest.raises(ValueError, match=r"^streaming_block_ms=4.5 is 36 samples.*e\.g\. streaming_block_ms=4 or streaming_block_ms=5\.$"):
        model.save_pretrained(str(tmp_path / "hub"), streaming_block_ms=4.5)


def test_the_default_block_rounds_up_to_whole_strides_and_says_so():
    model = _tiny(12)  # 10 ms at 8 kHz is 80 samples, not a multiple of 12
    with pytest.warns(UserFacingWarning, match=r"default block of 10 ms.*using 84 samples \(10.5 ms\)"):
        assert block_samples(model, name="--block-ms") == 84


def test_export_and_stream_a_model_whose_stride_does_not_divide_10_ms(tmp_path, capsys):
    model = _tiny(12)
    model.save_pretrained(str(tmp_path / "hub"))
    assert main(["export", "--model", str(tmp_path / "hub"), "--streaming", "-o", str(tmp_path / "live.pt")]) == 0
    captured = capsys.readouterr()
    assert "blocks of 84 samples" in captured.out
    assert "warning: the default block of 10 ms" in captured.err and "set --block-ms to choose" in captured.err
    sf.write(tmp_path / "in.wav", np.random.default_rng(0).standard_normal(1000).astype(np.float32) * 0.1, 8000)
    assert main(["stream", "--model", str(tmp_path / "hub"), str(tmp_path / "in.wav"), "-o",
                 str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "blocks of 10.5 ms" in captured.out and "error" not in captured.err
