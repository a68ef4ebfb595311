"""Result records: the JSON a benchmark or a recipe's evaluation writes, and the docs render.

A record is one measurement run::

    {
      "name": "bench_streaming",            # what measured it (a benchmark or a recipe step)
      "date": "2026-12-06T13:05:00+00:00",  # when it finished (UTC)
      "command": "python benchmarks/bench_streaming.py --seconds 10",
      "versions": {"asteroid_deepmask": "...", "torch": "...", "onnxruntime": "...", "python": "..."},
      "host": {"cpu_model": "AMD EPYC 9B14", "cores": 2, "avx512": false, "avx512_bf16": false,
               "vnni": false, "gpu": null, "kind": "AMD EPYC, no AVX-512"},
      "rows": [{...}, ...],                 # one dict per measured row; keys are the table's columns
      ...                                   # anything else the writer adds (targets, profiles, notes)
    }

Numbers in the README and the docs are read from records under ``docs/results/`` (never typed by
hand); ``host["kind"]`` groups them, because the same code is 2x faster on a CPU with AVX-512.

A number is named ``RECORD:KEY`` (:func:`lookup`): ``RECORD`` is a file name in ``docs/results/``
without ``.json``, and ``KEY`` one of

- a top-level field, dotted into nested ones: ``date``, ``host.kind``, ``versions.torch``;
- a column of the only row: ``si_sdri_db`` (when the record has one row and no such top-level field);
- a column of row ``i`` (from 0): ``rows[2].median_ms``;
- a column of the one row whose columns have the given values: ``rows[model=mlp_l,block_ms=10].rtf``
  (values compared as text, ``10`` matching ``10.0``); more than one or no such row is an error.

``rows`` may be any other list of rows the record holds (``scaling[p=8].gram_ms``). A ``|FORMAT``
after the key (Python's format spec) says how to print it: ``bench_models:rows[0].time_s|.2f``.

Example:
    >>> record = make_record("example", [{"model": "baseline", "rtf": 0.5}], command="python x.py")
    >>> sorted(record)
    ['command', 'date', 'host', 'name', 'rows', 'versions']
    >>> record["host"]["kind"] == host_kind(record["host"])
    True
"""
import datetime
import importlib.metadata
import json
import math
import os
import platform
import re
import shlex
import sys

from .atomic import atomic_paths

#: Packages whose versions a record holds (those that change the numbers).
RECORDED_PACKAGES = ("asteroid-deepmask", "torch", "torchaudio", "onnxruntime", "numpy", "asteroid", "speechbrain")


def _cpuinfo():
    """``(model name, set of flags)`` from ``/proc/cpuinfo``; empty where there is none (macOS)."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model in ("", platform.machine(), platform.processor()):
                    model = value.strip()
                elif key in ("flags", "Features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model, flags


def _gpu():
    """The first CUDA device's name, or None (torch is imported only if it already is)."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_name(0)


def host_kind(host):
    """A short label that groups hosts that give alike numbers: vendor family and AVX-512.

    Example:
        >>> host_kind({"cpu_model": "AMD EPYC 7B13", "avx512": False})
        'AMD EPYC, no AVX-512'
        >>> host_kind({"cpu_model": "Intel(R) Xeon(R) CPU @ 2.20GHz", "avx512": True})
        'Intel Xeon, AVX-512'
    """
    model = host["cpu_model"]
    family = next((name for key, name in (("EPYC", "AMD EPYC"), ("Xeon", "Intel Xeon"), ("Ryzen", "AMD Ryzen"),
                                          ("Core", "Intel Core"), ("Apple", "Apple")) if key in model), model)
    return f"{family}, {'AVX-512' if host['avx512'] else 'no AVX-512'}"


def host_info():
    """The machine a measurement ran on: CPU model, usable cores, AVX-512 / bf16 / VNNI, GPU."""
    model, flags = _cpuinfo()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    host = {
        "cpu_model": model,
        "cores": cores,
        "avx512": "avx512f" in flags,
        "avx512_bf16": "avx512_bf16" in flags,
        "vnni": bool({"avx512_vnni", "avx_vnni"} & flags),
        "gpu": _gpu(),
    }
    host["kind"] = host_kind(host)
    return host


