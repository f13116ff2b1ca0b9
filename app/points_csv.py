"""Read a student's CSV of 2-D points (x, y) — a file or pasted text — with :mod:`csv`.

What it accepts:

* one point per row, two columns: ``x`` then ``y``; numbers written as JSON or a
  spreadsheet writes them (``3``, ``-0.25``, ``+1.5``, ``.5``, ``1e-3``), spaces around a
  cell allowed;
* an optional header: a first row none of whose cells is, or starts like, a number
  (``x,y``; ``1 2`` and ``nan`` are not names but data, refused as such);
* a comma, a semicolon or a tab between the columns (the first line's says which);
* LF, CRLF or CR line ends, a UTF-8 byte-order mark, blank lines (they are skipped).

What it refuses, raising :class:`PointsCsvError` whose message names the row (the line of
the file, counting a header) and the reason — the first problem found:

* more than ``max_rows`` rows of points ("2 412 rows; at most 2 000");
* a row of other than 2 columns ("row 5: 3 columns; expected 2 (x, y)");
* a cell that is not a number ("row 7: 'abc' is not a number"), including a decimal
  comma ("'1,5' … write 1.5");
* NaN or infinity ("row 3: NaN is not allowed");
* a coordinate outside ``[low, high]`` ("row 4: y = 250 is outside -100 to 100");
* only a header and no rows.

Empty text (or only blank lines) is no points: ``[]``. Nothing is stored: the points are
returned and the text is forgotten by the caller when its run ends.
"""

from __future__ import annotations

import csv
import io
import math
import re

MAX_ROWS = 2000
DELIMITERS = (",", ";", "\t")
# A number as JSON or a spreadsheet writes it: no "_" (Python's float() takes 1_000), no
# hex, no "nan"/"inf" words (refused separately, by name).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_STARTS_NUMBER = re.compile(r"[+-]?\.?[0-9]", re.ASCII)
_NAN = {"nan", "+nan", "-nan"}
_INFINITY = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


class PointsCsvError(ValueError):
    """Why a CSV of points is refused: one sentence, e.g. "row 7: 'abc' is not a number"."""


def grouped(n: int) -> str:
    """``2412`` → ``"2 412"`` (a no-break space between thousands)."""
    return f"{n:,}".replace(",", "\u00a0")


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return next((d for d in ("\t", ";") if d in first), ",")


def _names_a_column(cell: str) -> bool:
    """A header's cell: not a number, nor text a number starts ("1 2", "nan", "-inf")."""
    text = cell.strip()
    return not (_STARTS_NUMBER.match(text) or text.lower() in _NAN | _INFINITY)


def _shown(cell: str) -> str:
    cell = cell.strip()
    return repr(cell if len(cell) <= 20 else cell[:20] + "…")


def _coordinate(cell: str, row: int, axis: str, low: float, high: float,
                delimiter: str) -> float:
    text = cell.strip()
    word = text.lower()
    if word in _NAN:
        raise PointsCsvError(f"row {row}: NaN is not allowed ({axis} must be a number)")
    if word in _INFINITY:
        raise PointsCsvError(f"row {row}: infinity is not allowed ({axis} must be a "
                             f"number from {low:g} to {high:g})")
    if not text:
        raise PointsCsvError(f"row {row}: {axis} is empty")
    if not _NUMBER.fullmatch(text):
        hint = ""
        if delimiter != "," and re.fullmatch(r"[+-]?[0-9]+,[0-9]+", text):
            hint = f" (a decimal comma? write {text.replace(',', '.')})"
        raise PointsCsvError(f"row {row}: {_shown(cell)} is not a number{hint}")
    value = float(text)
    if not (math.isfinite(value) and low <= value <= high):
        raise PointsCsvError(f"row {row}: {axis} = {text} is outside {low:g} to {high:g}")
    return value


def parse_points(text: str, *, max_rows: int = MAX_ROWS, low: float = -100.0,
                 high: float = 100.0) -> list[tuple[float, float]]:
    """The points ``[(x, y), ...]`` (floats, in file order) of a CSV text.

    ``max_rows`` bounds the rows of points (a header is not one); ``low`` and ``high``
    bound every coordinate (inclusive). Raises :class:`PointsCsvError` (a ``ValueError``)
    naming the row and the reason; see the module docstring for what is accepted.
    """
    text = text.removeprefix("\ufeff")
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                        skipinitialspace=True, strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):  # a blank line is no row
                rows.append((reader.line_num, cells))
    except csv.Error as exc:  # e.g. a quote left open
        raise PointsCsvError(f"row {reader.line_num}: not CSV ({exc})") from None
    header = bool(rows) and all(_names_a_column(cell) for cell in rows[0][1])
    if header:
        line, cells = rows.pop(0)
        if len(cells) != 2:
            raise PointsCsvError(f"the header (row {line}) has {len(cells)} column"
                                 f"{'' if len(cells) == 1 else 's'}; expected 2 (x, y)")
        if not rows:
            raise PointsCsvError("only a header and no rows of points")
    if len(rows) > max_rows:
        raise PointsCsvError(f"{grouped(len(rows))} rows; at most {grouped(max_rows)}")
    points = []
    for line, cells in rows:
        if len(cells) != 2:
            raise PointsCsvError(f"row {line}: {len(cells)} column"
                                 f"{'' if len(cells) == 1 else 's'}; expected 2 (x, y)")
        points.append((_coordinate(cells[0], line, "x", low, high, delimiter),
                       _coordinate(cells[1], line, "y", low, high, delimiter)))
    return points
