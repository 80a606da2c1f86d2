"""Decode photos for the face pipeline: by content, upright, 8-bit RGB, with size guards.

The file extension is never trusted (a WebP named ``.jpg`` decodes as WebP). Everything Pillow
can hand us -- greyscale, 16-bit greyscale, CMYK, palette, alpha -- becomes an ``(H, W, 3)``
``uint8`` array, or a :class:`~facematch.errors.ImageError` subclass that names the file.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facematch.errors import ImageTooLargeError, NotAnImageError, TruncatedImageError

log = logging.getLogger(__name__)

#: Formats accepted, whatever the file is called.
FORMATS = ("JPEG", "PNG", "WEBP", "BMP")

#: Default pixel limit (width x height): 60 MP covers every camera still; larger is refused.
DEFAULT_MAX_PIXELS = 60_000_000

EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class DecodedImage:
    """An upright 8-bit RGB image and where it came from.

    Attributes
    ----------
    pixels:
        ``(height, width, 3)`` ``uint8`` array, EXIF orientation applied.
    sha256:
        SHA-256 of the file bytes (what the audit log records for a probe).
    source:
        The path or label used in error messages.
    format, mode:
        The format Pillow detected from the content and the original pixel mode.
    """

    pixels: np.ndarray
    sha256: str
    source: str
    format: str
    mode: str

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def read_image(
    source: str | Path | bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, label: str | None = None
) -> DecodedImage:
    """Decode a photo file (or its bytes) into an upright RGB array.

    Parameters
    ----------
    source:
        A path, or the raw bytes of the file.
    max_pixels:
        Refuse images with more pixels than this (checked from the header, before decoding).
    label:
        The name used in error messages when ``source`` is bytes.

    Raises
    ------
    NotAnImageError
        Unreadable file, not an image, or a format other than JPEG/PNG/WebP/BMP.
    TruncatedImageError
        The data ends early or is corrupt.
    ImageTooLargeError
        More pixels than ``max_pixels`` (or Pillow's own decompression-bomb limit).
    """
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        name = label or "<image bytes>"
    else:
        name = str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise NotAnImageError(
                f"{name!r}: cannot read the file ({exc.strerror or exc})"
            ) from None
    digest = hashlib.sha256(data).hexdigest()
    if not data:
        raise NotAnImageError(f"{name!r}: the file is empty")
    try:
        im = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"{name!r}: refused as a decompression bomb ({exc})") from None
    except UnidentifiedImageError:
        raise NotAnImageError(
            f"{name!r}: not an image in a supported format ({', '.join(FORMATS)})"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise TruncatedImageError(f"{name!r}: corrupt image header ({exc})") from None
    width, height = im.size
    if width <= 0 or height <= 0:
        raise TruncatedImageError(f"{name!r}: image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name!r}: {width}x{height} = {width * height:,} pixels exceeds the limit of "
            f"{max_pixels:,} (decompression bomb guard)"
        )
    fmt, mode = str(im.format), str(im.mode)
    try:
        im.load()
        upright = _upright(im)
        pixels = _to_rgb_array(upright)
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"{name!r}: refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise TruncatedImageError(f"{name!r}: truncated or corrupt {fmt} data ({exc})") from None
    return DecodedImage(pixels=pixels, sha256=digest, source=name, format=fmt, mode=mode)


def _upright(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; most photos have none, and then nothing is copied."""
    if im.getexif().get(EXIF_ORIENTATION, 1) == 1:
        return im
    return ImageOps.exif_transpose(im) or im


def _to_rgb_array(im: Image.Image) -> np.ndarray:
    """Any Pillow mode to ``(H, W, 3) uint8``; high bit depths are scaled, not clipped."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        if mode.startswith("I;16"):
            scale = 65535.0
        else:
            hi = float(arr.max()) if arr.size else 0.0
            lo = float(arr.min()) if arr.size else 0.0
            if mode == "I" and lo >= 0 and hi <= 255:
                scale = 255.0
            elif mode == "I" and lo >= 0 and hi <= 65535:
                scale = 65535.0
            else:  # float or unusual range: stretch what is there
                arr = arr - lo
                scale = max(hi - lo, 1e-9)
        grey = np.clip(arr * (255.0 / scale), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if (
        mode in ("RGBA", "LA", "PA")
        or (mode == "P" and "transparency" in im.info)
        or mode == "RGBa"
    ):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, rgba)
    rgb = im.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
