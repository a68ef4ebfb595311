"""Sphinx extension: tables, plots and single numbers made at build time from the result records in
``docs/results/*.json`` (:mod:`asteroid_deepmask.utils.result_records`), so no page types a number.

A record is named by its file name without ``.json`` (``bench_streaming``); a table or a plot also
shows every other record whose ``"name"`` field is that name (the same benchmark measured on another
host, e.g. ``bench_streaming-xeon.json``), one per host kind. Under each table or plot: the command,
date, host and versions of the record it shows.

MyST syntax (reStructuredText: ``.. results-table:: bench_streaming`` and the same options)::

    ```{results-table} bench_streaming
    :columns: model, way, block_ms, median_ms, p99_ms, rtf
    :where: block_ms=10, way=torch|onnx
    :format: rtf=.3f, median_ms=.2f
    :labels: way=engine
    :rows: rows
    :group-by-host:
    ```

    ```{results-plot} bench_long_files
    :x: audio_min
    :y: wall_s, peak_mib
    :series: peer
    :kind: line
    :where: status=ok
    :title: Separating a long file
    ```

    SI-SDRi {result}`mini2mix_main:si_sdri_db|.2f` dB in {result}`mini2mix_main:wall_s|.0f` s.

``results-table`` options: ``columns`` (default: every column, in the order they appear), ``where``
(``COLUMN=VALUE`` pairs, ``|`` between the values a column may have), ``format`` (``COLUMN=SPEC``,
Python's format spec; default 3 significant digits), ``labels`` (``COLUMN=HEADER``; default the column
name with its unit: ``median_ms`` is "median (ms)"), ``rows`` (which list of the record: ``rows``, or
another such as ``ratios``), ``group-by-host`` (a heading per host kind; without it, records of several
hosts share one table with a ``host`` column), ``optional`` (a record that only some hosts can make, such
as ``gpu_check``: while there is none, the text given here is shown instead of a warning).

``results-plot`` options: ``x`` and ``y`` (columns; several ``y``: one panel each), ``series`` (columns
whose values make one line or bar set each), ``where``, ``rows``, ``kind`` (``line``, ``scatter`` or
``bar``), ``logx``, ``logy``, ``title``, ``alt``, ``width``. One figure per record (host), PNG, drawn
with matplotlib into the build.

``results-notes`` lists the lines a record holds (``:field: targets``, the default: a benchmark's target
lines, PASS / MISS or met / not met).

``{result}`RECORD:KEY|FORMAT``` inserts one value; ``KEY`` is
:func:`asteroid_deepmask.utils.result_records.lookup`'s syntax (``si_sdri_db``, ``rows[2].rtf``,
``rows[model=mlp_l,block_ms=10].rtf``, ``host.kind``).

A missing record, row or column is a warning (the docs build with ``-W``: an error), never an empty
table; so is a record in ``docs/results/`` that no page shows.
"""
import hashlib
import json
import os

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

from asteroid_deepmask.utils.result_records import (format_value, lookup, parse_where, select_rows, split_name,
                                                    split_pairs)

logger = logging.getLogger(__name__)

#: Column-name suffixes and the unit a header shows for them.
UNITS = {"_ms": "ms", "_s": "s", "_mib": "MiB", "_gib": "GiB", "_db": "dB", "_min": "min", "_m": "M", "_g": "G", "_hz": "Hz"}
#: Versions shown under a table, in this order, when the record has them.
SHOWN_VERSIONS = ("asteroid-deepmask", "torch", "onnxruntime", "asteroid", "speechbrain", "python")


def header(column):
    """A column's header: its name with spaces, the unit suffix in parentheses.

    Example:
        >>> header("median_ms"), header("peak_growth_mib_per_min"), header("rtf")
        ('median (ms)', 'peak growth MiB per min', 'rtf')
    """
    if "_per_" in column:  # a rate: its units are in its words
        return " ".join({"mib": "MiB", "ms": "ms", "db": "dB"}.get(w, w) for w in column.split("_"))
    for suffix, unit in UNITS.items():
        if column.endswith(suffix) and len(column) > len(suffix):
            return f"{column[: -len(suffix)].replace('_', ' ')} ({unit})"
    return column.replace("_", " ")


def pairs(text):
    """``{key: value}`` of ``"a=x, b=y"`` (a directive option)."""
    found = {}
    for part in filter(None, (p.strip() for p in split_pairs(text))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"{part!r} is not KEY=VALUE")
        found[key.strip()] = value.strip()
    return found


