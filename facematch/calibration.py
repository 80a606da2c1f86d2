"""The calibrated decision threshold and the false-match rates measured with it.

The numbers live in ``facematch/calibration.json``, written by
``superbrain faces evaluate --lfw DIR --write-calibration`` from the LFW evaluation: the
threshold is the mean of the 10-fold accuracy-optimal thresholds on cosine similarity; the
false-match rate (FMR) of any similarity is read from the impostor distribution over every
pair of different people among the LFW photos (tens of millions of pairs).
"""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facematch.errors import CalibrationError

if TYPE_CHECKING:
    from facematch.pipeline import PipelineOptions

log = logging.getLogger(__name__)

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    """The operating point for cosine similarity between unit descriptors.

    Attributes
    ----------
    threshold:
        Similarities at or above this are reported as ``above_threshold``.
    fmr:
        False-match rate at ``threshold``: the share of different-person pairs that score
        at or above it on LFW.
    tar:
        True-accept rate at ``threshold`` (same-person pairs at or above it) on LFW.
    descriptor_key:
        The model and descriptor setting (jitters, views) the numbers were measured with;
        galleries embed with the same setting (``num_jitters``, ``views``).
    table:
        ``(similarity, fmr, tar)`` rows, ascending similarity, for :meth:`fmr_at`.
    """

    threshold: float
    fmr: float
    tar: float
    descriptor_key: str
    lfw_accuracy: float
    table: tuple[tuple[float, float, float], ...]
    num_jitters: int = 0
    views: str = "plain"
    source: str = ""

    def fmr_at(self, similarity: float) -> float:
        """The false-match rate of accepting at ``similarity`` (interpolated; conservative)."""
        rows = self.table
        if not rows:
            return self.fmr
        if similarity <= rows[0][0]:
            return rows[0][1]
        for (s0, f0, _), (s1, _f1, _) in itertools.pairwise(rows):
            if s0 <= similarity <= s1:
                return f0  # the lower row's (higher) FMR: never claims more than measured
        return rows[-1][1]

    def pipeline_options(self) -> PipelineOptions:
        """The descriptor setting these numbers hold for: what a gallery must embed with."""
        from facematch.pipeline import PipelineOptions

        return PipelineOptions(num_jitters=self.num_jitters, views=self.views)

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "fmr": self.fmr,
            "tar": self.tar,
            "descriptor_key": self.descriptor_key,
            "lfw_accuracy": self.lfw_accuracy,
            "source": self.source,
        }


def parse_calibration(data: dict[str, Any], source: str) -> Calibration:
    try:
        table = tuple(
            sorted(
                (float(r["similarity"]), float(r["fmr"]), float(r["tar"]))
                for r in data.get("table", [])
            )
        )
        return Calibration(
            threshold=float(data["threshold"]),
            fmr=float(data["fmr"]),
            tar=float(data["tar"]),
            descriptor_key=str(data["descriptor_key"]),
            lfw_accuracy=float(data.get("lfw_accuracy", 0.0)),
            table=table,
            num_jitters=int(data.get("num_jitters", 0)),
            views=str(data.get("views", "plain")),
            source=source,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CalibrationError(f"{source!r}: invalid calibration data ({exc!r})") from None


@lru_cache(maxsize=4)
def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    """Read the calibration file shipped with the package (or another one)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CalibrationError(f"{str(path)!r}: cannot read the face calibration ({exc})") from None
    return parse_calibration(data, str(path))


def write_calibration(data: dict[str, Any], path: Path = CALIBRATION_FILE) -> None:
    """Validate and write calibration data (from :func:`facematch.lfw.calibrate`)."""
    parse_calibration(data, str(path))
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    load_calibration.cache_clear()
