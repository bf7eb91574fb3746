"""Finding input files and streaming their bytes in blocks of whole lines."""

from __future__ import annotations

import codecs
import contextlib
import glob
import os
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import ChatAnalyticsError, EmptyDataError, LoaderError
from ._commits import dataset_state, uncommitted_note
from ._protocol import ReadResult, detect
from ._sql import UNREADABLE

#: File name endings read when a directory is given.
DATA_SUFFIXES = (".jsonl", ".ndjson", ".json", ".log", ".parquet", ".avro", ".csv", ".tsv", ".tar", ".tgz")
BLOCK_BYTES = 64 << 20

PathLike = str | os.PathLike[str]


def expand_paths(paths: PathLike | Iterable[PathLike]) -> tuple[list[Path], list[str]]:
    """Resolve files, lists, globs and directories to a sorted list of files (and notes)."""
    if isinstance(paths, (str, os.PathLike)):
        items: list[PathLike] = [paths]
    else:
        try:
            items = list(paths)
        except TypeError:
            raise LoaderError(
                f"expected a path, a glob or a list of them, got {type(paths).__name__}"
            ) from None
    if not items:
        raise EmptyDataError("no input paths were given")
    found: list[Path] = []
    notes: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise LoaderError(f"expected a path, got {type(item).__name__}: {item!r}")
        text = os.fspath(item)
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            hits = sorted(glob.glob(os.path.expanduser(text), recursive=True))
            files = [Path(h) for h in hits if Path(h).is_file()]
            if not files:
                raise LoaderError(f"no files match {text!r}", path=text)
            found.extend(files)
            continue
        path = Path(os.path.expanduser(text))
        if path.is_dir():
            files = _without_feed_lookups(sorted(_walk(path, notes)))
            if not files:
                raise LoaderError(
                    f"directory {text!r} holds no event files (looked for names ending in "
                    f"{', '.join(DATA_SUFFIXES)}, optionally .gz, and zip Data Feed deliveries)",
                    path=text,
                )
            found.extend(files)
        elif path.is_file():
            found.append(path)
        else:
            raise LoaderError(f"file not found: {text!r}", path=text)
    unique: list[Path] = []
    seen: set[Path] = set()
    repeated = 0
    for p in found:
        key = p.resolve()
        if key in seen:
            repeated += 1
            continue
        seen.add(key)
        unique.append(p)
    if repeated:
        notes.append(f"{repeated} path(s) named more than once were read once")
    return unique, notes


def _walk(folder: Path, notes: list[str]) -> Iterator[Path]:
    """The data files under ``folder``; of a dataset with commit records, only the files they list (and
    a note in ``notes`` on those skipped).

    Raises
    ------
    LoaderError
        The folder, or a folder inside it, cannot be read (permission denied): its files would be
        missed without a word.
    """

    def fail(err: OSError) -> None:
        raise LoaderError(f"cannot read the directory {err.filename!r}: {err.strerror}", path=err.filename)

    seen: set[tuple[int, int]] = set()
    for root, dirs, names in os.walk(folder, onerror=fail, followlinks=True):
        st = os.stat(root)
        if (st.st_dev, st.st_ino) in seen:  # a link back to a folder already read
            dirs.clear()
            continue
        seen.add((st.st_dev, st.st_ino))
        state = dataset_state(root)
        if state is not None:
            dirs.clear()
            note = uncommitted_note(state)
            notes += [note] if note else []
            yield from state.committed
            continue
        for name in names:
            path = Path(root) / name
            if not path.is_file():
                continue
            if name.lower().endswith(".zip"):
                if _zip_is_read(path):
                    yield path
                else:
                    notes.append(
                        f"skipped {path}: a zip archive that no format reads (without hit_data.tsv: zip "
                        "archives in a folder are read as Adobe Data Feed deliveries)"
                    )
            elif _is_data_name(path):
                yield path


