"""A multipart/form-data request body read as a stream (RFC 7578), part by part: the small fields
as text, a file part as a readable stream — never the whole body in memory or in a temporary
file (werkzeug's form parser spools every file to one before the view sees a byte).

    body = FormData.of_request()
    while (part := body.next_part()) is not None:
        if part.filename is None:
            value = part.text(64 * 1024)
        else:
            stream = part  # .read(n) → the file's bytes, b"" at its end

Parts are read in order: moving to the next part skips what is left of the current one. Reads
return ``bytes`` or a ``memoryview`` of what came from the socket (no copy); the input is read
1 MiB at a time. Line breaks must be CRLF, as every browser and HTTP library sends them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.http import parse_options_header

from jixiao.platform.core.errors import DomainError
from jixiao.platform.core.storage import CHUNK_SIZE, Readable

MAX_HEADER_BYTES = 16 * 1024
"""The headers of one part (its name, file name and type) may not take more."""


class MalformedForm(DomainError):
    status = 400
    status_name = "Bad Request"


def _malformed(detail: str) -> MalformedForm:
    return MalformedForm(f"请求体不是有效的 multipart/form-data：{detail}")


class RequestBody:
    """The WSGI input, bounded as werkzeug bounds ``request.stream`` (by ``Content-Length``, or
    to the end when the server terminates the input, e.g. a chunked body) and capped at
    ``max_length`` (413), without werkzeug's extra copies of every read."""

    def __init__(self, environ: dict[str, Any], content_length: int | None, max_length: int | None) -> None:
        if content_length is not None and max_length is not None and content_length > max_length:
            raise RequestEntityTooLarge()
        self._input = environ["wsgi.input"]
        if content_length is not None:
            self._remaining: int | None = content_length
        else:
            self._remaining = None if environ.get("wsgi.input_terminated") else 0
        self._max = max_length
        self.received = 0

    def read(self, size: int) -> bytes:
        if self._remaining is not None:
            size = min(size, self._remaining)
            if size <= 0:
                return b""
        data: bytes = self._input.read(size)
        if self._remaining is not None:
            if not data:
                raise ClientDisconnected()
            self._remaining -= len(data)
        self.received += len(data)
        if self._max is not None and self.received > self._max:
            raise RequestEntityTooLarge()
        return data


class _NoBody:
    def read(self, size: int, /) -> bytes:
        return b""


_NO_BODY = _NoBody()


class Part:
    """One part of the body: a field (``filename`` None) or a file. ``read`` until ``b""``."""

    def __init__(self, form: FormData, name: str, filename: str | None, content_type: str) -> None:
        self._form = form
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self._held: list[bytes | memoryview] = []

    def read(self, size: int = -1, /) -> bytes | memoryview:
        if size == 0:
            return b""
        if self._held:
            chunk = self._held[0]
            if size < 0 or len(chunk) <= size:
                return self._held.pop(0)
            self._held[0] = memoryview(chunk)[size:]
            return memoryview(chunk)[:size]
        if self._form._current is not self:
            return b""
        return self._form._read_data(CHUNK_SIZE if size < 0 else size)

    def hold(self, limit: int) -> bool:
        """Read the whole part into memory if it has at most ``limit`` bytes (True); else stop
        once more than ``limit`` bytes are held (False). ``read`` returns the held bytes first."""
        held = sum(len(chunk) for chunk in self._held)
        while held <= limit:
            chunk = self._form._read_data(CHUNK_SIZE) if self._form._current is self else b""
            if not chunk:
                return True
            self._held.append(chunk)
            held += len(chunk)
        return False

    def text(self, limit: int) -> str:
        """The value of a field, at most ``limit`` bytes (else 413)."""
        if not self.hold(limit):
            raise RequestEntityTooLarge()
        raw = b"".join(self._held)
        self._held.clear()
        return raw.decode("utf-8", errors="replace")


