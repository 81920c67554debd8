"""The streaming multipart/form-data reader (platform/web/formdata.py) against werkzeug's own
encoder and decoder: the same parts and bytes whatever the pieces the body arrives in."""

from __future__ import annotations

import io
import random
import re

import pytest
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.test import EnvironBuilder

from jixiao.platform.web.formdata import FormData, MalformedForm, RequestBody

BOUNDARY = "----jixiaoTestBoundary7MA4YWxkTrZu0gW"
DELIM = f"\r\n--{BOUNDARY}".encode()


class Pieces:
    """A body handed out in pieces of random sizes (1 byte up to 3 MiB), as a socket would."""

    def __init__(self, body: bytes, seed: int, largest: int = 3 * 1024 * 1024) -> None:
        self._body = memoryview(body)
        self._pos = 0
        self._rng = random.Random(seed)
        self._largest = largest

    def read(self, size: int) -> bytes:
        n = min(size, self._rng.choice([1, 7, 63, 64, 1000, 65536, self._largest, self._largest]))
        out = bytes(self._body[self._pos : self._pos + n])
        self._pos += len(out)
        return out


def parse(body: bytes, seed: int = 0, boundary: str = BOUNDARY) -> list[tuple[str, str | None, bytes]]:
    form = FormData(Pieces(body, seed), boundary)
    parts = []
    size = [7, 4096, 65536, 10**6][seed % 4]
    while (part := form.next_part()) is not None:
        chunks = []
        while chunk := part.read(size):
            chunks.append(bytes(chunk))
        parts.append((part.name, part.filename, b"".join(chunks)))
    return parts


def encode(
    parts: list[tuple[str, str | None, bytes]], *, preamble: bytes = b"", epilogue: bytes = b""
) -> bytes:
    body = preamble
    for i, (name, filename, data) in enumerate(parts):
        body += (b"\r\n" if i or preamble else b"") + f"--{BOUNDARY}\r\n".encode()
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        body += f"Content-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + data
    return body + f"\r\n--{BOUNDARY}--\r\n".encode() + epilogue


TRICKY = [
    b"",
    b"\r",
    b"\r\n",
    b"\r\n\r\n",
    b"x--" + BOUNDARY.encode() + b"--",  # the boundary without the line break before it is data
    DELIM[:-1],  # a delimiter's prefix at the very end of the data
    b"x" + DELIM[:-3] + b"\r\n--",
    b"\r" * 5000,
    bytes(range(256)) * 300,
]


@pytest.mark.parametrize("data", TRICKY, ids=range(len(TRICKY)))
@pytest.mark.parametrize("seed", range(6))
def test_a_file_part_comes_back_byte_for_byte_whatever_the_pieces(data: bytes, seed: int) -> None:
    parts = [("stage", None, b"assessment"), ("file", "佐证.pdf", data), ("purpose", None, b"x")]
    body = encode(parts, preamble=b"ignored preamble" if seed % 2 else b"", epilogue=b"ignored\r\n")
    assert parse(body, seed) == parts


