"""Printing for people (aligned tables that never wrap, colour only when wanted) and for
scripts (JSON, CSV, Markdown).

Every string that came from a record (a name, a param, a tag, a path) passes through
:func:`display_text` before it is printed: that is the one place where what a user
logged is turned into what a terminal may show.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import click

from gitrun.tracking.display import printable
from gitrun.tracking.entities import Run

ELLIPSIS = "…"
SPARK_BARS = "▁▂▃▄▅▆▇█"
_SPACES = re.compile(r"\s+")
_STATUS_STYLE = {"FINISHED": "green", "FAILED": "red", "RUNNING": "yellow", "KILLED": "magenta"}


def display_text(value: Any) -> str:
    """A user-supplied value as text for the terminal: the single gate every recorded
    string passes before it is printed.  Control characters, bidirectional controls and
    bytes that are not UTF-8 are escaped (``\\x1b``, ``\\xe9``) so a record cannot drive the
    terminal; line breaks are kept."""
    text = value if isinstance(value, str) else str(value)
    if "\n" not in text:
        return printable(text)
    return "\n".join(printable(line) for line in text.split("\n"))


def one_line(text: str) -> str:
    """Table cells hold one line: runs of whitespace (newlines, tabs) become one space."""
    return _SPACES.sub(" ", text).strip() if ("\n" in text or "\t" in text or "\r" in text) else text


def fmt_value(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return f"{value:.4g}"


def fmt_count(count: int) -> str:
    """``2,000``."""
    return f"{count:,}"


def fmt_time(ms: int | None) -> str:
    """Milliseconds since the epoch as local time (empty for None)."""
    if ms is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


def fmt_duration(start: int | None, end: int | None, *, running: bool = False) -> str:
    """``12.3s``, ``4m05s``, ``2h03m``; a running run's duration so far ends in ``+``."""
    if start is None:
        return ""
    if end is None:
        if not running:
            return ""
        end = int(time.time() * 1000)
    seconds = max(0, end - start) / 1000
    if seconds < 60:
        text = f"{seconds:.1f}s"
    else:
        minutes, secs = divmod(int(seconds), 60)
        hours, minutes = divmod(minutes, 60)
        text = f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
    return text + ("+" if running else "")


def run_duration(run: Run) -> str:
    return fmt_duration(run.info.start_time, run.info.end_time, running=run.info.status == "RUNNING")


def fmt_cell(value: Any) -> str:
    """A value as table text: floats to 4 significant digits, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt_value(value)
    return display_text(value)


def sparkline(values: Sequence[float], width: int = 12) -> str:
    """A series as block characters (``▁▃▅█``), at most ``width`` of them (bucket means)."""
    finite = [v for v in values if not math.isnan(v) and not math.isinf(v)]
    if not finite:
        return ""
    if len(values) > width:
        size = len(values) / width
        buckets = [values[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)] for i in range(width)]
        values = [_mean(b) for b in buckets]
    low, high = min(finite), max(finite)
    span = high - low
    out = []
    for v in values:
        if math.isnan(v) or math.isinf(v):
            out.append(" ")
        else:
            level = 0 if span == 0 else int((v - low) / span * (len(SPARK_BARS) - 1) + 0.5)
            out.append(SPARK_BARS[level])
    return "".join(out)


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v) and not math.isinf(v)]
    return sum(finite) / len(finite) if finite else math.nan


# -- terminal width and colour ----------------------------------------------------------------------


def cell_width(text: str) -> int:
    """Columns a string takes on a terminal (wide characters count two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return int(cell_len(text))


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns, ending in an ellipsis when cut."""
    if cell_width(text) <= width:
        return text
    if width <= 0:
        return ""
    if text.isascii():
        return text[: width - 1] + ELLIPSIS
    out, used = [], 0
    for char in text:
        w = cell_width(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + ELLIPSIS


def style(text: str, color: bool, **kwargs: Any) -> str:
    return click.style(text, **kwargs) if color and kwargs else text


# -- tables ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A table column.

    Attributes:
        header: Its title.
        right: Right-aligned (numbers).
        keep: Never shortened (ids, names, times): other columns shrink or go first.
        limit: Widest a cell may be before it is cut with an ellipsis.
        color: The column's colour on a terminal.
    """

    header: str
    right: bool = False
    keep: bool = False
    limit: int = 40
    color: str | None = None


@dataclass(frozen=True)
class Layout:
    lines: list[str]
    hidden: list[str]
    """Headers of the columns left out because the terminal is too narrow."""


_MIN_WIDTH = 6
_GAP = "  "


def layout_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    width: int | None,
    color: bool,
    marked: Sequence[int] = (),
    row_style: Callable[[int, int, str], str | None] | None = None,
) -> Layout:
    """Lines of an aligned table no wider than ``width`` (None: no limit).

    Over-long cells end in an ellipsis; when the table is still too wide, the widest
    shortenable columns shrink (down to a few characters), then the last columns are
    left out (listed in ``hidden``), and only then, as a last resort, kept columns are
    cut.  No line is ever longer than ``width``, so a terminal never wraps one.
    ``row_style(row, column, text)`` may colour single cells.
    """
    columns = [replace(c, header=printable(one_line(c.header))) for c in columns]
    cells = [[printable(one_line(c)) for c in row] for row in rows]
    count = len(columns)
    natural = []
    for i, col in enumerate(columns):
        widest = max((cell_width(r[i]) for r in cells), default=0)
        cap = widest if col.keep else min(widest, col.limit)
        head = cell_width(col.header)
        natural.append(max(cap, head if col.keep else min(head, col.limit), 1))
    widths = list(natural)
    shown = list(range(count))

    def total() -> int:
        return sum(widths[i] for i in shown) + len(_GAP) * (len(shown) - 1)

    if width is not None:
        while total() > width:
            shrinkable = [i for i in shown if not columns[i].keep and widths[i] > _MIN_WIDTH]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda i: widths[i])
            widths[widest] -= min(widths[widest] - _MIN_WIDTH, max(1, total() - width))
        while total() > width and len(shown) > 1:
            droppable = [i for i in shown if not columns[i].keep] or shown[1:]
            shown.remove(droppable[-1])
        while total() > width and any(widths[i] > 1 for i in shown):
            widest = max(shown, key=lambda i: widths[i])
            widths[widest] -= 1
    marks = set(marked)
    lead = marked and not color
    lines = []
    header = [_pad(truncate(columns[i].header, widths[i]), widths[i], columns[i].right) for i in shown]
    lines.append(("  " if lead else "") + style(_GAP.join(header).rstrip(), color, bold=True))
    for r, row in enumerate(cells):
        parts = []
        for i in shown:
            text = _pad(truncate(row[i], widths[i]), widths[i], columns[i].right)
            fg = (row_style(r, i, row[i]) if row_style else None) or columns[i].color
            if r in marks and color:
                text = style(text, color, fg="yellow", bold=True)
            elif fg:
                text = style(text, color, fg=fg)
            parts.append(text)
        line = _GAP.join(parts).rstrip()
        lines.append(("* " if r in marks else "  ") + line if lead else line)
    if width is not None and lead:
        lines = [truncate(line, width) for line in lines]
    return Layout(lines, [columns[i].header for i in range(count) if i not in shown])


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * max(0, width - cell_width(text))
    return space + text if right else text + space


