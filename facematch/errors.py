"""The face-matching exception root and its precise subclasses.

Every message names the culprit (the file, the face id, the missing field), so an operator can
act on it without reading a traceback.
"""

from __future__ import annotations

from core.errors import SuperbrainError


class FaceError(SuperbrainError):
    """Root of every error the face-matching engine raises on purpose."""


class ImageError(FaceError):
    """An image cannot be used: the base class of the decoding errors below."""


class NotAnImageError(ImageError):
    """The file is not an image in a supported format (JPEG, PNG, WebP, BMP)."""


class TruncatedImageError(ImageError):
    """The image data ends early or is corrupt (e.g. a partly copied JPEG)."""


class ImageTooLargeError(ImageError):
    """The image has more pixels than the configured limit (a decompression bomb guard)."""


class NoFaceError(FaceError):
    """No face was found in the image."""


class FaceIndexError(FaceError):
    """The face index cannot be read, written or is inconsistent with its metadata."""


class UnknownFaceError(FaceError):
    """A face id, record or candidate is not in the gallery."""


class SafeguardError(FaceError):
    """A search or verification was refused: case number or purpose missing, or misuse."""


class CalibrationError(FaceError):
    """The calibration data file is missing or invalid."""


class EvaluationError(FaceError):
    """The LFW evaluation cannot run (missing folder, pairs file, or unreadable pairs)."""
