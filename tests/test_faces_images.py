"""Decoding photos for the face pipeline: formats by content, modes, orientation, bad input.

Inputs are generated with Pillow in temporary folders (no image is committed).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facematch.errors import (
    FaceError,
    ImageError,
    ImageTooLargeError,
    NotAnImageError,
    TruncatedImageError,
)
from facematch.images import read_image


def gradient(w: int = 64, h: int = 48) -> Image.Image:
    x = np.linspace(0, 255, w, dtype=np.float64)[None, :].repeat(h, axis=0)
    y = np.linspace(0, 255, h, dtype=np.float64)[:, None].repeat(w, axis=1)
    rgb = np.stack([x, y, np.full_like(x, 128)], axis=2).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP"])
def test_formats_decode_by_content_whatever_the_name(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "photo.jpg"  # the name lies for all but JPEG
    gradient().save(path, fmt)
    img = read_image(path)
    assert img.format == fmt
    assert img.pixels.shape == (48, 64, 3) and img.pixels.dtype == np.uint8
    assert len(img.sha256) == 64


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    gradient(64, 48).save(path, "JPEG", exif=exif)
    img = read_image(path)
    assert (img.width, img.height) == (48, 64)


def test_greyscale_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "grey.png"
    gradient().convert("L").save(path)
    img = read_image(path)
    assert img.mode == "L" and img.pixels.shape == (48, 64, 3)
    assert (img.pixels[..., 0] == img.pixels[..., 2]).all()


def test_sixteen_bit_greyscale_is_scaled_not_clipped(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    values = np.linspace(0, 65535, 64 * 48).reshape(48, 64).astype(np.uint16)
    Image.fromarray(values).save(path)
    img = read_image(path)
    assert img.mode.startswith("I")
    grey = img.pixels[..., 0].astype(int)
    assert grey.min() == 0 and grey.max() == 255
    assert 100 < grey.mean() < 155  # a clipped conversion would be almost all 255


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "print.jpg"
    gradient().convert("CMYK").save(path, "JPEG")
    img = read_image(path)
    assert img.mode == "CMYK" and img.pixels.shape == (48, 64, 3)
    reference = np.asarray(gradient(), dtype=int)
    assert np.abs(img.pixels.astype(int) - reference).mean() < 20


def test_transparency_is_flattened_on_white(tmp_path: Path) -> None:
    path = tmp_path / "cutout.png"
    rgba = Image.new("RGBA", (32, 32), (255, 0, 0, 0))
    rgba.save(path)
    img = read_image(path)
    assert (img.pixels == 255).all()


def test_bytes_are_accepted_and_named(tmp_path: Path) -> None:
    buf = io.BytesIO()
    gradient().save(buf, "PNG")
    assert read_image(buf.getvalue(), label="upload.png").source == "upload.png"
    with pytest.raises(NotAnImageError, match=r"upload\.bin"):
        read_image(b"hello", label="upload.bin")


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("not a photo at all", encoding="utf-8")
    with pytest.raises(NotAnImageError, match=r"notes\.jpg"):
        read_image(path)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(NotAnImageError, match=r"absent\.jpg"):
        read_image(tmp_path / "absent.jpg")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(NotAnImageError, match="empty"):
        read_image(empty)


def test_unsupported_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    gradient().save(path, "GIF")
    with pytest.raises(NotAnImageError, match="supported format"):
        read_image(path)


def test_truncated_jpeg(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(buf, "JPEG", quality=95)
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(TruncatedImageError, match=r"cut\.jpg"):
        read_image(path)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (12000, 12000)).save(path)  # a few kB on disk, 144 MP when decoded
    assert path.stat().st_size < 100_000
    with pytest.raises(ImageTooLargeError, match=r"bomb\.png"):
        read_image(path)
    with pytest.raises(ImageTooLargeError, match="exceeds the limit"):
        read_image(path, max_pixels=10_000_000)
    small = tmp_path / "small.png"
    gradient().save(small)
    with pytest.raises(ImageTooLargeError):
        read_image(small, max_pixels=1000)


def test_every_decoding_error_is_a_face_error() -> None:
    for cls in (NotAnImageError, TruncatedImageError, ImageTooLargeError):
        assert issubclass(cls, ImageError) and issubclass(cls, FaceError)