def versions():
    """Versions of the packages that change the numbers, and of Python."""
    found = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


#: The checkout (or site-packages) holding the package: scripts under it (benchmarks/, egs/) are the project's.
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: Programs whose command line a record keeps: the package's command, its modules, its scripts.
OWN_PROGRAMS = ("asteroid-deepmask", "asteroid_deepmask")


def current_command():
    """The command line this process was started with, as a user would type it, when it is one of the
    project's programs (``asteroid-deepmask ...``, ``python -m asteroid_deepmask...``, ``python benchmarks/x.py``);
    None when the code runs inside another program (pytest, a notebook, a user's script), whose command line
    would not say what measured the record.
    """
    argv = list(sys.argv)
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if argv and spec is not None and spec.name:  # python -m package[.module]
        module = spec.name.removesuffix(".__main__")
        if not module.startswith(OWN_PROGRAMS[1]):
            return None
        argv[0:1] = ["python", "-m", module]
    elif argv and argv[0].endswith(".py"):
        script = os.path.abspath(argv[0])
        if not script.startswith(PROJECT_ROOT + os.sep):
            return None
        argv[0:1] = ["python", os.path.relpath(script, PROJECT_ROOT)]
    elif argv and os.path.basename(argv[0]) == OWN_PROGRAMS[0]:  # the console script, without its local path
        argv[0] = OWN_PROGRAMS[0]
    else:
        return None
    return shlex.join(argv)


def make_record(name, rows, command=None, **extra):
    """A record of ``rows`` (list of dicts) measured by ``name``, with date, command, versions and host."""
    record = {
        "name": name,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": command or current_command(),  # None: run inside another program
        "versions": versions(),
        "host": host_info(),
        "rows": list(rows),
    }
    record.update(extra)
    return record


def write_record(path, record):
    """Write ``record`` to ``path`` as indented JSON, atomically (a reader never sees half a file)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with atomic_paths(path) as (tmp,):
        with open(tmp, "w") as f:
            json.dump(finite(record), f, indent=1, allow_nan=False)
            f.write("\n")
    return path


def finite(value):
    """``value`` with every NaN or infinite float (nested in dicts, lists, tuples) replaced by None:
    strict JSON has neither, and a table shows None as "no value".

    Example:
        >>> finite({"a": [1.0, float("nan")], "b": (float("inf"), "x")})
        {'a': [1.0, None], 'b': [None, 'x']}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def read_records(folder):
    """``{file stem: record}`` of every ``*.json`` record in ``folder``, sorted by name (none when it does not
    exist)."""
    records = {}
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.endswith(".json"):
            with open(os.path.join(folder, name)) as f:
                records[name[: -len(".json")]] = json.load(f)
    return records


_ROW_KEY = re.compile(r"^(?P<list>\w+)\[(?P<select>[^\]]*)\]\.(?P<column>\w+)$")


def split_name(name):
    """``(record, key, format spec or None)`` of a number's name ``RECORD:KEY[|FORMAT]``.

    Example:
        >>> split_name("bench_models:rows[1].time_s|.2f")
        ('bench_models', 'rows[1].time_s', '.2f')
    """
    name, _, spec = name.strip().partition("|")
    record, sep, key = name.partition(":")
    if not sep or not record.strip() or not key.strip():
        raise KeyError(f"{name!r} is not RECORD:KEY (e.g. mini2mix_main:si_sdri_db)")
    return record.strip(), key.strip(), spec.strip() or None


def _same(value, text):
    """Whether a row's ``value`` is the ``text`` of a filter: as text, or as numbers (``10`` is ``10.0``)."""
    if str(value) == text:
        return True
    try:
        return float(value) == float(text)
    except (TypeError, ValueError):
        return False


def select_rows(rows, where):
    """The rows whose columns have the values of ``where`` (``{column: text or list of texts}``).

    Example:
        >>> rows = [{"way": "torch", "block_ms": 10.0}, {"way": "onnx", "block_ms": 10.0}]
        >>> select_rows(rows, {"block_ms": "10", "way": ["onnx", "int8"]})
        [{'way': 'onnx', 'block_ms': 10.0}]
    """
    def keep(row):
        for column, wanted in where.items():
            wanted = [wanted] if isinstance(wanted, str) else wanted
            if column not in row or not any(_same(row[column], w) for w in wanted):
                return False
        return True

    return [row for row in rows if keep(row)]


