"""Read an essay file (.txt, .md, .docx, .pdf) or standard input into text, with clear errors."""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import zipfile
from pathlib import Path

from essay_marker.errors import InputError

SUPPORTED = (".txt", ".md", ".docx", ".pdf")
MAX_BYTES = 20 * 1024 * 1024  # far beyond any essay; stops a wrong file filling memory
# A GCSE essay is under 2,000 words; anything far longer is the wrong file (a book, a log, a
# whole class pasted together) and would take minutes to mark, so it is refused.
MAX_WORDS = 5_000
# Caps on what a file may unpack to, checked before parsing: a 98 KB "decompression bomb"
# .docx once took 116 s and 2.5 GB. An essay's document is a few dozen parts and a few MB.
MAX_DOCX_PARTS = 1_000
MAX_DOCX_UNPACKED = 64 * 1024 * 1024  # pictures included
MAX_DOCX_XML = 8 * 1024 * 1024
MAX_DOCX_ELEMENTS = 300_000  # a 5,000-word essay, a run per word, is about 40,000
MAX_DOCX_PARAGRAPHS = 20_000  # python-docx spends about 10 us on each
MAX_PDF_PAGES = 60
MAX_PDF_STREAM = 16 * 1024 * 1024  # one page's content stream, unpacked
MAX_PDF_CHARS = 40 * MAX_WORDS  # text extracted before stopping: far past MAX_WORDS
# Control characters other than line breaks, tabs and form feeds: many mean a binary file.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def decode_text(data: bytes, name: str) -> str:
    """Bytes of a plain-text essay as str: UTF-8 (with or without BOM), UTF-16, or Windows-1252."""
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            f"{name} looks like a binary file, not text", "save the essay as .txt, .docx or .pdf"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"{name} is not valid UTF-16 text", "save it again as UTF-8") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Word and Notepad on Windows save smart quotes and dashes as Windows-1252.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError(
                f"{name} is not in a text encoding essaymark can read", "save it as UTF-8 text"
            ) from None
    controls = len(_CONTROLS.findall(text))
    if text and controls / len(text) > 0.05:
        raise InputError(
            f"{name} looks like a binary file, not text", "save the essay as .txt, .docx or .pdf"
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_docx_parts(data: bytes, name: str) -> None:
    """Refuse a .docx whose parts would unpack far beyond any essay, before parsing it.

    A zip's directory states each part's unpacked size, and Python's zipfile never unpacks
    more than that, so the stated sizes bound the memory and time parsing can take.
    """
    refuse = InputError(
        f"{name} unpacks to far more than an essay's Word document",
        "open it in Word and save the essay alone, or save it as .txt",
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            parts = z.infolist()
            xml = sum(p.file_size for p in parts if p.filename.endswith((".xml", ".rels")))
            if (
                len(parts) > MAX_DOCX_PARTS
                or sum(p.file_size for p in parts) > MAX_DOCX_UNPACKED
                or xml > MAX_DOCX_XML
            ):
                raise refuse
            # Parsing time goes with the number of elements, not bytes: count the tags.
            body = next((p for p in parts if p.filename == "word/document.xml"), None)
            xml_body = z.read(body) if body else b""
            paragraphs = sum(xml_body.count(b"<w:p" + end) for end in (b">", b" ", b"/"))
            if xml_body.count(b"<") > MAX_DOCX_ELEMENTS or paragraphs > MAX_DOCX_PARAGRAPHS:
                raise refuse
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError):
        return  # python-docx gives its own "not a readable Word document"


def _docx(data: bytes, name: str) -> str:
    from docx import Document  # imported here: only .docx input needs it

    _check_docx_parts(data, name)
    try:
        document = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(
            f"{name} is not a readable Word document ({exc.__class__.__name__})",
            "open it in Word and save it again, or save it as .txt",
        ) from None
    except Exception as exc:  # python-docx raises assorted errors on damaged parts
        raise InputError(
            f"{name} is a damaged Word document ({exc.__class__.__name__})",
            "open it in Word and save it again, or save it as .txt",
        ) from None
    return "\n\n".join(p.text for p in document.paragraphs if p.text.strip())


def _pdf(data: bytes, name: str) -> str:
    from pypdf import PdfReader  # imported here: only .pdf input needs it
    from pypdf.errors import PdfReadError

    try:
        with _pdf_limits():
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise InputError(
                    f"{name} is a password-protected PDF",
                    "save an unprotected copy or a .txt version",
                )
            if len(reader.pages) > MAX_PDF_PAGES:
                raise InputError(
                    f"{name} has {len(reader.pages):,} pages, far more than an essay",
                    "check that this is the right file, or save the essay alone as .txt",
                )
            pages: list[str] = []
            for page in reader.pages:
                pages.append(page.extract_text() or "")
                if sum(map(len, pages)) > MAX_PDF_CHARS:
                    break  # already too long for an essay: check_length says so
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise InputError(
            f"{name} is not a readable PDF ({exc.__class__.__name__})",
            "save it again as PDF, or as .txt",
        ) from None
    except Exception as exc:  # pypdf raises assorted errors on damaged files
        raise InputError(
            f"{name} is a damaged PDF ({exc.__class__.__name__})",
            "save it again as PDF, or as .txt",
        ) from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise InputError(
            f"{name} has no text layer (it may be a scan)",
            "type the essay up or export the PDF with text",
        )
    return text


def _pdf_limits() -> contextlib.AbstractContextManager[object]:
    """pypdf's decompression limits, lowered to what an essay could need."""
    import pypdf

    apply = getattr(pypdf, "apply_configuration", None)  # pypdf 6.8 and later
    if apply is None:
        return contextlib.nullcontext()
    return apply(
        zlib_maximum_output_length=MAX_PDF_STREAM,
        lzw_maximum_output_length=MAX_PDF_STREAM,
        run_length_maximum_output_length=MAX_PDF_STREAM,
        maximum_declared_stream_length=MAX_PDF_STREAM,
        array_based_stream_maximum_output_length=MAX_PDF_STREAM,
    )


def text_from_bytes(data: bytes, name: str, suffix: str, size: int | None = None) -> str:
    """Essay text from file contents, by file type; raises InputError for anything unusable.

    size is the whole file's size when data holds only its first MAX_BYTES + 1 bytes.
    """
    suffix = suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError(
            f"{name}: {suffix or 'files without an extension'} are not supported",
            f"use one of {', '.join(SUPPORTED)}",
        )
    if len(data) > MAX_BYTES:
        raise InputError(
            f"{name} is {_megabytes(max(size or 0, len(data)))}, too large for an essay "
            f"(the most essaymark reads is {_megabytes(MAX_BYTES)})",
            "check that this is the right file",
        )
    if suffix == ".docx":
        text = _docx(data, name)
    elif suffix == ".pdf":
        text = _pdf(data, name)
    else:
        text = decode_text(data, name)
    if not text.strip():
        raise InputError(f"{name} is empty", "check that the essay was saved into this file")
    check_length(text, name)
    return text


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:,.0f} MB" if n >= 10_000_000 else f"{n / 1_000_000:.1f} MB"


