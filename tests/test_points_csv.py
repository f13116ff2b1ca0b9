"""A student's CSV of points (app/points_csv.py): what is read, and each refusal's words."""

from __future__ import annotations

import pytest

from app.points_csv import PointsCsvError, grouped, parse_points


@pytest.mark.parametrize("text", [
    "1,2\n-3.5,4e-1\n",                 # no header
    "x,y\n1,2\n-3.5,4e-1\n",            # a header
    "x,y\r\n1,2\r\n-3.5,4e-1\r\n",      # CRLF (Windows, Excel)
    "1,2\r-3.5,4e-1",                   # CR (old Mac)
    "\ufeffx,y\n1,2\n-3.5,4e-1",        # a UTF-8 byte-order mark (Excel's "CSV UTF-8")
    "x,y\n1,2\n-3.5,4e-1\n\n\n  \n",    # blank trailing lines
    "\n\nx,y\n1,2\n\n-3.5,4e-1",        # blank lines before and between
    "x;y\n1;2\n-3.5;4e-1\n",            # semicolons
    "x\ty\n1\t2\n-3.5\t4e-1\n",         # tabs (pasted from a spreadsheet)
    ' "x", "y"\n "1", 2 \n-3.5 , +.4\n',  # quotes and spaces around cells
])
def test_the_same_two_points_however_the_file_is_written(text):
    assert parse_points(text) == [(1.0, 2.0), (-3.5, 0.4)]


def test_empty_text_is_no_points():
    assert parse_points("") == [] and parse_points("\n \r\n") == []


def test_bounds_are_inclusive_and_rows_keep_file_order():
    text = "\n".join(f"{x},{-x}" for x in (100, -100, 0, 7))
    assert parse_points(text) == [(100.0, -100.0), (-100.0, 100.0), (0.0, -0.0), (7.0, -7.0)]


def test_at_most_max_rows_a_header_not_counted():
    rows = "x,y\n" + "1,2\n" * 2000
    assert len(parse_points(rows)) == 2000
    with pytest.raises(PointsCsvError, match="^2\u00a0001 rows; at most 2\u00a0000$"):
        parse_points(rows + "3,4\n")
    with pytest.raises(PointsCsvError, match="^4 rows; at most 3$"):
        parse_points("1,1\n" * 4, max_rows=3)


@pytest.mark.parametrize(("text", "message"), [
    # Row numbers are lines of the file, counting the header and blank lines.
    ("x,y\n1,2\n3,4\n5,6\n7,8\n9,10\nabc,1\n", "row 7: 'abc' is not a number"),
    ("1,2\n3,4\n5,6,7\n", "row 3: 3 columns; expected 2 (x, y)"),
    ("1,2\n3\n", "row 2: 1 column; expected 2 (x, y)"),
    ("1 2\n3 4\n", "row 1: 1 column; expected 2 (x, y)"),
    ("nan,nan\n", "row 1: NaN is not allowed"),
    ("x,y,z\n1,2,3\n", "the header (row 1) has 3 columns; expected 2 (x, y)"),
    ("1,2,3\n4,5,6\n", "row 1: 3 columns; expected 2 (x, y)"),
    ("1,2\n\n2,NaN\n", "row 3: NaN is not allowed (y must be a number)"),
    ("nan,1\n", "row 1: NaN is not allowed (x must be a number)"),
    ("1,-inf\n", "row 1: infinity is not allowed (y must be a number from -100 to 100)"),
    ("1,Infinity\n", "row 1: infinity is not allowed"),
    ("1,2\n3,250\n", "row 2: y = 250 is outside -100 to 100"),
    ("-100.5,0\n", "row 1: x = -100.5 is outside -100 to 100"),
    ("1e999,0\n", "row 1: x = 1e999 is outside -100 to 100"),
    ("1,\n", "row 1: y is empty"),
    ("1_000,2\n", "row 1: '1_000' is not a number"),     # float() would take it
    ("0x10,2\n", "row 1: '0x10' is not a number"),
    ("1;2\n1,5;2,5\n", "row 2: '1,5' is not a number (a decimal comma? write 1.5)"),
    ("x,y\n", "only a header and no rows of points"),
    ('1,"2\n3,4\n', "row 2: not CSV (unexpected end of data)"),
    ("1,2\n3,abc\n5,def\n", "row 2: 'abc' is not a number"),   # the first problem
    ("x,y\n1,2\n" + "y" * 40 + ",1\n", "row 3: 'yyyyyyyyyyyyyyyyyyyy…' is not a number"),
])
def test_each_refusal_names_the_row_and_the_reason(text, message):
    with pytest.raises(PointsCsvError) as caught:
        parse_points(text)
    assert str(caught.value).startswith(message)


def test_a_first_row_with_one_number_is_data_not_a_header():
    with pytest.raises(PointsCsvError, match="^row 1: 'y' is not a number$"):
        parse_points("1,y\n2,3\n")


def test_grouped_thousands():
    assert [grouped(n) for n in (7, 2000, 1234567)] == ["7", "2\u00a0000", "1\u00a0234\u00a0567"]