def names(text):
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def records_dir(env):
    return os.path.join(env.srcdir, env.config.results_dir)


def load_record(env, stem):
    """The record ``docs/results/<stem>.json``, or None; the page that reads it depends on it."""
    path = os.path.join(records_dir(env), f"{stem}.json")
    if not os.path.isfile(path):
        return None
    env.note_dependency(path)
    with open(path) as f:
        return json.load(f)


def matching_records(env, name):
    """``[(stem, record)]``: ``<name>.json`` and every record whose ``"name"`` is ``name``, by host kind."""
    folder = records_dir(env)
    found = []
    for file in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if not file.endswith(".json"):
            continue
        stem = file[: -len(".json")]
        record = load_record(env, stem)
        if stem == name or record.get("name") == name:
            found.append((stem, record))
    return sorted(found, key=lambda item: (host_of(item[1]), item[0]))


def host_of(record):
    return (record.get("host") or {}).get("kind", "unknown host")


def note_used(env, docname, stem):
    env.results_used = getattr(env, "results_used", {})
    env.results_used.setdefault(docname, set()).add(stem)


def provenance(record):
    """A paragraph: when, by which command, on which host, with which versions ``record`` was measured."""
    host = record.get("host") or {}
    flags = [name for key, name in (("avx512", "AVX-512"), ("avx512_bf16", "AVX-512 bf16"), ("vnni", "VNNI"))
             if host.get(key)]
    machine = f"{host.get('cpu_model', 'unknown CPU')}, {host.get('cores', '?')} cores"
    machine += f", {' + '.join(flags)}" if flags else ", no AVX-512"
    machine += f", GPU {host['gpu']}" if host.get("gpu") else ", no GPU"
    versions = record.get("versions") or {}
    shown = ", ".join(f"{name} {versions[name]}" for name in SHOWN_VERSIONS if versions.get(name))
    para = nodes.paragraph(classes=["results-provenance"])
    para += nodes.Text(f"Measured {str(record.get('date', '?'))[:10]} with ")
    para += nodes.literal(text=record.get("command", "?"))
    para += nodes.Text(f" on {machine}; {shown}.")
    return para


class RecordDirective(SphinxDirective):
    """What ``results-table`` and ``results-plot`` share: the records, their rows, the warnings."""

    required_arguments = 1
    has_content = False
    common_options = {"where": directives.unchanged, "rows": directives.unchanged, "optional": directives.unchanged}

    def warn(self, message):
        logger.warning(f"{self.name} {self.arguments[0]}: {message}", location=self.get_location(),
                       type="results", subtype=self.name)
        return []

    def records(self):
        name = self.arguments[0]
        found = matching_records(self.env, name)
        if not found and "optional" in self.options:
            return []
        if not found:
            self.warn(f"no record {name!r}: no {self.env.config.results_dir}/{name}.json and no record named so "
                      "(scripts/measure_docs_results.sh writes them)")
        for stem, _ in found:
            note_used(self.env, self.env.docname, stem)
        return found

    def not_measured(self):
        """What an ``:optional:`` directive shows while its record does not exist: a note, not a warning."""
        note = self.options.get("optional") or "it is measured only where it can run"
        return [nodes.paragraph(text=f"No {self.arguments[0]} record yet: {note}", classes=["results-missing"])]

    def selected_rows(self, stem, record, needed):
        """The rows of ``record`` the options select, or None after a warning; ``needed``: columns that must exist."""
        key = self.options.get("rows", "rows")
        rows = record.get(key)
        if not isinstance(rows, list) or not rows:
            self.warn(f"{stem}.json has no rows {key!r}" + (" (it is empty)" if rows == [] else
                      f" (its lists of rows: {', '.join(k for k, v in record.items() if isinstance(v, list)) or 'none'})"))
            return None
        try:
            where = parse_where(self.options.get("where"))
        except KeyError as err:
            self.warn(str(err.args[0]))
            return None
        have = {column for row in rows for column in row}
        missing = [c for c in [*where, *needed] if c not in have]
        if missing:
            self.warn(f"{stem}.json has no column {', '.join(map(repr, missing))} in {key!r} "
                      f"(its columns: {', '.join(sorted(have))})")
            return None
        rows = select_rows(rows, where)
        if not rows:
            self.warn(f"no row of {stem}.json {key!r} has {self.options['where']}")
            return None
        return rows


