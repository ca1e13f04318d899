"""The upload parser: a multipart/form-data body streamed to disk, never held whole.

The ``file`` part goes to a file as it arrives, refused past the upload limit; the other
parts are small text fields (the first 1,024 bytes of each are kept). The whole form may
have at most ``PARTS_MAX`` parts and ``HEADERS_MAX`` bytes of part headers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from netra.errors import InvalidInput, PayloadTooLarge

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file
HEADERS_MAX = 16 * 1024  # bytes of part headers in the whole form
PARTS_MAX = 16  # parts in the form: the file and a few small fields


async def receive_file(
    request: Request, target: Path, limit: int
) -> tuple[str | None, dict[str, str]]:
    """Stream the multipart body: the ``file`` part to ``target``, small fields to a dict."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInput("send the file as multipart/form-data with a 'file' part", field="file")
    part: dict[str, Any] = {}
    fields: dict[str, str] = {}
    found: dict[str, Any] = {"file": False, "filename": None}
    header: dict[str, bytes] = {"field": b"", "value": b""}
    written = 0
    header_bytes = 0
    parts = 0

    def count_header(size: int) -> None:
        nonlocal header_bytes
        header_bytes += size
        if header_bytes > HEADERS_MAX:
            raise InvalidInput("the form's part headers are too large", field="file")

    with target.open("wb") as out:

        def on_part_begin() -> None:
            nonlocal parts
            parts += 1
            if parts > PARTS_MAX:
                raise InvalidInput(f"the form has more than {PARTS_MAX} parts", field="file")
            part.clear()
            part["headers"] = {}
            part["data"] = bytearray()

        def on_header_field(data: bytes, start: int, end: int) -> None:
            count_header(end - start)
            header["field"] += data[start:end]

        def on_header_value(data: bytes, start: int, end: int) -> None:
            count_header(end - start)
            header["value"] += data[start:end]

        def on_header_end() -> None:
            part["headers"][header["field"].decode("latin-1").lower()] = header["value"]
            header["field"] = header["value"] = b""

        def on_headers_finished() -> None:
            _, disposition = parse_options_header(part["headers"].get("content-disposition", b""))
            part["name"] = disposition.get(b"name", b"").decode(errors="replace")
            filename = disposition.get(b"filename")
            part["is_file"] = part["name"] == "file"
            if part["is_file"]:
                found["file"] = True
                found["filename"] = filename.decode(errors="replace") if filename else None

        def on_part_data(data: bytes, start: int, end: int) -> None:
            nonlocal written
            if part["is_file"]:
                written += end - start
                if written > limit:
                    raise PayloadTooLarge(f"uploads are limited to {limit} bytes")
                out.write(data[start:end])
            elif len(part["data"]) < 1024:
                part["data"] += data[start:end]

        def on_part_end() -> None:
            if not part["is_file"]:
                fields[part["name"]] = part["data"][:1024].decode(errors="replace")

        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": on_part_begin,
                "on_header_field": on_header_field,
                "on_header_value": on_header_value,
                "on_header_end": on_header_end,
                "on_headers_finished": on_headers_finished,
                "on_part_data": on_part_data,
                "on_part_end": on_part_end,
            },
        )
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except MultipartParseError as exc:
                raise _malformed(exc) from None
        try:
            parser.finalize()
        except MultipartParseError as exc:
            raise _malformed(exc) from None
    if not found["file"]:
        raise InvalidInput("the form has no 'file' part", field="file")
    return found["filename"], fields


def _malformed(exc: MultipartParseError) -> InvalidInput:
    return InvalidInput(f"the multipart body is malformed: {exc}", field="file")
