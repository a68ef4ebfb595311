"""The model card (``README.md``) of a hub folder: YAML front matter for the hub, then markdown.

Everything it states comes from the folder's ``config.json`` and what the caller measured
(evaluation results, parameters and MACs, training configuration); nothing is guessed.
"""
import yaml

_DESCRIPTIONS = {
    "DPRNNDeepMask": (
        "DPRNN-TasNet whose mask estimator is chosen among the heads of Li, Hu and Luo: a shallow "
        "1x1 layer per output, overseparation-grouping (P outputs summed into C sources) or a "
        "per-source 3-layer MLP (the deep mask estimation module).",
        'K. Li, X. Hu, Y. Luo, "On the Use of Deep Mask Estimation Module for Neural Source '
        'Separation Systems", Interspeech 2022.',
    ),
    "ConvTasNetDeepMask": (
        "Conv-TasNet (a temporal convolutional network separator) whose mask estimator is chosen "
        "among the heads of Li, Hu and Luo: a shallow 1x1 layer per output, overseparation-grouping "
        "(P outputs summed into C sources) or a per-source 3-layer MLP.",
        'Y. Luo, N. Mesgarani, "Conv-TasNet: Surpassing ideal time-frequency magnitude masking for '
        'speech separation", IEEE/ACM TASLP 2019; K. Li, X. Hu, Y. Luo, Interspeech 2022.',
    ),
    "DeepMaskTasNet": (
        "An encoder-masker-decoder separation model whose masker is a trunk emitting P feature maps "
        "followed by a mask head that turns them into C masks (Li, Hu and Luo's heads or others).",
        'K. Li, X. Hu, Y. Luo, "On the Use of Deep Mask Estimation Module for Neural Source '
        'Separation Systems", Interspeech 2022.',
    ),
    "SimoSisoTasNet": (
        "TasNet with a SIMO-SISO DPRNN separator: a multi-output stage makes one feature per "
        "source, and a single-output stage shared by the sources refines each with the mixture.",
        'Y. Luo, Z. Chen, C. Han, C. Li, T. Zhou, N. Mesgarani, "Rethinking the separation layers '
        'in speech separation networks", ICASSP 2021.',
    ),
    "SlicedAttentionTasNet": (
        "TasNet with a sliced-attention (Sams-Net) separator: multi-head attention inside time "
        "slices of the encoder output seen as a 2-D map, and depthwise-separable convolutions.",
        'T. Li, J. Chen, H. Hou, M. Li, "Sams-Net: A Sliced Attention-based Neural Network for '
        'Music Source Separation", arXiv:1909.05746.',
    ),
}


def _head_summary(args):
    """One sentence on the mask head, from flat (presets) or general (``DeepMaskTasNet``) model args."""
    n_src, p = args.get("n_src"), args.get("n_outputs") or args.get("n_src")
    head_args = args.get("head_args") or {}
    name = args.get("head", args.get("mask_head"))
    hidden = head_args.get("hidden", args.get("head_hidden"))
    mask_act = head_args.get("mask_act", args.get("mask_act"))
    trunk = f"Trunk: {args['trunk']}. " if "trunk" in args else ""
    head = {"mlp": f"a 3-layer MLP per output (hidden width {hidden})", "linear": "a 1x1 layer per output"}.get(
        name, f"{name!r}")
    grouping = f", {p} outputs summed into {n_src} sources" if p != n_src else ""
    return f"{trunk}Mask head: {head}, mask activation {mask_act}{grouping}."