def test_large_random_files_and_fields_in_any_order() -> None:
    rng = random.Random(7)
    for seed in range(5):
        parts = []
        for i in range(rng.randint(1, 5)):
            size = rng.choice([0, 1, 100, 70_000, 2_500_000])
            data = rng.randbytes(size)
            if rng.random() < 0.3:  # plant almost-delimiters in the data
                data = data[: size // 2] + DELIM[: rng.randint(1, len(DELIM) - 1)] + data[size // 2 :]
            parts.append((f"f{i}", f"文件{i}.bin" if rng.random() < 0.5 else None, data))
        assert parse(encode(parts), seed) == parts


def test_what_werkzeugs_test_client_sends_reads_the_same() -> None:
    """Including an empty file, which werkzeug writes without the line break of its empty data."""
    for payload in (b"", b"%PDF-1.7\n", b"%PDF-1.7\n" + bytes(range(256)) * 10_000):
        environ = EnvironBuilder(
            method="POST",
            data={"file": (io.BytesIO(payload), "空白 文件.pdf"), "stage": "targets", "purpose": "立项依据"},
            content_type="multipart/form-data",
        ).get_environ()
        boundary = re.search(r'boundary="?([^";]+)', environ["CONTENT_TYPE"]).group(1)
        body = environ["wsgi.input"].read()
        got = {name: (filename, data) for name, filename, data in parse(body, 3, boundary)}
        assert got == {
            "stage": (None, b"targets"),
            "purpose": (None, "立项依据".encode()),
            "file": ("空白 文件.pdf", payload),
        }


def test_file_names_in_utf8_rfc5987_and_gbk() -> None:
    def name_of(header: bytes) -> str | None:
        body = (
            f"--{BOUNDARY}\r\n".encode()
            + b'Content-Disposition: form-data; name="file"; '
            + header
            + b"\r\n\r\nx\r\n"
            + f"--{BOUNDARY}--\r\n".encode()
        )
        part = FormData(io.BytesIO(body), BOUNDARY).next_part()
        assert part is not None
        return part.filename

    assert name_of('filename="立项批复.pdf"'.encode()) == "立项批复.pdf"
    assert name_of(b"filename*=UTF-8''%E7%AB%8B%E9%A1%B9.pdf") == "立项.pdf"
    assert name_of('filename="立项.pdf"'.encode("gbk")) == "立项.pdf"


def test_skipped_parts_and_held_parts() -> None:
    parts = [("a", None, b"1" * 100), ("file", "x.bin", b"2" * 3_000_000), ("b", None, b"3")]
    form = FormData(Pieces(encode(parts), 1), BOUNDARY)
    first = form.next_part()
    assert first is not None and first.name == "a"  # not read: skipped by next_part
    upload = form.next_part()
    assert upload is not None and upload.filename == "x.bin"
    assert not upload.hold(1_000_000)  # more than the limit: held so far, the rest still to come
    data = b""
    while chunk := upload.read(65536):
        data += bytes(chunk)
    assert data == b"2" * 3_000_000
    last = form.next_part()
    assert last is not None and last.text(10) == "3"
    assert form.next_part() is None
    assert form.next_part() is None


def test_a_field_over_its_limit_is_413() -> None:
    form = FormData(io.BytesIO(encode([("purpose", None, b"x" * 1000)])), BOUNDARY)
    part = form.next_part()
    assert part is not None
    with pytest.raises(RequestEntityTooLarge):
        part.text(999)


@pytest.mark.parametrize(
    "body",
    [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\nno close delimiter'.encode(),
        f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),  # no name
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"'.encode(),  # headers never end
        f'--{BOUNDARY}junk\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--{BOUNDARY}--'.encode(),
    ],
    ids=["truncated", "no-name", "unterminated-headers", "junk-after-delimiter"],
)
def test_malformed_bodies_are_400_with_a_reason(body: bytes) -> None:
    form = FormData(io.BytesIO(body), BOUNDARY)
    with pytest.raises(MalformedForm) as caught:
        while (part := form.next_part()) is not None:
            while part.read(1000):
                pass
    assert caught.value.status == 400 and "multipart/form-data" in caught.value.message


def test_a_body_without_any_delimiter_has_no_parts() -> None:
    """As werkzeug reads it (an empty form): the view then names the missing file."""
    assert FormData(io.BytesIO(b"just some bytes"), BOUNDARY).next_part() is None
    assert FormData(io.BytesIO(b""), BOUNDARY).next_part() is None


def test_request_body_is_bounded_by_its_length_and_the_cap() -> None:
    body = RequestBody({"wsgi.input": io.BytesIO(b"abcdef-and-the-next-request")}, 6, 100)
    assert body.read(100) == b"abcdef" and body.read(100) == b""
    with pytest.raises(RequestEntityTooLarge):
        RequestBody({"wsgi.input": io.BytesIO(b"")}, 101, 100)
    chunked = RequestBody({"wsgi.input": io.BytesIO(b"x" * 150), "wsgi.input_terminated": True}, None, 100)
    with pytest.raises(RequestEntityTooLarge):
        while chunked.read(64):
            pass
    short = RequestBody({"wsgi.input": io.BytesIO(b"abc")}, 10, None)
    assert short.read(10) == b"abc"
    with pytest.raises(ClientDisconnected):
        short.read(10)
    assert RequestBody({"wsgi.input": io.BytesIO(b"abc")}, None, None).read(10) == b""  # no length
