"""Spans (the unit in which data arrives) and span files.

A span is an ``int`` (span 17) or a ``datetime.date`` (one per day). Artifacts record it as the
integer property ``span`` (TFX's name), dates as ``YYYYMMDD`` so that integer order is date order
and rolling windows are one range query either way.

``SpanFiles("data/day-{span}.csv")`` tells the runner where span files live: it lists the spans
available (for ``--follow``) and gives a component the file of its span (the runtime argument
``span_path``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from graphlets.errors import InvalidArgumentError

SpanValue = int | dt.date
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_INT = re.compile(r"\d+")


def span_key(span: SpanValue) -> int:
    """The integer stored in the ``span`` property (dates as ``YYYYMMDD``)."""
    if isinstance(span, dt.datetime):
        raise InvalidArgumentError(
            f"span {span!r} is a datetime: use a date (daily spans) or an int (e.g. YYYYMMDDHH)"
        )
    if isinstance(span, dt.date):
        return span.year * 10_000 + span.month * 100 + span.day
    if isinstance(span, bool) or not isinstance(span, int):
        raise InvalidArgumentError(f"span {span!r} is not an int or a date: pass 17 or 2026-01-05")
    return span


def span_label(span: SpanValue | None) -> str:
    """How a span is shown: ``17`` or ``2026-01-05``; ``-`` for none."""
    if span is None:
        return "-"
    return span.isoformat() if isinstance(span, dt.date) else str(span)


def parse_span(text: str) -> SpanValue:
    """``2026-01-05`` -> a date, ``17`` -> an int."""
    raw = text.strip()
    m = _DATE.fullmatch(raw)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError as exc:
            raise InvalidArgumentError(f"span {raw!r} is not a valid date: {exc}") from exc
    if raw.lstrip("-").isdigit():
        return int(raw)
    raise InvalidArgumentError(
        f"span {raw!r} is neither an integer nor a date: write 17 or 2026-01-05"
    )


def parse_span_range(text: str) -> list[SpanValue]:
    """``A..B`` (inclusive; integers step by one, dates by one day) or a single span."""
    if ".." not in text:
        return [parse_span(text)]
    left, _, right = text.partition("..")
    a, b = parse_span(left), parse_span(right)
    if type(a) is not type(b):
        raise InvalidArgumentError(
            f"span range {text!r} mixes a date and an integer: write 1..7 or 2026-01-01..2026-01-07"
        )
    if span_key(b) < span_key(a):
        raise InvalidArgumentError(f"span range {text!r} ends before it starts: write A..B, A <= B")
    if isinstance(a, dt.date):
        assert isinstance(b, dt.date)
        return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]
    assert isinstance(b, int)
    return list(range(a, b + 1))


def span_from_name(name: str) -> SpanValue | None:
    """The span a file name carries: its last ``YYYY-MM-DD`` date, else its last integer."""
    stem = Path(name).name.split(".", 1)[0]
    dates = _DATE.findall(stem)
    if dates:
        y, m, d = dates[-1]
        try:
            return dt.date(int(y), int(m), int(d))
        except ValueError:
            return None
    ints = _INT.findall(stem)
    return int(ints[-1]) if ints else None


@dataclass(frozen=True)
class SpanFiles:
    """Span files by a pattern with a ``{span}`` placeholder, e.g. ``data/day-{span}.csv``.

    A relative pattern is relative to ``base`` (the pipeline file's folder when loaded by
    ``graphlets run``). A pattern without ``{span}`` is a folder: every file in it whose name
    carries a span is one span.
    """

    pattern: str
    base: Path | None = None

    def _full(self) -> Path:
        p = Path(self.pattern).expanduser()
        return p if p.is_absolute() or self.base is None else self.base / p

    def with_base(self, base: Path) -> SpanFiles:
        """The same pattern resolved against ``base``."""
        return SpanFiles(self.pattern, base)

    def folder(self) -> Path:
        """The folder the span files are in (what a run records, so a resume finds them)."""
        full = self._full()
        return (full.parent if "{span}" in full.name else full).resolve()

    def in_folder(self, folder: Path) -> SpanFiles:
        """The same file names in another folder (what ``--follow DIR`` does)."""
        name = Path(self.pattern).name if "{span}" in self.pattern else "{span}"
        return SpanFiles(str(folder / name) if "{span}" in name else str(folder), None)

    def path(self, span: SpanValue) -> Path | None:
        """The file of ``span``, when it exists."""
        full = self._full()
        if "{span}" not in str(full):
            for s, p in self.available():
                if span_key(s) == span_key(span):
                    return p
            return None
        p = Path(str(full).replace("{span}", span_label(span)))
        return p if p.exists() else None

    def available(self) -> list[tuple[SpanValue, Path]]:
        """Every span with a file, in span order (a later duplicate of a span is ignored)."""
        full = self._full()
        if "{span}" in str(full):
            folder, glob = full.parent, full.name.replace("{span}", "*")
            if "{span}" in str(folder):
                raise InvalidArgumentError(
                    f"span pattern {self.pattern!r} has {{span}} in a folder name: put it in "
                    "the file name"
                )
        else:
            folder, glob = full, "*"
        if not folder.is_dir():
            return []
        found: dict[int, tuple[SpanValue, Path]] = {}
        for p in sorted(folder.glob(glob)):
            if p.is_file() and not p.name.startswith("."):
                s = span_from_name(p.name)
                if s is not None:
                    found.setdefault(span_key(s), (s, p))
        return [found[k] for k in sorted(found)]
