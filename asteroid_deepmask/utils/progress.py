"""Progress lines for long loops whose output goes to a log file (recipes' evaluation), where a
terminal progress bar would print nothing."""
import sys
import time


def with_progress(items, total=None, what="utterances", every_s=30.0, stream=None):
    """Yield ``items``, printing ``scored N[/total] <what> in T s`` at most every ``every_s`` seconds,
    and once at the end when the loop printed before (short loops stay quiet).

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> list(with_progress(range(3), total=3, every_s=0, stream=out))
        [0, 1, 2]
        >>> out.getvalue().splitlines()[-1].startswith("scored 3/3 utterances in ")
        True
    """
    stream = stream or sys.stdout
    start = last = time.monotonic()
    done, printed = 0, False
    of = "" if total is None else f"/{total}"
    for item in items:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= every_s:
            print(f"scored {done}{of} {what} in {now - start:.0f} s", file=stream, flush=True)
            last, printed = now, True
    if printed and now != last:
        print(f"scored {done}{of} {what} in {now - start:.0f} s", file=stream, flush=True)
