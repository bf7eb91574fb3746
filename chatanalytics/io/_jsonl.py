"""Files of lines (JSON lines, tab-separated rows) parsed by DuckDB a block of lines at a time.

A reader gives one or two queries over a registered table ``blk(idx, text)`` (``idx``: the 0-based line
within the block; ``text``: the line, NULL for blank lines and lines that are not UTF-8) that return
``idx``, a :class:`~chatanalytics.io._sql.Status` per row in ``status``, the event name of ignored rows in
``event_name`` and the canonical columns. The fast query assumes every line is valid; when it fails, the
guarded one runs on the block with lines that are not UTF-8 taken out, so one bad record never costs
the others. Blank lines are no records. A plain file can instead be read whole by DuckDB's own JSON
reader (:func:`read_with_line_scan`), with line numbers from a newline scan run beside it.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import LoaderError
from ._files import (
    BOM,
    Block,
    StreamState,
    cr_line_ends,
    iter_blocks,
    line_starts,
    note_gzip_damage,
    read_head,
)
from ._protocol import ReadContext, ReadResult
from ._sql import REASONS, Status

#: Columns of a parsed block that only the parser needs.
PARSE_ONLY = ("idx", "status", "event_name", "has_data")

_IS_SPACE = np.zeros(256, dtype=bool)
_IS_SPACE[[9, 10, 11, 12, 13, 32]] = True  # the bytes of a blank line
_SHORT = 16
_SHORT_BATCH = 1 << 16
_SCAN_BYTES = 1 << 20


def line_ends(starts: np.ndarray, size: int) -> np.ndarray:
    """Where each line ends (the next line's start; ``size`` for the last one)."""
    ends = np.empty(len(starts), dtype=np.int64)
    ends[:-1] = starts[1:]
    if len(starts):
        ends[-1] = size
    return ends


def blank_lines(data: Any, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Lines holding only ASCII whitespace. Only lines of at most 16 bytes can be blank here (a longer
    run of spaces is a record, and is rejected as malformed); those are checked as arrays (one-byte
    lines, the common blank line, by one lookup), a bounded number of lines at a time.
    """
    blank = np.zeros(len(starts), dtype=bool)
    length = ends - starts
    buf = np.frombuffer(data, dtype=np.uint8)
    try:
        one = np.flatnonzero(length == 1)
        blank[one] = _IS_SPACE[buf[starts[one]]]
        short = np.flatnonzero((length > 1) & (length <= _SHORT))
        step = np.arange(_SHORT)[None, :]
        for k in range(0, len(short), _SHORT_BATCH):
            rows = short[k : k + _SHORT_BATCH]
            idx = starts[rows, None] + step
            inside = idx < ends[rows, None]
            chars = buf[np.minimum(idx, len(buf) - 1)]
            blank[rows] = ~(inside & ~_IS_SPACE[chars]).any(axis=1)
    finally:
        del buf
    return blank


def non_utf8_lines(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Lines that are not valid UTF-8, found by decoding from each error onwards."""
    bad = np.zeros(len(starts), dtype=bool)
    view = memoryview(data)
    pos = 0
    hops = 0
    while pos < len(data):
        try:
            codecs.utf_8_decode(view[pos:], "strict", True)
            break
        except UnicodeDecodeError as err:
            line = int(np.searchsorted(starts, pos + err.start, side="right") - 1)
            bad[line] = True
            pos = int(ends[line])
            hops += 1
            if hops > 64:  # many bad lines: check the rest line by line instead
                for i in range(line + 1, len(starts)):
                    try:
                        codecs.utf_8_decode(view[starts[i] : ends[i]], "strict", True)
                    except UnicodeDecodeError:
                        bad[i] = True
                break
    return bad


def text_table(data: bytes, offsets: np.ndarray, valid: np.ndarray) -> pa.Table:
    """The table ``blk(idx, text)`` over the lines of ``data`` (``text`` NULL where not ``valid``)."""
    n = len(offsets) - 1
    if valid.all():
        text = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    else:
        bitmap = pa.array(valid).buffers()[1]
        text = pa.LargeStringArray.from_buffers(
            n, pa.py_buffer(offsets), pa.py_buffer(data), bitmap, null_count=int((~valid).sum())
        )
    return pa.table({"idx": pa.array(np.arange(n, dtype=np.int32)), "text": text})


def run(con: duckdb.DuckDBPyConnection, table: pa.Table, sql: str) -> pa.Table:
    """Run ``sql`` with ``table`` registered as ``blk``."""
    con.register("blk", table)
    try:
        return con.sql(sql).to_arrow_table()
    finally:
        con.unregister("blk")


def stream(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """Run a query and collect its result batch by batch, so DuckDB never holds the whole result in its
    own format beside the Arrow copy.
    """
    return con.sql(sql).to_arrow_reader(batch_size=1 << 17).read_all()


def split_rows(out: pa.Table, lines: np.ndarray, raw: Callable[[int], bytes]) -> ReadResult:
    """Split a query's output (``status``, ``event_name``, canonical columns) into events, rejected and
    ignored records. ``lines`` holds each row's record number and ``raw(i)`` the bytes of row ``i``; only
    the rejected rows' bytes are fetched. The events keep the columns other than :data:`PARSE_ONLY`.
    """
    status = out.column("status").to_numpy()
    result = ReadResult()
    keep = status == Status.OK
    events = out
    if not keep.all():
        events = out.filter(pa.array(keep))
        for i in np.flatnonzero(~keep & (status != Status.IGNORED)):
            result.rejected.append((int(lines[i]), REASONS[int(status[i])], raw(int(i))))
        ign = status == Status.IGNORED
        if ign.any():
            result.ignored.add_arrays(lines[ign], out.column("event_name").filter(pa.array(ign)))
        lines = lines[keep]
    result.add_table(events.drop_columns([c for c in PARSE_ONLY if c in events.column_names]), lines)
    return result


def parse_block(
    con: duckdb.DuckDBPyConnection,
    block: Block,
    queries: tuple[str, str],
    path: Path,
    *,
    check_utf8: bool = False,
) -> ReadResult:
    """Parse one block of whole lines with a (fast, guarded) pair of queries over ``blk(idx, text)``.

    Every non-blank line becomes an event, a rejected record or an ignored one. With ``check_utf8`` the
    lines are checked for UTF-8 before the fast query runs (for queries whose functions would not fail
    on such bytes). Raises LoaderError when the guarded query fails.
    """
    data, starts = block.data, block.starts
    n = len(starts)
    ends = line_ends(starts, len(data))
    blank = blank_lines(data, starts, ends)
    if blank.all():  # only blank lines: no records
        return ReadResult()
    offsets = np.append(starts, len(data)).astype(np.int64)
    bad_utf8 = np.zeros(n, dtype=bool)
    try:
        table = text_table(data, offsets, ~blank)
        if check_utf8:
            table.validate(full=True)  # DuckDB's string functions must never see bytes that are not UTF-8
        out = run(con, table, queries[0])
    except (duckdb.Error, UnicodeDecodeError, pa.ArrowInvalid):
        bad_utf8 = non_utf8_lines(data, starts, ends) & ~blank
        try:
            out = run(con, text_table(data, offsets, ~blank & ~bad_utf8), queries[1])
        except duckdb.Error as err:
            raise LoaderError(
                f"cannot read {path} (lines {block.first_line}-{block.first_line + n - 1}): {err}",
                path=path,
                record=block.first_line,
            ) from err
    row = out.column("idx").to_numpy().astype(np.int64)  # 0-based line index in the block
    result = split_rows(out, row + block.first_line, lambda i: bytes(data[starts[row[i]] : ends[row[i]]]))
    result.records = int(n - blank.sum())
    for i in np.flatnonzero(bad_utf8):
        result.rejected.append(
            (block.first_line + int(i), REASONS[Status.NON_UTF8], data[starts[i] : ends[i]])
        )
    result.rejected.sort()
    return result


def read_blocks(
    path: Path,
    parse: Callable[[Block], ReadResult],
    *,
    state: StreamState | None = None,
    blocks: Iterable[Block] | None = None,
) -> ReadResult:
    """Parse a file block by block (``blocks``, or else the file's blocks of lines) and account for a
    damaged gzip stream (see :func:`~chatanalytics.io._files.note_gzip_damage`). Raises LoaderError when
    the file cannot be read.
    """
    state = state if state is not None else StreamState()
    result = ReadResult()
    last_line = 0
    try:
        for block in blocks if blocks is not None else iter_blocks(path, state):
            result.add(parse(block))
            last_line = block.first_line + len(block.starts) - 1
    except OSError as err:
        raise LoaderError(f"cannot read {path}: {err}", path=path) from err
    note_gzip_damage(result, path, state, last_line)
    return result


class _FileBytes:
    """``source[a:b]`` reads those bytes of an open file (for the few records quoted in the report)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __getitem__(self, span: slice) -> bytes:
        return os.pread(self.fd, span.stop - span.start, span.start)


def _scan_lines(fd: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 1-based numbers, starts and ends of a file's non-blank lines, read in pieces (its pages are
    not mapped). Blank lines cost nothing beyond the piece in which they are found.
    """
    buf = bytearray(_SCAN_BYTES)
    numbers, starts, ends = [], [], []
    offset = 0
    line = 0  # lines that ended before ``offset``
    start = 0  # where the line running into the next piece began
    while offset < size:
        n = os.preadv(fd, [buf], offset)
        if n <= 0:
            break
        piece = np.frombuffer(buf, dtype=np.uint8, count=n)
        nl = np.flatnonzero(piece == 10)
        if len(nl):
            first = np.empty(len(nl), dtype=np.int64)
            first[0], first[1:] = start - offset, nl[:-1] + 1
            keep = _non_blank(piece, first, nl + 1, fd, offset)
            numbers.append(np.flatnonzero(keep) + line + 1)
            starts.append(first[keep] + offset)
            ends.append(nl[keep] + 1 + offset)
            line += len(nl)
            start = offset + int(nl[-1]) + 1
        offset += n
    if start < size and (size - start > _SHORT or os.pread(fd, size - start, start).strip()):
        numbers.append(np.array([line + 1]))
        starts.append(np.array([start]))
        ends.append(np.array([size]))

    def joined(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, dtype=np.int64)

    return joined(numbers), joined(starts), joined(ends)


def _non_blank(piece: np.ndarray, starts: np.ndarray, ends: np.ndarray, fd: int, offset: int) -> np.ndarray:
    """Which lines of a piece of a file are not blank (see :func:`blank_lines`); ``starts`` and ``ends``
    are relative to the piece, and the first line may have started in an earlier piece (``starts[0]``
    negative: it is read again from the file).
    """
    keep = np.ones(len(starts), dtype=bool)
    lead = starts[0] < 0
    if lead:
        length = int(ends[0] - starts[0])
        keep[0] = length > _SHORT or os.pread(fd, length, offset + int(starts[0])).strip() != b""
    rest = slice(1, None) if lead else slice(None)
    keep[rest] = ~blank_lines(piece, starts[rest], ends[rest])
    return keep


def read_with_line_scan(path: Path, read: Callable[[], pa.Table]) -> ReadResult | None:
    """Run ``read()`` (a DuckDB read of the whole file giving one row per non-blank line, in order) while a
    thread scans the file for line starts; pair rows with line numbers. None when the read fails (not
    JSON objects, bytes that are not UTF-8) or the counts disagree: the caller then reads by blocks.
    """
    size = path.stat().st_size
    if size == 0:
        return ReadResult()
    with path.open("rb", buffering=0) as fh:
        head = os.pread(fh.fileno(), 1 << 16, 0)
        if head.startswith(BOM) or cr_line_ends(head):  # DuckDB's reader takes neither
            return None
        source = _FileBytes(fh.fileno())
        with ThreadPoolExecutor(max_workers=1) as pool:
            scan = pool.submit(_scan_lines, fh.fileno(), size)
            try:
                out: pa.Table | None = read()
            except (duckdb.Error, UnicodeDecodeError, OSError):
                # a bad record in a later batch of DuckDB's Arrow stream surfaces as pyarrow's OSError
                out = None
            numbers, starts, ends = scan.result()
        if out is None or out.num_rows != len(numbers):
            return None
        result = split_rows(out, numbers, lambda i: bytes(source[starts[i] : ends[i]]))
        result.records = len(numbers)
        return result


def is_json_array(head: bytes) -> bool:
    """True when a file starts (after a byte-order mark and blanks) with a JSON array."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"["


def first_array_element(head: bytes) -> object:
    """The first element of a JSON array file whose head holds it whole, else None."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] != b"[":
        return None
    try:
        return json.JSONDecoder().raw_decode(text[1:].decode("utf-8", "ignore").lstrip())[0]
    except ValueError:
        return None


def is_capture_record(element: object) -> bool:
    """Whether a JSON value is a capture record: an object with ``event`` and a ``payload`` object (or the
    bare ``event.data`` object with them under ``data``). The capture format reads a JSON array of them;
    the dataLayer format leaves it to capture.
    """
    if isinstance(element, dict) and isinstance(element.get("data"), dict):
        element = {**element["data"], **element}
    return isinstance(element, dict) and "event" in element and isinstance(element.get("payload"), dict)


def first_line(head: bytes) -> bytes:
    """The first line of a file's head after a byte-order mark and blank lines."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]


def json_array_block(con: duckdb.DuckDBPyConnection, path: Path, data: bytes) -> Block:
    """The elements of a JSON array file as one block of lines, element k on line k (compact JSON)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise LoaderError(f"{path}: not UTF-8 text (byte {err.start})", path=path) from err
    cur = con.cursor()
    try:
        row = cur.execute(
            "SELECT json_type(j) = 'ARRAY', "
            "  array_to_string(list_transform(json_extract(j, '$[*]'), "
            "                  lambda e: CAST(e AS VARCHAR)), chr(10)) "
            "FROM (SELECT CAST(? AS JSON) AS j)",
            [text],
        ).fetchone()
    except duckdb.Error:
        row = None
    finally:
        cur.close()
    if row is None or not row[0]:
        try:
            json.loads(text)
            problem = "not a JSON array of objects"
        except json.JSONDecodeError as err:
            problem = f"malformed or truncated JSON at line {err.lineno}, column {err.colno}: {err.msg}"
            raise LoaderError(f"{path}: {problem}", path=path, record=err.lineno) from None
        raise LoaderError(f"{path}: {problem}", path=path)
    joined = (row[1] or "").encode("utf-8")
    if joined:
        joined += b"\n"
    return Block(data=joined, starts=line_starts(np.frombuffer(joined, dtype=np.uint8)), first_line=1)


def read_json_records(
    ctx: ReadContext,
    path: Path,
    queries: tuple[str, str],
    *,
    sniff: Callable[[Path, bytes], str | None] | None = None,
    what: str = "",
) -> ReadResult:
    """Read a JSON-lines file (plain or gzip) or a JSON array file with a (fast, guarded) pair of queries
    over ``blk(idx, text)``.

    A damaged gzip stream is accounted for by :func:`read_blocks`. With ``sniff`` (and ``what`` naming the
    format), a Parquet file, a JSON array in a damaged gzip stream, and a file of which no record is an
    event and whose first record is not one of the format raise LoaderError; without it such an array is
    read as far as it goes. A malformed or truncated JSON array always raises LoaderError.
    """
    try:
        head = read_head(path)
    except OSError as err:
        raise LoaderError(f"cannot read {path}: {err}", path=path) from err
    if sniff is not None and head[:4] == b"PAR1":
        raise LoaderError(
            f"{path} is a Parquet file; {what} is read from JSON lines or a JSON array", path=path
        )
    state = StreamState()
    blocks: Iterable[Block] | None = None
    try:
        if is_json_array(head):
            data = b"".join(block.data for block in iter_blocks(path, state))
            if sniff is not None and (state.truncated_gzip or state.corrupt_gzip or state.bad_checksum):
                raise LoaderError(
                    f"{path}: the gzip stream is truncated or corrupt, so its JSON array cannot be read",
                    path=path,
                )
            blocks = [json_array_block(ctx.con, path, data)]
        result = read_blocks(
            path, lambda block: parse_block(ctx.con, block, queries, path), state=state, blocks=blocks
        )
    except OSError as err:
        raise LoaderError(f"cannot read {path}: {err}", path=path) from err
    if sniff is not None and result.records and not result.tables and sniff(path, head) is None:
        raise LoaderError(
            f"{path} does not look like {what}: its first record is not one, and none of its "
            f"{result.records:,} record(s) is a Dynamic Chat event (is format= right?)",
            path=path,
            record=1,
        )
    return result