class FormData:
    """The parts of a multipart/form-data body, one after the other (see the module docstring)."""

    def __init__(self, source: Readable | RequestBody, boundary: str) -> None:
        if not boundary or len(boundary) > 200:
            raise _malformed("缺少分隔符（boundary）")
        self._read_source: Callable[[int], Any] = source.read
        self._delimiter = b"\r\n--" + boundary.encode("latin-1")
        # the first delimiter may open the body without a line break before it
        self._buf: bytes = b"\r\n"
        self._pos = 0
        self._end = -1  # where the data in _buf stops: a delimiter's start, or the unsure tail
        self._at_delimiter = False  # whether _end is a delimiter's start
        self._eof = False
        self._closed = False  # the close delimiter was read
        self._current: Part | None = None
        self._in_preamble = True
        self._part_start = False  # just after a part's headers (see _line_and_headers)

    @classmethod
    def of_request(cls) -> FormData:
        """The current request's body; another kind of body (JSON, none) reads as a form without
        parts, as werkzeug's `request.form` reads it."""
        if request.mimetype != "multipart/form-data":
            return cls(_NO_BODY, "-")
        body = RequestBody(request.environ, request.content_length, request.max_content_length)
        return cls(body, request.mimetype_params.get("boundary", ""))

    # reading -----------------------------------------------------------------------------------

    def _more(self) -> bool:
        """Append the next piece of input to what is left of the buffer; False at its end."""
        if self._eof:
            return False
        data = self._read_source(CHUNK_SIZE)
        if not data:
            self._eof = True
            return False
        rest = self._buf[self._pos :]
        self._buf = rest + data if rest else bytes(data)
        self._pos = 0
        self._end = -1
        return True

    def _scan(self) -> None:
        """Find where the data in the buffer ends: at a delimiter, or before a tail that might be
        the start of one (kept until more input shows what it is)."""
        buf, pos = self._buf, self._pos
        found = buf.find(self._delimiter, pos)
        if found >= 0:
            self._end, self._at_delimiter = found, True
            return
        self._at_delimiter = False
        tail = max(pos, len(buf) - len(self._delimiter) + 1)
        cr = buf.find(b"\r", tail)
        self._end = cr if cr >= 0 else len(buf)

    def _read_data(self, size: int) -> bytes | memoryview:
        """The current part's next bytes (at most ``size``); ``b""`` at its end."""
        if self._part_start:
            self._part_start = False
            while len(self._buf) - self._pos < len(self._delimiter) and self._more():
                pass
            if not self._buf.startswith(self._delimiter, self._pos):
                self._pos += 2
            self._end = -1
        while True:
            if self._end < 0:
                self._scan()
            if self._pos < self._end:
                end = min(self._end, self._pos + size)
                start, self._pos = self._pos, end
                return memoryview(self._buf)[start:end]
            if self._at_delimiter:
                self._pos = self._end + len(self._delimiter)
                self._end = -1
                self._current = None
                self._in_preamble = False
                return b""
            if not self._more():
                if self._in_preamble:  # not one delimiter in the whole body: no parts at all
                    self._closed = True
                    return b""
                raise _malformed("请求体不完整（缺少结束分隔符）")

    def _line_and_headers(self) -> bytes | None:
        """After a delimiter: None for the close delimiter, else the part's header block."""
        while len(self._buf) - self._pos < 2 and self._more():
            pass
        if self._buf.startswith(b"--", self._pos):
            self._closed = True
            return None
        while True:
            end = self._buf.find(b"\r\n\r\n", self._pos)
            if end >= 0:
                break
            if len(self._buf) - self._pos > MAX_HEADER_BYTES:
                raise _malformed("分段的头部过长")
            if not self._more():
                raise _malformed("请求体不完整（分段的头部未结束）")
        block = self._buf[self._pos : end + 2]
        # the blank line's line break may double as the next delimiter's (an empty part as
        # werkzeug's test client writes it): the data starts after it unless a delimiter does
        self._pos = end + 2
        self._end = -1
        self._part_start = True
        line_end = block.find(b"\r\n")
        if block[:line_end].strip(b" \t"):  # only padding may follow a delimiter on its line
            raise _malformed("分隔符后有多余内容")
        return block[line_end + 2 :]

    def next_part(self) -> Part | None:
        """The next part (skipping what is left of the current one), or None after the last."""
        if self._closed:
            return None
        if self._current is not None or self._in_preamble:
            while self._read_data(CHUNK_SIZE):
                pass
            if self._closed:
                return None
        block = self._line_and_headers()
        if block is None:
            return None
        headers: dict[str, str] = {}
        for line in block.split(b"\r\n"):
            if not line:
                continue
            name, colon, value = line.partition(b":")
            if not colon:
                raise _malformed("分段的头部格式错误")
            headers[name.strip().decode("latin-1").lower()] = _decode(value.strip())
        disposition, options = parse_options_header(headers.get("content-disposition", ""))
        if disposition != "form-data" or "name" not in options:
            raise _malformed("分段缺少 Content-Disposition: form-data; name=…")
        self._current = Part(self, options["name"], options.get("filename"), headers.get("content-type", ""))
        return self._current


def _decode(raw: bytes) -> str:
    """Header values are UTF-8 (browsers send file names so); an old client's GBK name is read as
    such rather than refused."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")
