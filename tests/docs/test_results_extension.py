"""docs/_ext/results.py on a scratch Sphinx project: a record's rows become a table with its provenance,
a plot becomes a PNG in the build, {result} inserts one value, and a missing record, column or row is
a warning naming it (the docs build with -W), as is a record no page shows."""
import io
import json
import os
import sys

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")
pytest.importorskip("matplotlib")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

HOST = {"cpu_model": "AMD EPYC 7B13", "cores": 2, "avx512": False, "avx512_bf16": False, "vnni": False, "gpu": None,
        "kind": "AMD EPYC, no AVX-512"}
RECORD = {"name": "bench_streaming", "date": "2026-12-06T13:05:00+00:00",
          "command": "python benchmarks/bench_streaming.py --seconds 2", "versions": {"torch": "2.11.0"}, "host": HOST,
          "rows": [{"model": "m", "way": w, "block_ms": b, "median_ms": t * b, "rtf": t}
                   for w, t in (("torch", 0.21), ("onnx", 0.08)) for b in (4.0, 10.0, 20.0)],
          "targets": ["PASS onnx, 10 ms blocks: RTF <= 0.15: measured 0.08"]}

GOOD = """# Good

The RTF is {result}`bench_streaming:rows[way=onnx,block_ms=10].rtf|.3f` on {result}`bench_streaming:host.kind`.

```{results-table} bench_streaming
:columns: way, block_ms, median_ms, rtf
:where: block_ms=10
:group-by-host:
```

```{results-plot} bench_streaming
:x: block_ms
:y: median_ms, rtf
:series: way
```

```{results-table} gpu_check
:optional: it needs a GPU.
```

```{results-notes} bench_streaming
```
"""

BAD = """# Bad

{result}`nope:x`

```{results-table} no_such_record
```

```{results-table} bench_streaming
:columns: way, no_such_column
```

```{results-plot} bench_streaming
:x: block_ms
:y: rtf
:where: way=fp8
```
"""


def build(tmp_path, pages, records):
    from sphinx.application import Sphinx

    src = tmp_path / "src"
    (src / "results").mkdir(parents=True)
    (src / "conf.py").write_text(f"import sys\nsys.path.insert(0, {os.path.join(ROOT, 'docs', '_ext')!r})\n"
                                 "extensions = ['myst_parser', 'results']\n")
    toctree = "\n".join(pages)
    (src / "index.md").write_text(f"# Index\n\n```{{toctree}}\n{toctree}\n```\n")
    for name, text in pages.items():
        (src / f"{name}.md").write_text(text)
    for name, record in records.items():
        (src / "results" / f"{name}.json").write_text(json.dumps(record))
    warnings = io.StringIO()
    app = Sphinx(str(src), str(src), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html",
                 status=io.StringIO(), warning=warnings, freshenv=True)
    app.build()
    return tmp_path / "html", warnings.getvalue()


@pytest.fixture(autouse=True)
def _path():
    sys.path.insert(0, ROOT)
    yield
    sys.path.remove(ROOT)


def test_tables_plots_and_numbers_come_from_the_record(tmp_path):
    html, warnings = build(tmp_path, {"good": GOOD}, {"bench_streaming": RECORD, "bench_streaming-xeon": {
        **RECORD, "host": {**HOST, "cpu_model": "Intel Xeon", "avx512": True, "kind": "Intel Xeon, AVX-512"}}})
    assert warnings == ""
    page = (html / "good.html").read_text()
    assert "The RTF is <span class=\"result\">0.080</span> on <span class=\"result\">AMD EPYC, no AVX-512</span>" in page
    assert page.count("results-table") >= 2 and "median (ms)" in page and "<p>2.1</p>" in page  # 0.21 * 10 ms
    assert "<p>4</p>" not in page  # :where: block_ms=10 left the 4 ms rows out
    assert "AMD EPYC, no AVX-512" in page and "Intel Xeon, AVX-512" in page  # a heading per host kind
    assert "benchmarks/bench_streaming.py" in page and "2026-12-06" in page and "torch 2.11.0" in page  # provenance
    assert "No gpu_check record yet: it needs a GPU." in page
    assert page.count("PASS onnx, 10 ms blocks: RTF &lt;= 0.15: measured 0.08") == 2  # a list per host
    images = os.listdir(html / "_images")
    assert len([i for i in images if i.startswith("bench_streaming") and i.endswith(".png")]) == 2  # one per host


def test_what_is_missing_is_a_warning_naming_it(tmp_path):
    _, warnings = build(tmp_path, {"bad": BAD}, {"bench_streaming": RECORD, "unshown": {**RECORD, "name": "unshown"}})
    assert "result 'nope:x': no record 'nope'" in warnings
    assert "results-table no_such_record: no record 'no_such_record'" in warnings
    assert "bench_streaming.json has no column 'no_such_column'" in warnings
    assert "no row of bench_streaming.json 'rows' has way=fp8" in warnings
    assert "results/unshown.json: no page shows this record" in warnings