def _zip_is_read(path: Path) -> bool:
    """Whether a zip archive found in a folder is read: a registered format recognises it (an Adobe
    Data Feed delivery, or a damaged zip, so that the reader says what is wrong with it).
    """
    with open(path, "rb") as fh:
        head = fh.read(4096)
    return detect(path, head) is not None


def _is_data_name(path: Path) -> bool:
    """Whether a file found in a directory is read: a known suffix (optionally .gz), or any gzip file
    under a ``segment-logs`` folder (Segment's S3 destination names them ``<time>.<uuid>.gz``).
    """
    name = path.name.lower()
    if name.endswith(".gz") and "segment-logs" in path.parts:
        return True
    if name.endswith(".gz"):
        name = name[:-3]
    return name.endswith(DATA_SUFFIXES)


#: Lookup archives of an Adobe Analytics Data Feed delivery (``[rsid]_[date]-lookup_data.tar.gz``).
_FEED_LOOKUP_ARCHIVES = ("lookup_data.tar.gz", "lookup_data.tgz", "lookup_data.tar")


def _without_feed_lookups(files: list[Path]) -> list[Path]:
    """The files of a directory listing without the lookup files of Adobe Data Feed deliveries.

    A folder holding ``column_headers.tsv`` or a ``*lookup_data.tar.gz`` is a Data Feed delivery: its
    hit data (``hit_data*.tsv``, ``*.tsv.gz``, the daily ``*.tar.gz``) is read, and the adobe_feed
    reader finds the lookups (column headers, event names) next to it. Its other plain ``.tsv`` files
    (``column_headers.tsv``, ``event.tsv``, ``browser.tsv``, ...) and its lookup archives are not data.
    Files in other folders are kept as they are.
    """
    feed_dirs = {
        p.parent
        for p in files
        if p.name.lower() == "column_headers.tsv" or p.name.lower().endswith(_FEED_LOOKUP_ARCHIVES)
    }
    if not feed_dirs:
        return files

    def is_lookup(p: Path) -> bool:
        name = p.name.lower()
        if name.endswith(_FEED_LOOKUP_ARCHIVES):
            return True
        return name.endswith(".tsv") and not name.startswith("hit_data")

    return [p for p in files if p.parent not in feed_dirs or not is_lookup(p)]


@dataclass
class Block:
    """Whole lines of one file: ``data`` and the 0-based offset of each line start within it."""

    data: bytes
    starts: np.ndarray  # int64 offsets of line starts; lines end at the next start (newline included)
    first_line: int  # 1-based number of the first line in this block


@dataclass
class StreamState:
    """What happened while streaming a file's bytes."""

    truncated_gzip: bool = False
    corrupt_gzip: bool = False
    bad_checksum: bool = False  # a member's CRC-32 or length disagrees with its (kept) data
    bytes_read: int = 0
    damage_at: int = -1  # byte offset in the file at which the first damage was found
    file_size: int = 0


def _raw_chunks(path: Path, state: StreamState) -> Iterator[bytes]:
    """The file's bytes, gunzipped when it starts with the gzip magic number and really is gzip."""
    with path.open("rb") as fh:
        state.file_size = os.fstat(fh.fileno()).st_size
        if fh.read(2) == b"\x1f\x8b":
            fh.seek(0)
            produced = False
            for out in _gunzip(fh, state):
                produced = True
                yield out
            if produced or not (state.corrupt_gzip or state.truncated_gzip):
                return
            # not one byte could be decompressed: the magic number was a coincidence
            state.corrupt_gzip = state.truncated_gzip = state.bad_checksum = False
            state.damage_at = -1
        fh.seek(0)
        while chunk := fh.read(BLOCK_BYTES):
            state.bytes_read += len(chunk)
            yield chunk