def split_pairs(text):
    """``"a=1, b=x, y"`` split at the commas that start another ``KEY=``: ``["a=1", "b=x, y"]``."""
    return re.split(r",\s*(?=[\w.-]+\s*=)", text or "")


def parse_where(text):
    """``{column: [texts]}`` of a filter ``"col=a, col2=b|c"`` (``|``: any of those values; a comma not
    followed by ``COLUMN=`` belongs to the value).

    Example:
        >>> parse_where("model=mlp_l, way=torch|onnx")
        {'model': ['mlp_l'], 'way': ['torch', 'onnx']}
        >>> parse_where("peer=ours, batch 1|ours, batch 4")
        {'peer': ['ours, batch 1', 'ours, batch 4']}
    """
    where = {}
    for part in filter(None, (p.strip() for p in split_pairs(text))):
        column, sep, values = part.partition("=")
        if not sep or not column.strip():
            raise KeyError(f"filter {part!r} is not COLUMN=VALUE")
        where[column.strip()] = [v.strip() for v in values.split("|")]
    return where


def lookup(record, key):
    """The value ``key`` names in ``record`` (the key syntax of this module's docstring).

    Raises:
        KeyError: with what was missing and what the record has instead.

    Example:
        >>> record = {"host": {"kind": "AMD EPYC, no AVX-512"},
        ...           "rows": [{"model": "a", "rtf": 0.5}, {"model": "b", "rtf": 0.25}]}
        >>> lookup(record, "host.kind"), lookup(record, "rows[1].rtf"), lookup(record, "rows[model=a].rtf")
        ('AMD EPYC, no AVX-512', 0.25, 0.5)
        >>> lookup({"rows": [{"si_sdri_db": 5.5}]}, "si_sdri_db")
        5.5
    """
    match = _ROW_KEY.match(key)
    if match:
        rows = record.get(match["list"])
        if not isinstance(rows, list):
            raise KeyError(f"no list of rows {match['list']!r} (fields: {', '.join(record)})")
        select = match["select"].strip()
        if select.isdigit():
            if int(select) >= len(rows):
                raise KeyError(f"{match['list']}[{select}]: the record has {len(rows)} rows")
            row = rows[int(select)]
        else:
            found = select_rows(rows, parse_where(select))
            if len(found) != 1:
                seen = {c: sorted({str(r.get(c)) for r in rows}) for c in parse_where(select)}
                raise KeyError(f"{match['list']}[{select}] matches {len(found)} rows, not one; select one row "
                               f"(values there: {'; '.join(f'{c}: ' + ', '.join(v) for c, v in seen.items())})")
            row = found[0]
        if match["column"] not in row:
            raise KeyError(f"no column {match['column']!r} in {match['list']}[{select}] (columns: {', '.join(row)})")
        return row[match["column"]]
    value = record
    for i, part in enumerate(key.split(".")):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif i == 0 and "." not in key and len(record.get("rows") or []) == 1 and key in record["rows"][0]:
            return record["rows"][0][key]
        else:
            have = ", ".join(value) if isinstance(value, dict) else type(value).__name__
            rows = record.get("rows") or []
            hint = (f"; the record has {len(rows)} rows: name one, rows[i].{key} or rows[column=value].{key}"
                    if i == 0 and len(rows) > 1 and any(key in r for r in rows) else "")
            raise KeyError(f"no field {key!r} (at {part!r}; there: {have}){hint}")
    return value


def format_value(value, spec=None):
    """``value`` as a table or a page prints it: ``spec`` (a format spec) if given; else floats with 3
    significant digits below 100 and none after the point above, "-" for None.

    Example:
        >>> format_value(5.5432), format_value(373.2), format_value(0.01234), format_value(None), format_value(2, ".1f")
        ('5.54', '373', '0.0123', '-', '2.0')
    """
    if value is None:
        return "-"
    if spec:
        return format(value, spec)
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)