def check_length(text: str, name: str) -> None:
    """Raise InputError when text is far longer than an essay (over MAX_WORDS words)."""
    # maxsplit keeps this quick and small however long the text is.
    if len(text.split(maxsplit=MAX_WORDS)) > MAX_WORDS:
        raise InputError(
            f"{name} is too long for an essay: over {MAX_WORDS:,} words ({len(text):,} characters)",
            "check that this is the right file; a GCSE essay is under 2,000 words",
        )


def read_essay(path: str) -> tuple[str, str]:
    """(display name, text) for a path, or '-' for standard input."""
    if path == "-":
        stdin = getattr(sys.stdin, "buffer", None)  # None when the shell closed it (<&-)
        try:
            if stdin is None:
                raise OSError
            data = stdin.read(MAX_BYTES + 1)
        except (OSError, ValueError):
            raise InputError(
                "standard input is closed or cannot be read",
                "pipe an essay in (essaymark check - < essay.txt) or give the file's name",
            ) from None
        return "<stdin>", text_from_bytes(data, "standard input", ".txt")
    p = Path(path)
    if p.is_dir():
        raise InputError(
            f"{path} is a folder, not an essay file",
            "give one essay file, or use 'essaymark batch' for a folder",
        )
    if not p.exists():
        raise InputError(f"{path} does not exist", "check the file name and folder")
    if p.suffix.lower() not in SUPPORTED:
        raise InputError(
            f"{path}: {p.suffix or 'files without an extension'} are not supported",
            f"use one of {', '.join(SUPPORTED)}",
        )
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
            size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise InputError(
            f"{path} cannot be read ({exc.strerror or exc.__class__.__name__})",
            "check that it is not open elsewhere and that you may read it",
        ) from None
    return str(p), text_from_bytes(data, p.name, p.suffix, size)
