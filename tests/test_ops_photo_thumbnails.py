"""Thumbnails of field and report photos (``ops.photo(max_px=…)``): bounded in size both ways,
re-encoded (nothing of the original's bytes passes), damaged input refused by name."""

from __future__ import annotations

import io

import pytest


def _image(size: tuple[int, int], fmt: str = "PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, fmt)
    return out.getvalue()


def test_a_thumbnail_is_a_jpeg_within_the_size_asked_for() -> None:
    from PIL import Image

    from ops.photos import thumbnail

    small = thumbnail(_image((1600, 900)), 96, "photo 1")
    with Image.open(io.BytesIO(small)) as img:
        assert img.format == "JPEG" and max(img.size) == 96 and img.size == (96, 54)
    tiny = thumbnail(_image((40, 30)), 1024, "photo 2")  # never enlarged
    with Image.open(io.BytesIO(tiny)) as img:
        assert img.size == (40, 30)


@pytest.mark.parametrize("max_px", [31, 1025, 0, True, "96", 96.0])
def test_a_thumbnail_size_outside_the_bounds_is_refused_naming_them(max_px: object) -> None:
    from ops.photos import InvalidPhotoError, thumbnail

    with pytest.raises(
        InvalidPhotoError,
        match=r"photo 3: max_px must be a whole number "
        r"from 32 to 1024",
    ):
        thumbnail(_image((64, 48)), max_px, "photo 3")  # type: ignore[arg-type]


def test_a_damaged_photo_is_refused_naming_it() -> None:
    from ops.photos import InvalidPhotoError, thumbnail

    with pytest.raises(InvalidPhotoError, match="photo 4: cannot be read"):
        thumbnail(_image((64, 48))[:60], 96, "photo 4")
