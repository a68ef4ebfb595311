"""Live separation in the browser: time per block of the page that `asteroid-deepmask web` writes, against native ONNX Runtime.

Models: the mini causal DPRNN MLP (L) (``hparams/mini2mix/causal_mlp_l.yaml``) and the paper-size one
(``hparams/wsj0-2mix/causal_mlp_l.yaml``), with seeded untrained weights (speed does not depend on
them), in float32 and int8 (``--quantize int8``). For each, ``build_web_folder`` writes the page with 10 ms
blocks, a local server serves it, and headless Chromium (``asteroid_deepmask.deployment.browser``) opens
``index.html?file=mix.wav``: the page separates ``--seconds`` of noise block by block through its Worker,
as if live, and reports the median and p99 time per block. Engines, one after the other in each
repetition (the order rotating, ``benchmarks/harness.py``):

- ``browser 1 thread``: onnxruntime-web's WebAssembly on one thread (a plain static server);
- ``browser N threads``: the same page served with the cross-origin isolation headers, which lets it
  use up to 4 threads (what the page reports);
- ``native 1 thread``: the same ``model.onnx`` in ONNX Runtime's Python package, one intra-op thread,
  fed its own states (``bench_streaming.onnx_stream``).

A row's time is the median over repetitions of each run's median (and p99) time per block; RTF is that
time over the block's duration; ``vs_native`` is the engine's time over native ONNX Runtime's, measured in
the same run; ``folder_mb`` and ``model_mb`` are the sizes of the page folder and of its ``model.onnx``.
The record names the browser and its version.

    python benchmarks/bench_web.py --record docs/results/bench_web.json --screenshot docs/_static/web_page.png
    python benchmarks/bench_web.py --models mini2mix/causal_mlp_l --precisions 32 --reps 1   # a quick look

``--screenshot PATH`` also saves a picture of the page of the docs' trained causal model streaming a recorded
two-voice mixture as its microphone.
"""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_streaming import build_model, mixture, onnx_stream  # noqa: E402
from harness import benchmark_parser, rotations, save_record  # noqa: E402

MODELS = ("mini2mix/causal_mlp_l", "wsj0-2mix/causal_mlp_l")
ENGINES = ("browser 1 thread", "browser N threads", "native 1 thread")
#: The recorded two voices the screenshot's microphone plays (docs/examples/data, see its PROVENANCE.txt).
SCREENSHOT_VOICES = ("en_US_f_Allison_tt-weasels.wav", "ru_RU_f_IvrvoiceRU_vm-nonumber.wav")


def page_run(driver, url):
    """``(median_ms, p99_ms, threads)`` of one run of the page at ``url``."""
    from asteroid_deepmask.deployment.browser import run_page

    title, summary = run_page(driver, url, timeout=600)
    if title != "done":
        raise RuntimeError(f"{url}: {title}")
    return summary["median_ms"], summary["p99_ms"], summary["threads"]


def native_run(path, block, mix):
    """``(median_ms, p99_ms, 1)`` of one stream of ``mix`` through ``path`` in native ONNX Runtime."""
    times = sorted(wall * 1000 for wall, _ in onnx_stream(path, block)(mix))
    return statistics.median(times), times[min(len(times) - 1, round(0.99 * (len(times) - 1)))], 1


