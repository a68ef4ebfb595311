"""Fill the numbers of README.md from the result records in docs/results/, or check that they agree.

A number in the README stands between two markers that name where it comes from::

    SI-SDRi <!-- result mini2mix_main:si_sdri_db -->5.54<!-- /result --> dB

The name is ``RECORD:KEY`` with an optional ``|FORMAT``: ``RECORD`` is ``docs/results/RECORD.json``;
``KEY`` is a top-level field (``date``, ``host.kind``), a column of the only row (``si_sdri_db``),
``rows[i].col`` or ``rows[col=value,col2=value].col`` (the one row with those values); FORMAT is
Python's format spec (``.1f``). Without a FORMAT, a number is written with as many decimals as the
README has there (none written yet: 3 significant digits). The syntax is
:func:`asteroid_deepmask.utils.result_records.lookup`'s, the same as the docs' ``{result}`` role.

    python scripts/readme_numbers.py            # rewrite the numbers of README.md from the records
    python scripts/readme_numbers.py --check    # exit 1, naming each number that disagrees, and each
                                                # marker whose record or key does not exist
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from asteroid_deepmask.utils.result_records import format_value, lookup, read_records, split_name  # noqa: E402

MARKER = re.compile(r"<!--\s*result\s+(?P<name>[^>]*?)\s*-->(?P<text>[^<\n]*)<!--\s*/result\s*-->")
NUMBER = re.compile(r"^[+-]?\d+(\.(?P<decimals>\d+))?$")


def expected_text(value, spec, text):
    """How ``value`` is written where the README has ``text``: by ``spec``, else with ``text``'s decimals.

    Example:
        >>> expected_text(5.5432, None, "5.5"), expected_text(5.5432, ".2f", ""), expected_text(412.3, None, "")
        ('5.5', '5.54', '412')
    """
    if spec:
        return format_value(value, spec)
    number = NUMBER.match(text.strip())
    if isinstance(value, float) and number:
        return f"{value:.{len(number['decimals'] or '')}f}"
    return format_value(value)


def resolve(text, records):
    """``[(match, expected text or None, problem or None)]`` for every marker of ``text``."""
    found = []
    for match in MARKER.finditer(text):
        try:
            stem, key, spec = split_name(match["name"])
            if stem not in records:
                raise KeyError(f"no record {stem!r} (docs/results/{stem}.json)")
            found.append((match, expected_text(lookup(records[stem], key), spec, match["text"]), None))
        except (KeyError, TypeError, ValueError) as err:
            found.append((match, None, err.args[0] if isinstance(err, KeyError) and err.args else str(err)))
    return found


def line_of(text, match):
    return text.count("\n", 0, match.start()) + 1


def check(text, records, path="README.md"):
    """The problems of ``text`` (a README): ``["README.md:12: mini2mix_main:si_sdri_db is 5.54, the record says
    5.61", ...]``; empty when every number agrees with its record."""
    problems = []
    for match, expected, problem in resolve(text, records):
        where = f"{path}:{line_of(text, match)}: {match['name']}"
        if problem:
            problems.append(f"{where}: {problem}")
        elif match["text"].strip() != expected:
            problems.append(f"{where} is {match['text'].strip()!r}, the record says {expected!r}")
    return problems


def fill(text, records, path="README.md"):
    """``(text with every number rewritten from its record, problems of markers it could not fill)``."""
    problems, parts, last = [], [], 0
    for match, expected, problem in resolve(text, records):
        if problem:
            problems.append(f"{path}:{line_of(text, match)}: {match['name']}: {problem}")
            continue
        parts += [text[last:match.start("text")], expected]
        last = match.end("text")
    return "".join(parts) + text[last:], problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a number disagrees")
    parser.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    parser.add_argument("--results", default=os.path.join(ROOT, "docs", "results"), help="folder of the records")
    args = parser.parse_args(argv)
    with open(args.readme) as f:
        text = f.read()
    records, name = read_records(args.results), os.path.relpath(args.readme)
    count = len(MARKER.findall(text))
    if args.check:
        problems = check(text, records, name)
        print("\n".join(problems) if problems else f"{name}: {count} numbers, all agree with their records")
        return 1 if problems else 0
    new, problems = fill(text, records, name)
    if new != text:
        with open(args.readme, "w") as f:
            f.write(new)
    print("\n".join(problems) if problems else f"{name}: {count} numbers written from their records")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
