"""Reading Events API / GH Archive NDJSON files, plain and gzipped, line by line."""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from producers.archive import ArchiveLine, BadLine, iter_archive, kafka_key
from schemas.events import parse_activity


def record(n: int, repo: str = "acme/widgets", kind: str = "PushEvent") -> dict[str, Any]:
    return {
        "id": str(40_000_000_000 + n),
        "type": kind,
        "actor": {"id": n, "login": f"dev{n}"},
        "repo": {"id": 7, "name": repo},
        "payload": {"ref": "refs/heads/main", "head": "a" * 40, "commits": []},
        "created_at": "2024-05-01T12:00:00Z",
    }


def ndjson(*records: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


MIXED = b"".join(
    [
        orjson.dumps(record(1)) + b"\n",  # 1
        b"\n",  # 2: blank, skipped silently
        b"{not json\n",  # 3
        b"   \t \r\n",  # 4: whitespace only, skipped
        b"[1, 2]\n",  # 5
        orjson.dumps({"type": "PushEvent", "payload": "nope"}) + b"\n",  # 6
        orjson.dumps({"zen": "a webhook ping, no type"}) + b"\n",  # 7
        orjson.dumps(record(2, repo="other/repo")) + b"\r\n",  # 8: CRLF
        b"caf\xe9\n",  # 9: not UTF-8
        orjson.dumps(record(3)),  # 10: last line without newline
    ]
)


RECORDS = [(1, "acme/widgets"), (2, "other/repo"), (3, "acme/widgets")]
"""(number, repository) of the valid records in MIXED."""


def shape(items: list[ArchiveLine | BadLine]) -> list[tuple[str, int, str]]:
    """(kind, line number, repository or reason) of each item."""
    return [
        ("ok", i.line_no, i.repository) if isinstance(i, ArchiveLine) else ("bad", i.line_no, i.reason)
        for i in items
    ]


def expected_mixed() -> list[tuple[str, int, str]]:
    return [
        ("ok", 1, "acme/widgets"),
        ("bad", 3, "not JSON: ..."),
        ("bad", 5, "not a JSON object but a JSON list"),
        ("bad", 6, "events api PushEvent record without a 'payload' object"),
        ("bad", 7, "webhook payload without an x-github-event header"),
        ("ok", 8, "other/repo"),
        ("bad", 9, "not JSON: ..."),
        ("ok", 10, "acme/widgets"),
    ]


def loose(items: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    """orjson's own wording after "not JSON: " is not ours to pin."""
    return [(k, n, "not JSON: ..." if text.startswith("not JSON: ") else text) for k, n, text in items]


@pytest.mark.parametrize(("name", "compress"), [("plain.json", False), ("hour.json.gz", True)])
def test_valid_bad_and_blank_lines_with_their_numbers(tmp_path: Path, name: str, compress: bool) -> None:
    path = tmp_path / name
    path.write_bytes(gzip.compress(MIXED) if compress else MIXED)

    items = list(iter_archive([path]))

    assert loose(shape(items)) == expected_mixed()
    assert all(i.path == path for i in items)


def test_values_are_the_records_as_read(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(MIXED)

    good = [i for i in iter_archive([path]) if isinstance(i, ArchiveLine)]

    assert [g.value for g in good] == [orjson.dumps(record(n, repo)) for n, repo in RECORDS]
    assert [parse_activity(g.value, None, None).event_id for g in good] == [
        "40000000001",
        "40000000002",
        "40000000003",
    ]


def test_gzip_is_recognized_by_its_magic_bytes_not_its_name(tmp_path: Path) -> None:
    zipped_as_json = tmp_path / "looks-plain.json"
    plain_as_gz = tmp_path / "looks-zipped.json.gz"
    zipped_as_json.write_bytes(gzip.compress(ndjson(record(1))))
    plain_as_gz.write_bytes(ndjson(record(2)))

    items = list(iter_archive([zipped_as_json, plain_as_gz]))

    assert [(i.path, i.line_no) for i in items] == [(zipped_as_json, 1), (plain_as_gz, 1)]
    assert all(isinstance(i, ArchiveLine) for i in items)


def test_concatenated_gzip_members_are_read_through(tmp_path: Path) -> None:
    path = tmp_path / "members.json.gz"
    path.write_bytes(gzip.compress(ndjson(record(1), record(2))) + gzip.compress(ndjson(record(3))))

    assert [i.line_no for i in iter_archive([path]) if isinstance(i, ArchiveLine)] == [1, 2, 3]


def test_truncated_gzip_yields_the_complete_lines_then_one_bad_line(tmp_path: Path) -> None:
    lines = 5000
    whole = gzip.compress(ndjson(*(record(n) for n in range(lines))))
    cut, after = tmp_path / "cut.json.gz", tmp_path / "after.json"
    cut.write_bytes(whole[: len(whole) // 2])
    after.write_bytes(ndjson(record(9)))

    items = list(iter_archive([cut, after]))
    good = [i for i in items if isinstance(i, ArchiveLine) and i.path == cut]
    bad = [i for i in items if isinstance(i, BadLine)]

    assert 0 < len(good) < lines
    assert [g.line_no for g in good] == list(range(1, len(good) + 1))
    assert [(b.path, b.line_no) for b in bad] == [(cut, len(good) + 1)]
    assert "truncated or corrupt gzip" in bad[0].reason
    assert items[-1] == ArchiveLine(after, 1, orjson.dumps(record(9)), "acme/widgets")


def test_corrupt_gzip_data_is_one_bad_line(tmp_path: Path) -> None:
    whole = gzip.compress(ndjson(record(1)))
    path = tmp_path / "corrupt.json.gz"
    path.write_bytes(whole[:10] + b"\xff" * 40 + whole[50:])

    items = list(iter_archive([path]))

    assert len(items) == 1
    assert isinstance(items[0], BadLine)
    assert (items[0].line_no, "corrupt gzip" in items[0].reason) == (1, True)


def test_an_unreadable_file_is_one_bad_line_and_the_rest_is_read(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_bytes(ndjson(record(1)))

    items = list(iter_archive([tmp_path / "missing.json", tmp_path, good]))

    assert shape(items) == [
        ("bad", 0, "cannot read the file: No such file or directory"),
        ("bad", 0, "cannot read the file: Is a directory"),
        ("ok", 1, "acme/widgets"),
    ]


def test_a_line_over_the_limit_is_bad_and_never_read_whole(tmp_path: Path) -> None:
    small = orjson.dumps(record(1))
    huge = orjson.dumps({**record(2), "pad": "x" * 3_000_000})
    path = tmp_path / "long.json"
    path.write_bytes(small + b"\n" + huge + b"\n" + small + b"\n")

    tracemalloc.start()
    try:
        items = list(iter_archive([path], max_line_bytes=len(small)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 1_500_000  # the 3 MB line went by in chunks
    assert shape(items) == [
        ("ok", 1, "acme/widgets"),
        ("bad", 2, f"line longer than {len(small)} bytes"),
        ("ok", 3, "acme/widgets"),
    ]
    assert shape(list(iter_archive([path], max_line_bytes=len(small) - 1)))[0] == (
        "bad",
        1,
        f"line longer than {len(small) - 1} bytes",
    )


def test_the_kafka_key_is_the_repository() -> None:
    assert kafka_key(ArchiveLine(Path("a"), 1, b"{}", "acme/widgets")) == b"acme/widgets"
    assert kafka_key(ArchiveLine(Path("a"), 1, b"{}", "")) is None


def test_a_record_without_repository_has_no_key(tmp_path: Path) -> None:
    path = tmp_path / "norepo.json"
    path.write_bytes(ndjson({k: v for k, v in record(1).items() if k != "repo"}))

    (item,) = iter_archive([path])

    assert isinstance(item, ArchiveLine)
    assert (item.repository, kafka_key(item)) == ("", None)


def test_files_are_read_lazily(tmp_path: Path) -> None:
    """The second file does not exist yet when the first record is taken; nothing is read ahead."""
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    first.write_bytes(ndjson(record(1), record(2)))

    def paths() -> Iterator[Path]:
        yield first
        yield second

    items = iter_archive(paths())
    assert next(items).line_no == 1
    second.write_bytes(ndjson(record(3, repo="late/repo")))
    rest = list(items)

    assert shape(rest) == [("ok", 2, "acme/widgets"), ("ok", 1, "late/repo")]