class ResultsTable(RecordDirective):
    """``results-table``: a record's rows as a table, with its provenance under it."""

    option_spec = {**RecordDirective.common_options, "columns": directives.unchanged, "format": directives.unchanged,
                   "labels": directives.unchanged, "group-by-host": directives.flag}

    def run(self):
        found = self.records()
        if not found and "optional" in self.options:
            return self.not_measured()
        try:
            formats, labels = pairs(self.options.get("format")), pairs(self.options.get("labels"))
        except ValueError as err:
            return self.warn(str(err))
        columns = names(self.options.get("columns"))
        selected = []
        for stem, record in found:
            rows = self.selected_rows(stem, record, columns)
            if rows is not None:
                selected.append((stem, record, rows))
        if not selected:
            return []
        if "group-by-host" in self.options or len(selected) == 1:
            out = []
            for stem, record, rows in selected:
                if "group-by-host" in self.options:
                    out.append(nodes.rubric(text=host_of(record)))
                out += [self.table(columns or self.all_columns(rows), rows, formats, labels), provenance(record)]
            return out
        columns = columns or self.all_columns([row for _, _, row_list in selected for row in row_list])
        rows = [{"host": host_of(record), **row} for _, record, row_list in selected for row in row_list]
        out = [self.table(["host", *columns], rows, formats, labels)]
        return out + [provenance(record) for _, record, _ in selected]

    @staticmethod
    def all_columns(rows):
        columns = []
        for row in rows:
            columns += [c for c in row if c not in columns]
        return columns

    def table(self, columns, rows, formats, labels):
        table = nodes.table(classes=["results-table"])
        group = nodes.tgroup(cols=len(columns))
        table += group
        group += [nodes.colspec(colwidth=1) for _ in columns]
        head, body = nodes.thead(), nodes.tbody()
        head += self.row([labels.get(c, header(c)) for c in columns])
        for row in rows:
            cells = []
            for c in columns:
                try:
                    cells.append(format_value(row.get(c), formats.get(c)))
                except (TypeError, ValueError) as err:
                    self.warn(f"format {formats[c]!r} of column {c!r}: {err}")
                    cells.append(str(row.get(c)))
            body += self.row(cells)
        group += [head, body]
        return table

    @staticmethod
    def row(cells):
        row = nodes.row()
        for text in cells:
            entry = nodes.entry()
            entry += nodes.paragraph(text=text)
            row += entry
        return row


class ResultsPlot(RecordDirective):
    """``results-plot``: a matplotlib figure (PNG) of a record's rows per record (host kind)."""

    option_spec = {**RecordDirective.common_options, "x": directives.unchanged_required,
                   "y": directives.unchanged_required, "series": directives.unchanged,
                   "kind": lambda a: directives.choice(a, ("line", "scatter", "bar")), "logx": directives.flag,
                   "logy": directives.flag, "title": directives.unchanged, "alt": directives.unchanged,
                   "width": directives.unchanged}

    def run(self):
        if "x" not in self.options or "y" not in self.options:
            return self.warn("needs :x: and :y: (columns of the record)")
        x, ys, series = self.options["x"], names(self.options["y"]), names(self.options.get("series"))
        found = self.records()
        if not found and "optional" in self.options:
            return self.not_measured()
        out = []
        for stem, record in found:
            rows = self.selected_rows(stem, record, [x, *ys, *series])
            if rows is None:
                continue
            uri = self.figure(stem, record, rows, x, ys, series)
            image = nodes.image(uri=uri, alt=self.options.get("alt", f"{', '.join(map(header, ys))} against "
                                                                     f"{header(x)}, {host_of(record)}"))
            if "width" in self.options:
                image["width"] = self.options["width"]
            figure = nodes.figure(classes=["results-plot"])
            figure += image
            caption = nodes.caption()
            caption += provenance(record).children
            figure += caption
            out.append(figure)
        return out

    def figure(self, stem, record, rows, x, ys, series):
        """Draw the figure into the build (once per content) and return its URI for an image node."""
        key = json.dumps([self.options, rows, record.get("date"), host_of(record)], sort_keys=True, default=str)
        folder = os.path.join(self.env.doctreedir, "results_plots")
        path = os.path.join(folder, f"{stem}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.png")
        if not os.path.isfile(path):
            os.makedirs(folder, exist_ok=True)
            draw(rows, x, ys, series, self.options.get("kind", "line"), "logx" in self.options,
                 "logy" in self.options, "; ".join(filter(None, [self.options.get("title"), host_of(record)])), path)
        return "/" + os.path.relpath(path, self.env.srcdir).replace(os.sep, "/")