def status_style(status: str) -> str | None:
    return _STATUS_STYLE.get(status)


def print_table(
    columns: Sequence[str | Column],
    rows: Sequence[Sequence[str]],
    *,
    color: bool,
    title: str | None = None,
    right: Sequence[int] = (),
    marked: Sequence[int] = (),
) -> None:
    """An aligned table fitted to the terminal; ``marked`` rows are the ones to notice
    (bold yellow on a terminal, ``*`` otherwise)."""
    from gitrun.cli.context import cli_context

    cols = [c if isinstance(c, Column) else Column(c, right=i in right) for i, c in enumerate(columns)]
    width = cli_context().width
    if title:
        click.echo(style(display_text(title), color, bold=True))
    result = layout_table(cols, rows, width=width, color=color, marked=marked)
    for line in result.lines:
        click.echo(line)
    if result.hidden:
        click.echo(hidden_note(result.hidden, width))


def hidden_note(hidden: Sequence[str], width: int | None = None) -> str:
    """Which columns the terminal was too narrow for, on one line that fits."""
    count = f"{len(hidden)} more column{'s do' if len(hidden) != 1 else ' does'}"
    text = f"({count} not fit; --columns chooses, | less -S shows all: {', '.join(hidden)})"
    return text if width is None else truncate(text, width)


def echo(text: str = "", *, color: bool = False, err: bool = False, **kwargs: Any) -> None:
    click.echo(style(text, color, **kwargs), err=err)


# -- for scripts -------------------------------------------------------------------------------------


# Inside JSON strings: characters to write as \u escapes (json.dumps escapes C0 itself).
_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def write_json(data: Any) -> None:
    """JSON on stdout; NaN and infinities as the strings "NaN", "Infinity", "-Infinity".

    Control characters, bidirectional controls and undecodable bytes (lone surrogates)
    in values are written as ``\\uXXXX`` escapes: valid JSON, exact, and inert on a terminal.
    """
    import json

    text = json.dumps(_finite(data), indent=2, ensure_ascii=False, allow_nan=False)
    click.echo(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def _finite(data: Any) -> Any:
    if isinstance(data, float) and not math.isfinite(data):
        return "NaN" if math.isnan(data) else ("Infinity" if data > 0 else "-Infinity")
    if isinstance(data, dict):
        return {str(k): _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def write_csv(columns: Sequence[str] | None, rows: Sequence[Sequence[Any]]) -> None:
    """CSV with a header row (none when ``columns`` is None); floats exact (``repr``)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if columns is not None:
        writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else repr(v) if isinstance(v, float) else v for v in row])
    click.echo(out.getvalue(), nl=False)


def write_markdown(columns: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> None:
    """A GitHub-flavoured Markdown table (for pull requests)."""

    def cell(text: str) -> str:
        return one_line(text).replace("\\", "\\\\").replace("|", "\\|")

    click.echo("| " + " | ".join(cell(c) for c in columns) + " |")
    click.echo("|" + "|".join("---:" if i in right else "---" for i in range(len(columns))) + "|")
    for row in rows:
        click.echo("| " + " | ".join(cell(c) for c in row) + " |")


def output_format(**flags: bool) -> str | None:
    """The one output format chosen among ``--json``/``--csv``/``--md``/...; two is an error."""
    chosen = [name for name, on in flags.items() if on]
    if len(chosen) > 1:
        raise click.UsageError(f"choose one output format, not {' and '.join('--' + c for c in chosen)}")
    return chosen[0] if chosen else None