def measure_model(driver, name, model, precisions, block_ms, seconds, reps, work):
    """Rows of the causal ``model`` (called ``name``, ``corpus/experiment``): each precision and engine, over ``reps``
    rotating repetitions; its page folders and stream are written under ``work``."""
    import soundfile as sf

    from asteroid_deepmask.deployment.browser import page_url, serve
    from asteroid_deepmask.deployment.streaming_export import block_samples
    from asteroid_deepmask.deployment.web import MODEL_FILE, build_web_folder

    corpus = name.split("/")[0]
    block = block_samples(model, block_ms)
    mix = mixture(seconds, int(model.sample_rate))
    root = os.path.join(work, corpus)
    sf.write(os.path.join(root + "_mix.wav"), mix[0].numpy(), int(model.sample_rate), subtype="FLOAT")
    servers = [serve(work, isolated) for isolated in (False, True)]
    rows = []
    try:
        for precision in precisions:
            folder = f"{root}_{precision}"
            written = build_web_folder(model, folder, block=block, quantize="int8" if precision == "int8" else None)
            sub, wav = os.path.basename(folder), f"../{corpus}_mix.wav"
            runs = {ENGINES[0]: lambda: page_run(driver, page_url(servers[0][1], sub, file=wav)),
                    ENGINES[1]: lambda: page_run(driver, page_url(servers[1][1], sub, file=wav)),
                    ENGINES[2]: lambda: native_run(os.path.join(folder, MODEL_FILE), block, mix)}
            results = {engine: [] for engine in runs}
            for order in rotations(list(runs), reps):
                for engine in order:
                    results[engine].append(runs[engine]())
                    print(f"  {name} {precision} {engine}: {results[engine][-1][0]:.3f} ms per block", file=sys.stderr)
            native = statistics.median(r[0] for r in results[ENGINES[2]])
            for engine, runs_ in results.items():
                median = statistics.median(r[0] for r in runs_)
                rows.append(dict(model=name, precision=precision, engine=engine, threads=runs_[-1][2],
                                 block_ms=1000 * block / model.sample_rate, median_ms=median,
                                 p99_ms=statistics.median(r[1] for r in runs_),
                                 rtf=median / (1000 * block / model.sample_rate), vs_native=median / native,
                                 folder_mb=written["bytes"] / 1e6,
                                 model_mb=os.path.getsize(os.path.join(folder, MODEL_FILE)) / 1e6))
    finally:
        for server, _ in servers:
            server.shutdown()
    return rows


def screenshot(path, work):
    """Save a picture of the page of the docs' trained causal model (``docs/examples/models/mini2mix_causal``)
    streaming two recorded voices as its microphone."""
    import soundfile as sf

    from asteroid_deepmask import DPRNNDeepMask
    from asteroid_deepmask.deployment.browser import chromium, page_url, serve
    from asteroid_deepmask.deployment.web import build_web_folder

    docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "examples")
    data = os.path.join(docs, "data")
    voices = [sf.read(os.path.join(data, name), dtype="float32")[0] for name in SCREENSHOT_VOICES]
    rate = sf.info(os.path.join(data, SCREENSHOT_VOICES[0])).samplerate
    n = min(len(v) for v in voices)
    mic = os.path.join(work, "voices.wav")
    sf.write(mic, 0.5 * (voices[0][:n] + voices[1][:n]), rate)
    folder = os.path.join(work, "screenshot")
    build_web_folder(DPRNNDeepMask.from_pretrained(os.path.join(docs, "models", "mini2mix_causal")), folder)
    server, url = serve(folder)
    driver = chromium(fake_microphone=mic, window=(1000, 680))
    try:
        driver.get(page_url(url, mic=8))
        time.sleep(5)  # levels and timings have settled
        driver.save_screenshot(path)
    finally:
        driver.quit()
        server.shutdown()
    print(f"screenshot written to {path}", file=sys.stderr)


def main():
    parser = benchmark_parser(__doc__)
    parser.add_argument("--models", default=",".join(MODELS), help="corpus/experiment names (default: %(default)s)")
    parser.add_argument("--precisions", default="32,int8", help="32 and/or int8 (default: %(default)s)")
    parser.add_argument("--block-ms", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=4, help="length of each stream (default: %(default)s)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default: %(default)s)")
    parser.add_argument("--screenshot", metavar="PATH", help="also save a PNG of the page streaming")
    args = parser.parse_args()

    from asteroid_deepmask.deployment.browser import browser_version, chromium

    with tempfile.TemporaryDirectory() as work:
        driver = chromium()
        try:
            browser = browser_version(driver)
            rows = [row for name in args.models.split(",")
                    for row in measure_model(driver, name, build_model(*reversed(name.split("/"))),
                                             args.precisions.split(","), args.block_ms, args.seconds, args.reps, work)]
        finally:
            driver.quit()
        if args.screenshot:
            screenshot(args.screenshot, work)
    print(f"\n{browser}; {args.block_ms:g} ms blocks, {args.seconds:g} s streams, {args.reps} repetitions")
    print(f"{'model':<24} {'precision':<9} {'engine':<18} {'threads':>7} {'median ms':>9} {'p99 ms':>8} "
          f"{'RTF':>6} {'vs native':>9}")
    for r in rows:
        print(f"{r['model']:<24} {r['precision']:<9} {r['engine']:<18} {r['threads']:>7} {r['median_ms']:>9.3f} "
              f"{r['p99_ms']:>8.3f} {r['rtf']:>6.3f} {r['vs_native']:>9.2f}")
    save_record(args.record, "bench_web", rows, browser=browser, seconds=args.seconds, reps=args.reps)


if __name__ == "__main__":
    main()
