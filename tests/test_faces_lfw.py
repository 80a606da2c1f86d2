"""The LFW protocol arithmetic and the shipped calibration (no embedding: that is a CLI job)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from facematch.calibration import load_calibration, parse_calibration
from facematch.errors import CalibrationError, EvaluationError
from facematch.lfw import (
    best_threshold,
    identification_sets,
    read_pairs,
    ten_fold,
    threshold_at_fmr,
)
from facematch.pipeline import PipelineOptions


def test_read_pairs_builds_folds_and_names_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text(
        "2\t1\nAnn\t1\t2\nBob\t1\tCid\t3\nDan\t4\t5\nEve\t1\tFay\t2\n", encoding="utf-8"
    )
    folds = read_pairs(path)
    assert folds == [
        [
            ("Ann/Ann_0001.jpg", "Ann/Ann_0002.jpg", True),
            ("Bob/Bob_0001.jpg", "Cid/Cid_0003.jpg", False),
        ],
        [
            ("Dan/Dan_0004.jpg", "Dan/Dan_0005.jpg", True),
            ("Eve/Eve_0001.jpg", "Fay/Fay_0002.jpg", False),
        ],
    ]
    path.write_text(
        "2\t1\nAnn\t1\t2\nBob\tx\tCid\t3\nDan\t4\t5\nEve\t1\tFay\t2\n", encoding="utf-8"
    )
    with pytest.raises(EvaluationError, match="line 3"):
        read_pairs(path)
    path.write_text("2\t1\nAnn\t1\t2\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match="expected 4 pairs"):
        read_pairs(path)


def test_best_threshold_separates_and_ten_fold_reports_mean_and_std() -> None:
    rng = np.random.default_rng(0)
    folds_s, folds_y = [], []
    for _ in range(10):
        same = rng.normal(0.95, 0.01, 30)
        diff = rng.normal(0.80, 0.03, 30)
        folds_s.append(np.concatenate([same, diff]))
        folds_y.append(np.array([True] * 30 + [False] * 30))
    t = best_threshold(np.concatenate(folds_s), np.concatenate(folds_y), higher_is_same=True)
    assert 0.85 < t < 0.94
    result = ten_fold(folds_s, folds_y, "cosine", higher_is_same=True)
    assert result.mean == pytest.approx(1.0) and result.std == pytest.approx(0.0)
    assert len(result.fold_threshold) == 10
    # distances: lower is same
    dist = ten_fold([1 - s for s in folds_s], folds_y, "euclidean", higher_is_same=False)
    assert dist.mean == pytest.approx(1.0)


def test_threshold_at_fmr_counts_impostors() -> None:
    impostor = np.linspace(0, 1, 1000)
    t = threshold_at_fmr(impostor, 0.01, higher_is_same=True)
    assert np.mean(impostor >= t) <= 0.01
    assert np.mean(impostor >= t - 0.002) > 0.009  # as permissive as allowed


def test_identification_sets_within_given_images(tmp_path: Path) -> None:
    images = [
        "A/A_0002.jpg",
        "A/A_0001.jpg",
        "B/B_0001.jpg",
        "C/C_0001.jpg",
        "C/C_0003.jpg",
        "C/C_0002.jpg",
    ]
    gallery, probes = identification_sets(tmp_path, images)
    assert gallery == ["A/A_0001.jpg", "C/C_0001.jpg"]
    assert probes == ["A/A_0002.jpg", "C/C_0002.jpg", "C/C_0003.jpg"]


def test_shipped_calibration_is_measured_and_consistent() -> None:
    cal = load_calibration()
    assert cal.descriptor_key == cal.pipeline_options().descriptor_key()
    assert cal.pipeline_options() == PipelineOptions(num_jitters=cal.num_jitters, views=cal.views)
    assert cal.lfw_accuracy >= 0.99, "the shipped descriptor setting reaches the 99% goal"
    assert 0.5 < cal.threshold < 1.0
    assert 0 < cal.fmr < 0.05 and 0.9 < cal.tar <= 1.0
    assert cal.lfw_accuracy > 0.98, "the calibration must come from a real LFW evaluation"
    sims = [row[0] for row in cal.table]
    fmrs = [row[1] for row in cal.table]
    assert sims == sorted(sims) and len(sims) > 10
    assert fmrs == sorted(fmrs, reverse=True)  # a higher score never has a higher FMR
    assert cal.fmr_at(cal.threshold + 0.02) <= cal.fmr


def test_invalid_calibration_names_the_file() -> None:
    with pytest.raises(CalibrationError, match=r"cal\.json"):
        parse_calibration({"threshold": "high"}, "cal.json")


def test_the_cache_records_what_ran_the_network(tmp_path: Path) -> None:
    """Figures quoted from a cache must say which engine computed them; rows written before
    engines were recorded were all computed by dlib."""
    from facematch.lfw import CachedFace, _row, load_cache

    vec = np.arange(128, dtype=np.float32)
    path = tmp_path / "lfw-x.jsonl"
    new = _row("A/A_0001.jpg", CachedFace(vec, 1, False, "hog", "onnxruntime 1.32.0"))
    legacy = json.loads(_row("B/B_0001.jpg", CachedFace(vec, 2, False, "cnn")))
    del legacy["engine"]
    path.write_text(new + json.dumps(legacy) + "\n", encoding="utf-8")
    cache = load_cache(path)
    assert cache["A/A_0001.jpg"].engine == "onnxruntime 1.32.0"
    assert cache["B/B_0001.jpg"].engine == "dlib"
    assert cache["B/B_0001.jpg"].detector == "cnn"
    assert np.array_equal(cache["A/A_0001.jpg"].descriptor, vec)