def model_card(config, results=None, training=None, license="cc-by-sa-4.0"):
    """Model card text (YAML front matter + markdown) from measured facts only.

    Args:
        config (dict): the hub ``config.json`` content.
        results (dict, optional): ``{"dataset": str, "metrics": {name: value}}`` from an
            evaluation; without it the card has no results section and no metrics.
        training (dict, optional): the experiment's hparams, shown as YAML.
        license (str): license identifier of the weights.

    Example:
        >>> config = {"model_name": "DPRNNDeepMask", "sample_rate": 8000.0,
        ...           "model_args": {"n_src": 2, "n_outputs": 4, "mask_head": "linear", "mask_act": "relu"}}
        >>> card = model_card(config)
        >>> [line for line in card.splitlines() if line.startswith("Mask head")]
        ['Mask head: a 1x1 layer per output, mask activation relu, 4 outputs summed into 2 sources.']
        >>> "## Results" in card  # no evaluation given: no results claimed
        False
    """
    name, args = config["model_name"], config["model_args"]
    description, reference = _DESCRIPTIONS.get(name, ("", ""))
    front = {
        "library_name": "asteroid",
        "license": license,
        "tags": ["asteroid", "speechbrain", "audio", "audio-to-audio", "audio-source-separation",
                 "asteroid-deepmask", name],
    }
    metrics = (results or {}).get("metrics", {})
    if results:
        front["datasets"] = [results["dataset"]]
        front["metrics"] = sorted(metrics)
        front["model-index"] = [
            {
                "name": name,
                "results": [
                    {
                        "task": {"type": "audio-source-separation", "name": "Audio Source Separation"},
                        "dataset": {"name": results["dataset"], "type": results["dataset"]},
                        "metrics": [{"type": k, "name": k, "value": v} for k, v in sorted(metrics.items())],
                    }
                ],
            }
        ]
    lines = ["---", yaml.safe_dump(front, sort_keys=False).strip(), "---", "", f"# {name}", ""]
    lines += [description, "", _head_summary(args), "", f"Reference: {reference}", ""]
    if results:
        lines += [f"## Results on {results['dataset']}", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in sorted(metrics.items())] + [""]
    complexity = config.get("complexity")
    if complexity:
        lines += [
            "## Complexity",
            "",
            f"{complexity['params_m']:.3f} M parameters, {complexity['macs_g']:.2f} G MACs on a "
            f"{complexity['seconds']:g} s input at {config['sample_rate']:g} Hz (thop, as in the paper).",
            "",
        ]
    if training:
        lines += ["## Training configuration", "", "```yaml", yaml.safe_dump(training, sort_keys=False).strip(), "```", ""]
    lines += [
        "## Usage",
        "",
        "```python",
        f"from asteroid_deepmask import {name}",
        "",
        f'model = {name}.from_pretrained("<this repository or folder>")',
        "estimates = model(mixture)  # mixture: [batch, time] at "
        f"{config['sample_rate']:g} Hz -> [batch, {args.get('n_src')}, time]",
        "```",
        "",
        "Or from the command line: `asteroid-deepmask separate --model <this repository> mix.wav -o out/`.",
        "Plain Asteroid loads it too, once `asteroid_deepmask` is imported:",
        "`asteroid.models.BaseModel.from_pretrained(\"<repository>\")`.",
        "",
    ]
    if config.get("onnx"):
        lines += [
            "## ONNX",
            "",
            f"`{config['onnx']}` runs without the model's code: float32 input `mixture` [batch, time] at "
            f"{config['sample_rate']:g} Hz, output `sources` [batch, {args.get('n_src')}, time], any batch and length.",
            "",
            "```python",
            "import onnxruntime",
            "",
            f'session = onnxruntime.InferenceSession("{config["onnx"]}")',
            'sources = session.run(None, {"mixture": mixture})[0]  # mixture: float32 numpy array',
            "```",
            "",
            f"Long files, in windows: `asteroid-deepmask separate --model {config['onnx']} long.wav -o out/`.",
            "",
        ]
    if config.get("streaming_onnx"):
        lines += _streaming_section(config["streaming_onnx"], config["sample_rate"], args.get("n_src"))
    if config.get("web"):
        lines += _web_section(config["web"], config["sample_rate"])
    return "\n".join(lines)


def _streaming_section(streaming, sample_rate, n_src):
    file, block = streaming["file"], streaming["block"]
    return [
        "## Live separation",
        "",
        f"The model is causal: it separates a live stream block by block, with the outputs of the whole input. "
        f"`{file}` is one step of {1000 * block / sample_rate:g} ms: inputs `mixture` [batch, {block}] and the "
        f"states, outputs `sources` [batch, {n_src}, {block}] and the next states (zeros to start; names and "
        "shapes in its metadata).",
        "",
        "```bash",
        f"asteroid-deepmask stream --model {file} meeting.wav -o out/",
        f"arecord -q -f S16_LE -r {sample_rate:g} -c 1 | asteroid-deepmask stream --model <this repository> "
        f"--raw-rate {sample_rate:g} - -o out/",
        "```",
        "",
        "In Python: `streamer = model.streamer()`, then `streamer.process(block)` for each block and "
        "`streamer.flush()` at the end.",
        "",
    ]


def _web_section(web, sample_rate):
    folder, block = web["folder"], web["block"]
    return [
        "## Live in the browser",
        "",
        f"`{folder}/` is a static web page that separates a microphone, or a dropped WAV file, live with this model "
        f"(blocks of {1000 * block / sample_rate:g} ms) and plays the source you choose. The model runs on the "
        "visitor's own CPU, in the browser (onnxruntime-web, WebAssembly, held in the folder): no audio is uploaded "
        "anywhere. In a clone of this repository (with git-lfs, which fetches the model and the WebAssembly):",
        "",
        "```bash",
        f"python -m http.server -d {folder} 8000",
        "# then open http://localhost:8000 and allow the microphone",
        "```",
        "",
        f"The folder also works as a static Hugging Face Space: create a Space with the SDK \"static\" and copy the "
        f"files of `{folder}/` to its root.",
        "",
    ]
