"""Reading essays from files and stdin, and refusing bad input with one clear message."""

from __future__ import annotations

import pytest

from essay_marker.errors import InputError
from essay_marker.readers import read_essay, text_from_bytes

from .conftest import FIXTURES

SMART = "Stalin\u2019s \u201cboring\u201d job \u2013 General Secretary."


@pytest.mark.parametrize(
    "data",
    [
        SMART.encode("utf-8"),
        b"\xef\xbb\xbf" + SMART.encode("utf-8"),
        SMART.encode("cp1252"),
        SMART.encode("utf-16"),
    ],
    ids=["utf8", "utf8-bom", "cp1252", "utf16"],
)
def test_text_encodings(data, tmp_path):
    path = tmp_path / "essay.txt"
    path.write_bytes(data)
    assert read_essay(str(path))[1] == SMART


def test_windows_line_endings_become_newlines():
    assert text_from_bytes(b"One.\r\n\r\nTwo.", "x.txt", ".txt") == "One.\n\nTwo."


def test_docx(tmp_path):
    from docx import Document

    doc = Document()
    doc.add_paragraph("Stalin was General Secretary.")
    doc.add_paragraph("This meant he could appoint supporters.")
    path = tmp_path / "essay.docx"
    doc.save(path)
    assert read_essay(str(path))[1] == (
        "Stalin was General Secretary.\n\nThis meant he could appoint supporters."
    )


def test_pdf_fixture():
    _name, text = read_essay(str(FIXTURES / "essay.pdf"))
    assert "General Secretary" in text


def test_markdown_reads_as_text(tmp_path):
    path = tmp_path / "essay.md"
    path.write_text("# My essay\n\nStalin won.", encoding="utf-8")
    assert read_essay(str(path))[1].endswith("Stalin won.")


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("empty.txt", b"", "is empty"),
        ("blank.txt", b"  \n\n \t", "is empty"),
        ("binary.txt", bytes(range(256)) * 4, "binary"),
        ("corrupt.docx", b"PK\x03\x04 this is not a real zip", "Word document"),
        ("corrupt.pdf", b"%PDF-1.4 garbage", "PDF"),
        ("essay.odt", b"whatever", "not supported"),
        ("essay", b"no suffix", "not supported"),
    ],
)
def test_bad_files_raise_input_error(tmp_path, name, data, words):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_essay(str(path))
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_essay(str(tmp_path / "missing.txt"))
    with pytest.raises(InputError, match="is a folder"):
        read_essay(str(tmp_path))
