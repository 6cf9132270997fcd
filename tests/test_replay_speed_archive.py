"""Replay reads a record with one pread and one decompression (issue 12), and reads what warcio reads.

The reference is the former reading: warcio's ArchiveIterator from the record's offset."""

from __future__ import annotations

import gzip
from io import BytesIO

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler import archive
from crawler.archive import WarcArchive

BODY = "<html><body><p>Xin chào</p></body></html>".encode()
CASES = {
    "plain": ("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("ETag", '"x"')], BODY),
    "no headers": ("404 Not Found", [], b"gone"),
    "no reason": ("301", [("Location", "/elsewhere")], b""),
    "dropped framing": ("200 OK", [("Content-Length", "5"), ("X-A", "  spaced  ")], b"hello"),
    "gzip encoded": ("200 OK", [("Content-Encoding", "gzip")], gzip.compress(BODY)),
    "odd encoding": ("200 OK", [("Content-Encoding", "x-unknown")], BODY),
    "chunked": ("200 OK", [("Transfer-Encoding", "chunked")], b"5\r\nhello\r\n0\r\n\r\n"),
    "latin-1 value": ("200 OK", [("X-Name", "caf\xe9")], BODY),
    "colon in value": ("200 OK", [("Refresh", "0; url=http://a.gov.vn:8080/x")], BODY),
    "empty value": ("200 OK", [("X-Empty", "")], BODY),
}


def _former_get(path: str, offset: int):
    with open(path, "rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        status = int(record.http_headers.get_statuscode() or 200)
        headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in record.http_headers.headers
            if name.lower().encode("latin-1") not in archive._DROP_HEADERS
        ]
        return status, headers, record.content_stream().read()


@pytest.mark.parametrize("compressed", [True, False], ids=["warc.gz", "warc"])
def test_get_equals_warcio(tmp_path, compressed):
    path = tmp_path / ("a.warc.gz" if compressed else "a.warc")
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=compressed)
        for i, (status, headers, body) in enumerate(CASES.values()):
            http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                f"https://a.gov.vn/{i}", "response", payload=BytesIO(body), http_headers=http
            )
            writer.write_record(record)
    warcs = WarcArchive([str(path)])
    for i, name in enumerate(CASES):
        url = f"https://a.gov.vn/{i}"
        file, offset = warcs.location(url)
        assert warcs.get(url) == _former_get(file, offset), name
        assert warcs.get(f"https://A.gov.vn/{i}#frag") == warcs.get(url)  # canonicalised when not as recorded
    assert warcs.get("https://a.gov.vn/missing") is None


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Type: text/html\r\n\r\nbody",  # continuation line
        b"HTTP/1.1 200 OK\nContent-Type: text/html\n\nbody",  # bare LF
        b"HTTP/1.1 200 OK\r\nNoColon\r\nContent-Type: text/html\r\n\r\nbody",  # a line warcio drops
        b"HTTP/1.1 200 OK\r\nX-U: \xc3\xa9\r\n\r\nbody",  # UTF-8 in a header
        b"http/1.0 203 Fine\r\nContent-Type: text/plain\r\n\r\nbody",  # lower-case protocol
        b"HTTP/1.1 200 OK\r\n  \r\nContent-Type: text/html\r\n\r\nbody",  # a blank line of spaces
    ],
)
def test_unusual_http_blocks_read_as_warcio_reads_them(tmp_path, raw):
    path = tmp_path / "b.warc.gz"
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://a.gov.vn/x\r\n"
        "WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(raw)}\r\n\r\n"
    )
    path.write_bytes(gzip.compress(head.encode() + raw + b"\r\n\r\n"))  # as written, not re-serialised
    warcs = WarcArchive([str(path)])
    try:
        expected = _former_get(*warcs.location("https://a.gov.vn/x"))
    except Exception as error:  # noqa: BLE001 - warcio refuses it: so must the replay
        with pytest.raises(type(error)):
            warcs.get("https://a.gov.vn/x")
        return
    assert warcs.get("https://a.gov.vn/x") == expected
