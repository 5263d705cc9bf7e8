"""Reading essays from files and stdin, and refusing bad input with one clear message."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from essay_marker.errors import InputError
from essay_marker.readers import MAX_WORDS, read_essay, text_from_bytes

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


def test_a_5_mb_text_file_is_refused_quickly_with_one_line(tmp_path):
    path = tmp_path / "book.txt"
    path.write_bytes(b"Stalin was General Secretary, so he chose who got jobs. " * 95_000)
    assert path.stat().st_size > 5_000_000
    with pytest.raises(InputError) as info:
        read_essay(str(path))
    message = str(info.value)
    assert "too long for an essay" in message and f"{MAX_WORDS:,} words" in message
    assert "\n" not in message


def test_the_word_limit_is_exact():
    assert text_from_bytes(b"word " * MAX_WORDS, "at.txt", ".txt").count("word") == MAX_WORDS
    with pytest.raises(InputError):
        text_from_bytes(b"word " * (MAX_WORDS + 1), "over.txt", ".txt")


@settings(max_examples=40, deadline=None)
@given(
    unit=st.binary(min_size=1, max_size=40),
    times=st.integers(min_value=1, max_value=400_000),
    suffix=st.sampled_from([".txt", ".md"]),
)
@example(unit=b"Stalin won. ", times=400_000, suffix=".txt")  # 4.8 MB of words
@example(unit=b"\xff\xfe\x00", times=400_000, suffix=".md")  # 1.2 MB of UTF-16-looking bytes
@example(unit=b"\x00\x01", times=1, suffix=".txt")
def test_any_bytes_of_any_size_give_text_or_one_input_error(unit, times, suffix):
    """Random, repeated and huge inputs (up to 16 MB): text or InputError, nothing else."""
    try:
        text = text_from_bytes(unit * times, "f" + suffix, suffix)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert text.strip() and len(text.split()) <= MAX_WORDS


def _docx_with_body(body: bytes) -> bytes:
    """A real .docx (made by python-docx) whose document body is replaced by `body`."""
    import io
    import zipfile

    from docx import Document

    blank = io.BytesIO()
    Document().save(blank)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(blank.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for part in src.infolist():
            data = src.read(part.filename)
            if part.filename == "word/document.xml":
                head, tail = data.split(b"<w:body>")
                data = head + b"<w:body>" + body + tail
            dst.writestr(part.filename, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "body",
    [b"<w:p/>" * 20_000_000, b"<w:p/>" * 100_000, b"<w:p><w:r/></w:p>" * 60_000],
    ids=["unpacks-to-120-MB", "100k-paragraphs", "300k-elements"],
)
def test_a_docx_decompression_bomb_is_refused_in_under_a_second(body):
    import time

    data = _docx_with_body(body)
    assert len(data) < 1_000_000  # small on disk: only the unpacked size gives it away
    started = time.perf_counter()
    with pytest.raises(InputError, match="far more than an essay"):
        text_from_bytes(data, "bomb.docx", ".docx")
    assert time.perf_counter() - started < 1.0


def test_a_long_essay_in_word_with_a_run_per_word_is_still_read():
    run = b"<w:r><w:rPr><w:b/></w:rPr><w:t xml:space='preserve'>Stalin </w:t></w:r>"
    text = text_from_bytes(_docx_with_body(b"<w:p>" + run * 4_000 + b"</w:p>"), "a.docx", ".docx")
    assert len(text.split()) == 4_000


def test_a_pdf_of_thousands_of_pages_is_refused_before_its_text_is_read():
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(2_000):
        writer.add_blank_page(width=10, height=10)
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(InputError, match="2,000 pages"):
        text_from_bytes(buf.getvalue(), "book.pdf", ".pdf")


def test_the_over_size_message_gives_the_files_own_size(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(300_000_000)  # sparse: 300 MB on paper, nothing on disk
    with pytest.raises(InputError, match="300 MB, too large"):
        read_essay(str(big))