def _gunzip(fh: BinaryIO, state: StreamState) -> Iterator[bytes]:
    """Decompress the gzip members of ``fh``, keeping everything decompressed before a damage.

    Corrupt compressed data ends the stream (``state.corrupt_gzip``); a member whose CRC-32 or length
    disagrees with its data is kept whole (``state.bad_checksum``) and the next member read; a stream
    without its end is ``state.truncated_gzip``. ``state.damage_at`` is the byte offset of the first
    damage found.
    """
    decomp = zlib.decompressobj(wbits=47)
    ended = False  # the last member's trailer has been read
    skip = 0  # bytes of a damaged member's trailer still to pass over

    def damaged(at: int) -> None:
        if state.damage_at < 0:
            state.damage_at = at

    while comp := fh.read(BLOCK_BYTES // 4):
        pos = fh.tell() - len(comp)  # the file offset of comp[0]
        while comp:
            if skip:
                passed = min(skip, len(comp))
                comp, skip, pos = comp[passed:], skip - passed, pos + passed
                continue
            if ended:  # the previous member ended: another member, padding, or garbage
                if not comp.strip(b"\x00"):
                    break
                if comp[:2] != b"\x1f\x8b":
                    state.corrupt_gzip = True
                    damaged(pos + len(comp) - len(comp.lstrip(b"\x00")))
                    return
                decomp = zlib.decompressobj(wbits=47)
                ended = False
            before = decomp.copy()
            try:
                out = decomp.decompress(comp)
                ended = decomp.eof
                rest = decomp.unused_data if ended else b""
            except zlib.error as err:
                out, rest, skip, at = _up_to_error(before, comp)
                damaged(pos + at)
                if not str(err).endswith(_CHECK_ERRORS):
                    state.corrupt_gzip = True
                    if out:
                        state.bytes_read += len(out)
                        yield out
                    return
                # the member's data decompressed whole; only its CRC-32 or length disagrees
                state.bad_checksum = True
                ended = True
            if out:
                state.bytes_read += len(out)
                yield out
            pos += len(comp) - len(rest)
            comp = rest
    if not ended:
        tail = decomp.flush()
        if tail:
            state.bytes_read += len(tail)
            yield tail
        state.truncated_gzip = True
        damaged(state.file_size)


#: zlib's messages for a member whose trailer disagrees with its decompressed data.
_CHECK_ERRORS = ("incorrect data check", "incorrect length check")
_PROBE_BYTES = 1 << 16


def _up_to_error(decomp: Any, comp: bytes) -> tuple[bytes, bytes, int, int]:
    """Where ``decomp`` (a gzip decompressor before it was given ``comp``) fails on ``comp``: everything
    it decompresses before the failing byte, the bytes after that byte, how many of those still belong
    to the member's trailer (its 4-byte length follows a failing CRC-32), and the failing byte's offset
    in ``comp``.

    ``comp`` is fed in pieces (each from a copy of the decompressor's state); in the piece that fails,
    the failing byte is found by bisection.
    """
    outs = []
    pos = 0
    while pos < len(comp):
        piece = comp[pos : pos + _PROBE_BYTES]
        at_piece = decomp.copy()
        try:
            outs.append(decomp.decompress(piece))
        except zlib.error:
            lo, hi = 1, len(piece)  # the shortest prefix of the piece that fails
            failed = ""
            while lo < hi:
                mid = (lo + hi) // 2
                try:
                    at_piece.copy().decompress(piece[:mid])
                    lo = mid + 1
                except zlib.error as err:
                    hi, failed = mid, str(err)
            if not failed:
                try:
                    at_piece.copy().decompress(piece[:lo])
                except zlib.error as err:
                    failed = str(err)
            outs.append(at_piece.decompress(piece[: lo - 1]))
            skip = 4 if failed.endswith("data check") else 0
            return b"".join(outs), comp[pos + lo :], skip, pos + lo - 1
        pos += len(piece)
    return b"".join(outs), b"", 0, len(comp)


def newline_positions(buf: np.ndarray) -> np.ndarray:
    r"""Offsets of every ``\n`` in ``buf``, found in cache-sized pieces."""
    step = 1 << 22
    parts = [np.flatnonzero(buf[i : i + step] == 10) + i for i in range(0, len(buf), step)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def line_starts(buf: np.ndarray) -> np.ndarray:
    """Offsets at which the lines of ``buf`` start (a final newline starts no line)."""
    nl = newline_positions(buf)
    starts = np.empty(len(nl) + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = nl + 1
    if starts[-1] == len(buf):
        starts = starts[:-1]
    return starts


#: Most lines in one block: blank and very short lines cost memory per line, so a block of them is cut
#: short (a block holds at most this many lines, and one :data:`_COUNT_BYTES` piece more).
BLOCK_LINES = 1 << 19
_COUNT_BYTES = 1 << 18
BOM = b"\xef\xbb\xbf"


def cr_line_ends(head: bytes) -> bool | None:
    r"""Whether a file's lines end in a lone ``\r`` (old Mac line ends): True when ``head`` holds a
    ``\r`` (not as its last byte, which may be half of a ``\r\n``) and no ``\n`` at all; False as soon
    as it holds a ``\n`` (a stray ``\r`` inside a line of an LF or CRLF file is that line's problem);
    None while neither can be told.
    """
    if b"\n" in head:
        return False
    cr = head.find(b"\r")
    if cr < 0 or cr + 1 == len(head):
        return None
    return True


def _by_lines(data: bytes) -> Iterator[bytes]:
    """``data`` (whole lines) cut into pieces of whole lines with at most about :data:`BLOCK_LINES`
    lines each, counted in pieces of :data:`_COUNT_BYTES` (so no array per line is made here).
    """
    if len(data) <= BLOCK_LINES:
        yield data
        return
    buf = np.frombuffer(data, dtype=np.uint8)
    start = pos = lines = 0
    while pos < len(buf):
        end = min(pos + _COUNT_BYTES, len(buf))
        lines += int(np.count_nonzero(buf[pos:end] == 10))
        pos = end
        if lines >= BLOCK_LINES and pos < len(buf):
            cut = data.rfind(b"\n", start, pos) + 1
            yield data[start:cut]
            start, lines = cut, int(np.count_nonzero(buf[cut:pos] == 10))
    if start < len(data):
        yield data[start:] if start else data


def iter_blocks(path: Path, state: StreamState) -> Iterator[Block]:
    r"""Yield blocks of whole lines (the last line of a file may lack its newline).

    A byte-order mark at the start of the file is dropped. A file whose line ends are lone ``\r``
    (no ``\n`` before the first of them) is read with ``\r`` as its line end. A block holds at most
    :data:`BLOCK_BYTES` bytes and about :data:`BLOCK_LINES` lines, so memory per block stays bounded
    however short the lines are.
    """
    carry = b""
    line = 1
    pending: list[bytes] = []
    pending_size = 0
    first = True
    cr_only: bool | None = None
    last = b""  # the last byte streamed while the line end is not known

    def emit(data: bytes) -> Iterator[Block]:
        nonlocal line
        for piece in _by_lines(data):
            starts = line_starts(np.frombuffer(piece, dtype=np.uint8))
            yield Block(data=piece, starts=starts, first_line=line)
            line += len(starts)

    for chunk in _raw_chunks(path, state):
        if first:
            first = False
            if chunk.startswith(BOM):
                chunk = chunk[len(BOM) :]
        if cr_only is None:  # no line end so far, or a last byte that is a CR
            cr_only = cr_line_ends(last + chunk)
            last = chunk[-1:]
            if cr_only:
                carry = carry.replace(b"\r", b"\n")
                pending = [p.replace(b"\r", b"\n") for p in pending]
        if cr_only:
            chunk = chunk.replace(b"\r", b"\n")
        pending.append(chunk)
        pending_size += len(chunk)
        if pending_size < BLOCK_BYTES:
            continue
        data = carry + b"".join(pending)
        pending, pending_size = [], 0
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        carry = data[cut + 1 :]
        yield from emit(data[: cut + 1])
    data = carry + b"".join(pending)
    if data:
        yield from emit(data)


def file_head(path: Path) -> bytes:
    """:func:`read_head`, raising LoaderError when the file cannot be read."""
    try:
        return read_head(path)
    except OSError as err:
        raise LoaderError(f"cannot read {path}: {err}", path=path) from err


def is_gzip(path: Path) -> bool:
    """True when a file starts with the gzip magic number."""
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def require_columns(path: Path, names: list[str], required: Iterable[str], what: str) -> None:
    """Raise LoaderError when a typed file (its column ``names``) lacks a ``required`` column.

    ``what`` names what the file should be: ``"a GA4 BigQuery export"``.
    """
    missing = [c for c in required if c not in names]
    if missing:
        raise LoaderError(
            f"{path} is not {what}: it lacks {', '.join(missing)} (it has {', '.join(names[:12])})",
            path=path,
        )


def read_head(path: Path, size: int = 4096) -> bytes:
    """The first ``size`` bytes of a file, decompressed when it is gzip."""
    with path.open("rb") as fh:
        head = fh.read(size)
    if head[:2] != b"\x1f\x8b":
        return head
    decomp = zlib.decompressobj(wbits=47)
    try:
        return decomp.decompress(head, size)
    except zlib.error:
        return b""


def note_gzip_damage(result: ReadResult, path: Path, state: StreamState, last_line: int) -> None:
    """Account for a damaged gzip stream after its lines up to ``last_line`` were read.

    Corrupt compressed data becomes one rejected record (``unreadable compressed data``, numbered
    ``last_line + 1``) and a note; a stream that ends early (a truncated file) a note; a member whose
    check value disagrees with its data a note (its data is kept). Each note names the byte of the file
    at which the damage was found.
    """
    at = state.damage_at
    if state.corrupt_gzip:
        result.rejected.append((last_line + 1, UNREADABLE, b""))
        result.records += 1
        result.notes.append(
            f"{path}: corrupt gzip data after line {last_line}; the rest could not be read (damage found "
            f"at byte {at:,}; {max(state.file_size - at, 0):,} of the file's {state.file_size:,} bytes "
            "were not decompressed)"
        )
    if state.truncated_gzip:
        result.notes.append(
            f"{path}: at byte {state.file_size:,} the gzip stream ends early (truncated file); "
            f"read up to line {last_line}"
        )
    if state.bad_checksum:
        result.notes.append(
            f"{path}: the gzip check value (CRC-32 or length) does not match the data (byte {at:,}), so "
            f"the file was altered or damaged; its {last_line:,} line(s) were read as decompressed"
        )


# ------------------------------------------------------------------------------ UTF-16 and UTF-32 files

#: The byte-order marks of the Unicode encodings read through a UTF-8 copy: (mark, name, codec). UTF-32
#: LE comes first, as its mark begins with UTF-16 LE's.
WIDE_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "UTF-32 LE", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "UTF-32 BE", "utf-32-be"),
    (codecs.BOM_UTF16_LE, "UTF-16 LE", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "UTF-16 BE", "utf-16-be"),
)
_UNDECODABLE = "chatanalytics-undecodable"
# a byte sequence the encoding cannot decode becomes the byte 0xFF in the UTF-8 copy (never valid UTF-8),
# so the reader treats its record as it treats non-UTF-8 bytes in any file


def _mark_undecodable(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return "\udcff", err.end


codecs.register_error(_UNDECODABLE, _mark_undecodable)


def wide_encoding(head: bytes) -> tuple[bytes, str, str] | None:
    """The (mark, name, codec) of :data:`WIDE_ENCODINGS` whose byte-order mark starts ``head``, when the
    text after it reads as that encoding; else None.

    JSON and CSV are mostly ASCII: at least a quarter of the characters of ``head`` after the mark must be
    ASCII (other than NUL) in the encoding. Bytes of a UTF-8 file that happen to start with a mark (a
    damaged first line) make almost none, and that file is read as UTF-8: every line a record.
    """
    for found in WIDE_ENCODINGS:
        if head.startswith(found[0]):
            text = head[len(found[0]) :].decode(found[2], "replace")
            ascii_ = sum(1 for ch in text if "\x00" < ch < "\x80")
            return found if text and ascii_ * 4 >= len(text) else None
    return None


@contextlib.contextmanager
def as_utf8(path: Path) -> Iterator[tuple[Path, list[str]]]:
    """Within the block: ``path`` and no notes, or for a file written in UTF-16 or UTF-32 (gzip or not,
    named by its byte-order mark) a temporary UTF-8 copy and the notes that say so.

    Windows PowerShell (``Out-File``, ``>``) and Excel's "Unicode Text" write UTF-16. The copy has the
    same lines, so record numbers are the file's; the files beside ``path`` are linked beside the copy
    for the formats that read lookups there. An error raised in the block names ``path``, not the copy.
    """
    found = wide_encoding(file_head(path))
    if found is None:
        yield path, []
        return
    with tempfile.TemporaryDirectory(prefix="chatanalytics-utf8-") as folder:
        copy, notes = _utf8_copy(path, Path(folder), found)
        try:
            yield copy, notes
        except ChatAnalyticsError as err:
            err.args = tuple(original_names(str(a), copy, path) for a in err.args)
            if isinstance(err, LoaderError) and err.path is not None:
                err.path = original_names(err.path, copy, path)
            raise


def original_names(text: str, readable: Path, path: Path) -> str:
    """``text`` (a note, a message) naming ``path`` and the files beside it where it names ``readable``
    (the copy made by :func:`as_utf8`) and the links beside that; unchanged when the two are one file.
    """
    if readable == path:
        return text
    return text.replace(str(readable), str(path)).replace(
        f"{readable.parent}{os.sep}", f"{path.parent}{os.sep}"
    )


def _utf8_copy(path: Path, folder: Path, found: tuple[bytes, str, str]) -> tuple[Path, list[str]]:
    mark, name, codec = found
    stem = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    copy = folder / stem
    decoder = codecs.getincrementaldecoder(codec)(errors=_UNDECODABLE)
    state = StreamState()
    skip, bad = len(mark), 0
    try:
        with copy.open("wb") as out:
            for chunk in _raw_chunks(path, state):
                if skip:
                    chunk, skip = chunk[skip:], max(skip - len(chunk), 0)
                text = decoder.decode(chunk)
                bad += text.count("\udcff")
                out.write(text.encode("utf-8", "surrogateescape"))
            text = decoder.decode(b"", final=True)
            bad += text.count("\udcff")
            out.write(text.encode("utf-8", "surrogateescape"))
            if state.corrupt_gzip:  # the unreadable rest: one record that is not UTF-8, as it is counted
                out.write(b"\n\xff\n")  # for a UTF-8 file (one rejected record)
        with contextlib.suppress(OSError):  # lookups beside the file (Adobe Data Feed, Marketo)
            for sibling in path.parent.iterdir():
                if sibling != path and not (folder / sibling.name).exists():
                    (folder / sibling.name).symlink_to(sibling.resolve())
    except OSError as err:
        raise LoaderError(f"cannot decode {path} from {name} into a UTF-8 copy: {err}", path=path) from err
    notes = [f"{path}: written in {name} (its byte-order mark says so); read through a UTF-8 copy"]
    if bad:
        notes.append(
            f"{path}: {bad:,} byte sequence(s) are not valid {name}; each is read as a byte that is not "
            "UTF-8, so the record holding it is rejected like any record with non-UTF-8 bytes"
        )
    if state.corrupt_gzip or state.truncated_gzip or state.bad_checksum:
        notes.append(
            f"{path}: the gzip stream is damaged at byte {state.damage_at:,} of {state.file_size:,}; what "
            "decompressed was read"
            + ("; the unreadable rest is one rejected record" if state.corrupt_gzip else "")
        )
    return copy, notes
