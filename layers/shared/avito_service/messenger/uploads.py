"""An image uploaded to the service: one ``multipart/form-data`` file in the field ``file``, checked by its bytes.

API Gateway passes the body base64-encoded (``multipart/form-data`` is one of the API's binary media types);
the multipart body is parsed with the ``multipart`` library, with a per-part size limit, so an oversized file
is refused while it is read rather than after. A body that cannot hold an allowed file at all (larger than the
limit plus the room a form's boundaries and headers need) is refused before parsing.

The type is what the bytes are (``filetype`` reads their signature), never the file name or the part's
declared type: a text file named ``.png`` is not an image.
"""

from __future__ import annotations

import base64
import binascii
import io
import struct
from dataclasses import dataclass

import filetype
import multipart

from avito_service.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # the contract's "at most 5 MB" (5 MiB); Avito itself takes up to 24 MB
FORM_OVERHEAD_BYTES = 64 * 1024  # boundaries and part headers of a small form, besides the file itself
FILE_FIELD = "file"
IMAGE_TYPES = {  # what Avito's uploadImages accepts, by the MIME type filetype reports
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/heic": "heic",
    "image/bmp": "bmp",
}
_BMP_DIB_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124}


@dataclass(frozen=True)
class ImageUpload:
    data: bytes
    content_type: str  # as recognised from the bytes
    filename: str


def read_image_upload(body: str | None, *, is_base64: bool, content_type: str | None) -> ImageUpload:
    """The image of an API Gateway request body: 415 not multipart or not an image, 413 too large, 422 no file."""
    mime, options = multipart.parse_options_header(content_type or "")
    boundary = options.get("boundary")
    if mime != "multipart/form-data" or not boundary:
        raise UnsupportedMediaType(
            "Send the image as multipart/form-data (with a boundary), the file in the field 'file'."
        )
    if body is None or body == "":
        raise ValidationFailed.on(FILE_FIELD, "An image file is required.")
    encoded_size = len(body) * 3 // 4 if is_base64 else len(body)
    if encoded_size > MAX_IMAGE_BYTES + FORM_OVERHEAD_BYTES:
        raise _too_large()  # cannot hold an allowed file: refused before it is decoded or parsed
    raw = _decode(body, is_base64)
    parser = multipart.MultipartParser(
        io.BytesIO(raw),
        boundary,
        content_length=len(raw),
        part_limit=16,
        partsize_limit=MAX_IMAGE_BYTES,
        spool_limit=MAX_IMAGE_BYTES + 1,  # kept in memory (the body is in memory already)
        memory_limit=MAX_IMAGE_BYTES + FORM_OVERHEAD_BYTES,
    )
    try:
        files = [part for part in parser if part.name == FILE_FIELD]
    except multipart.ParserLimitReached:
        raise _too_large() from None
    except multipart.MultipartError:
        raise UnsupportedMediaType("The body is not a readable multipart/form-data form.") from None
    if len(files) != 1 or files[0].filename is None:
        message = "Send exactly one image file in the field 'file'." if files else "An image file is required."
        raise ValidationFailed.on(FILE_FIELD, message)
    data = files[0].raw
    if not data:
        raise ValidationFailed.on(FILE_FIELD, "The file is empty.")
    detected = image_type(data)
    if detected is None:
        raise UnsupportedMediaType(
            "The file is not an image Avito accepts: send a JPEG, PNG, GIF, HEIC or BMP image.",
            code="unsupported_image_type",
        )
    return ImageUpload(data=data, content_type=detected, filename=_filename(files[0].filename, detected))


def image_type(data: bytes) -> str | None:
    """The MIME type of an image Avito accepts that ``data`` is, else None."""
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in IMAGE_TYPES:
        return None
    if kind.mime == "image/bmp" and not _looks_like_bmp(data):
        return None
    return kind.mime


def _looks_like_bmp(data: bytes) -> bool:
    """filetype takes anything starting with ``BM`` for a BMP (text can); a BMP also has zero reserved bytes and
    a known DIB header size. Checked here because no detector in our dependencies looks further."""
    if len(data) < 26:
        return False
    reserved, dib_size = struct.unpack_from("<I", data, 6)[0], struct.unpack_from("<I", data, 14)[0]
    return reserved == 0 and dib_size in _BMP_DIB_HEADER_SIZES


def _decode(body: str, is_base64: bool) -> bytes:
    if not is_base64:
        return body.encode("utf-8", errors="surrogateescape")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise UnsupportedMediaType("The body is not a readable multipart/form-data form.") from None


def _filename(given: str, content_type: str) -> str:
    """A plain file name for Avito: the client's base name (no path), with the extension of the real type."""
    stem = given.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0].strip()
    safe = "".join(ch for ch in stem if ch.isalnum() or ch in "-_ ")[:100].strip() or "image"
    return f"{safe}.{IMAGE_TYPES[content_type]}"


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB ({MAX_IMAGE_BYTES} bytes); send a smaller one."
    )