class ResultsNotes(RecordDirective):
    """``results-notes``: a list of lines a record holds (``:field:``, default ``targets``: its target lines)."""

    option_spec = {"field": directives.unchanged, "optional": directives.unchanged}

    def run(self):
        found = self.records()
        if not found and "optional" in self.options:
            return self.not_measured()
        field, out = self.options.get("field", "targets"), []
        for stem, record in found:
            lines = record.get(field)
            if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
                self.warn(f"{stem}.json has no list of lines {field!r}")
                continue
            if len(found) > 1:
                out.append(nodes.rubric(text=host_of(record)))
            if not lines:
                out.append(nodes.paragraph(text=f"None: this run of {record.get('name', stem)} measured no {field}."))
                continue
            items = nodes.bullet_list(classes=["results-notes"])
            for line in lines:
                item = nodes.list_item()
                item += nodes.paragraph(text=line)
                items += item
            out.append(items)
        return out


def draw(rows, x, ys, series, kind, logx, logy, title, path):
    """A PNG at ``path``: one panel per column of ``ys`` against ``x``, a line (points, bars) per value of ``series``."""
    from matplotlib.figure import Figure

    groups = {}
    for row in rows:
        groups.setdefault(", ".join(str(row.get(s)) for s in series) or None, []).append(row)
    fig = Figure(figsize=(4.6 * len(ys), 3.4), layout="constrained")
    axes = fig.subplots(1, len(ys), squeeze=False)[0]
    categories = list(dict.fromkeys(str(r.get(x)) for r in rows))
    numeric = kind != "bar" and all(isinstance(r.get(x), (int, float)) for r in rows)
    for ax, y in zip(axes, ys):
        for i, (label, group) in enumerate(groups.items()):
            points = [(r.get(x), r.get(y)) for r in group if r.get(y) is not None and r.get(x) is not None]
            if not numeric:
                points = [(categories.index(str(px)), py) for px, py in points]
            points.sort()
            xs, values = [p[0] for p in points], [p[1] for p in points]
            if kind == "bar":
                width = 0.8 / len(groups)
                ax.bar([v + (i - (len(groups) - 1) / 2) * width for v in xs], values, width, label=label)
            elif kind == "scatter":
                ax.scatter(xs, values, label=label)
            else:
                ax.plot(xs, values, marker="o", label=label)
        if not numeric:
            ax.set_xticks(range(len(categories)), categories, rotation=30 if len(categories) > 4 else 0,
                          ha="right" if len(categories) > 4 else "center")
        ax.set_xlabel(header(x))
        ax.set_ylabel(header(y))
        if logx and numeric:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    if len(groups) > 1:
        axes[0].legend(fontsize="small")
    fig.suptitle(title, fontsize="medium")
    fig.savefig(path, dpi=110)


class ResultRole(SphinxRole):
    """``{result}`RECORD:KEY|FORMAT```: one value of a record, formatted."""

    def run(self):
        try:
            stem, key, spec = split_name(self.text)
            record = load_record(self.env, stem)
            if record is None:
                raise KeyError(f"no record {stem!r} ({self.env.config.results_dir}/{stem}.json)")
            note_used(self.env, self.env.docname, stem)
            text = format_value(lookup(record, key), spec)
        except (KeyError, TypeError, ValueError) as err:
            message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
            logger.warning(f"result {self.text!r}: {message}", location=self.get_location(), type="results",
                           subtype="result")
            return [nodes.problematic(self.rawtext, self.rawtext)], []
        return [nodes.inline(self.rawtext, text, classes=["result"])], []


def purge(app, env, docname):
    getattr(env, "results_used", {}).pop(docname, None)


def merge(app, env, docnames, other):
    env.results_used = getattr(env, "results_used", {})
    env.results_used.update({d: s for d, s in getattr(other, "results_used", {}).items() if d in docnames})


def check_all_shown(app, env):
    """Warn about a record in ``docs/results/`` that no page shows (the Benchmarks page renders every one)."""
    folder = records_dir(env)
    shown = set().union(*getattr(env, "results_used", {}).values())
    for file in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if file.endswith(".json") and file[: -len(".json")] not in shown:
            logger.warning(f"{env.config.results_dir}/{file}: no page shows this record (add a results-table "
                           "to docs/benchmarks.md)", type="results", subtype="unused")


def setup(app):
    app.add_config_value("results_dir", "results", "env")
    app.add_directive("results-table", ResultsTable)
    app.add_directive("results-plot", ResultsPlot)
    app.add_directive("results-notes", ResultsNotes)
    app.add_role("result", ResultRole())
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-check-consistency", check_all_shown)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
