"""The seven built-in sources: discovery through entry points, clean ingest, determinism,
encodings and formats, identifier normalisation, generated values that are well formed."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.ingest import Ingestor
from core.model import FieldRole, entity_id
from core.normalize import id_number as norm_id
from core.normalize import plate as norm_plate
from plugins.builtin import gen_identity
from plugins.builtin.geo import GEOJSON_PATH, districts
from plugins.builtin.world import World, valid_id_number
from plugins.registry import ENTRY_POINT_GROUP, discover
from tests.builtin_fixtures import BUILTIN, SEED, Built, build_all


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    b = build_all(tmp_path_factory.mktemp("builtin"))
    yield b
    b.ws.close()


def rows(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def test_all_seven_are_discovered_through_entry_points() -> None:
    found = discover()
    assert not [f for f in found.failed if f.name in BUILTIN], found.failed
    for name in BUILTIN:
        lp = found.loaded[name]
        assert lp.origin.startswith(f"entry point {name} = plugins.builtin.sources:")
        assert lp.plugin.can_generate
        assert lp.plugin.description
        assert lp.sha256, "the module hash is recorded for the audit"
    assert ENTRY_POINT_GROUP == "superbrain.sources"


def expected_rows(name: str, count: int, seed: int = SEED) -> int:
    """``count`` rows, and in the population registry the planted identities' rows on top."""
    if name != "population":
        return count
    return count + len(gen_identity.population_rows(World(seed)))


@pytest.mark.parametrize("name", BUILTIN)
def test_each_source_ingests_every_generated_row(built: Built, name: str) -> None:
    report = built.reports[name]
    assert report.status == "done", report.summary()
    assert report.rejects == 0, report.summary()
    assert report.records == expected_rows(name, 200)
    assert built.ws.store.sources()[name] == expected_rows(name, 200)


def test_record_schemas_declare_district_facets_and_typed_identifiers() -> None:
    found = discover()
    for name in BUILTIN:
        (schema,) = found.get(name).record_schemas()
        district = schema.field("district")
        assert district is not None and district.facet, name
        assert any(f.facet and f.name != "district" for f in schema.fields), name
        assert schema.by_role(FieldRole.TEXT), name
        for spec in schema.by_role(FieldRole.IDENTIFIER):
            assert spec.normalizer, (name, spec.name)


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    found = discover()
    for name in BUILTIN:
        plugin = found.get(name)
        (a,) = plugin.generate(tmp_path / "a" / name, 150, seed=3)
        (b,) = plugin.generate(tmp_path / "b" / name, 150, seed=3)
        (c,) = plugin.generate(tmp_path / "c" / name, 150, seed=4)
        assert a.read_bytes() == b.read_bytes(), name
        assert a.read_bytes() != c.read_bytes(), name
        assert len(rows(a)) == expected_rows(name, 150, seed=3), name


def test_the_same_people_appear_across_sources(built: Built) -> None:
    residents = {norm_id(r["id_number"]) for r in rows(built.files["population"])}
    hotel_guests = {
        norm_id(r["guest_id"]) for r in rows(built.files["hotel"]) if r["guest_origin"] == "本地"
    }
    watched = {norm_id(r["id_number"]) for r in rows(built.files["watchlist"])}
    assert hotel_guests and hotel_guests <= residents
    assert watched <= residents
    plates = {r["plate"] for r in rows(built.files["population"]) if r["plate"]}
    read = {norm_plate(r["plate"]) for r in rows(built.files["checkpoint"])}
    assert len(plates & read) >= 20


def test_plate_variants_normalise_to_one_vehicle(built: Built) -> None:
    reads = rows(built.files["checkpoint"])
    by_plate: dict[str, set[str]] = {}
    for r in reads:
        by_plate.setdefault(norm_plate(r["plate"]), set()).add(r["plate"])
    canonical, variants = max(by_plate.items(), key=lambda kv: len(kv[1]))
    assert len(variants) >= 3, variants  # e.g. 浙F·12345, 浙F 12345, 浙f12345
    store = built.ws.store
    vehicle = store.get_entity(entity_id("vehicle", canonical))
    assert vehicle is not None
    n_reads = sum(1 for r in reads if norm_plate(r["plate"]) == canonical)
    passed = store.links_touching([vehicle.id], link_types=["passed"])
    assert len({link.record_uid for link in passed}) == n_reads
    raw_keys = {v.replace(" ", "").replace("·", "") for v in variants}
    for raw in raw_keys - {canonical}:
        assert store.get_entity(entity_id("vehicle", raw)) is None


def test_phone_variants_normalise_to_one_phone(built: Built) -> None:
    from core.normalize import phone

    calls = rows(built.files["cdr"])
    written = {c["caller"] for c in calls} | {c["callee"] for c in calls}
    assert any(w.startswith("+86 ") for w in written)
    assert any(" " in w and not w.startswith("+") for w in written)
    store = built.ws.store
    for w in list(written)[:50]:
        assert store.get_entity(entity_id("phone", phone(w))) is not None, w
    n_phones = store.count("entities", type="phone")
    assert n_phones < len(written)  # several written forms of one number are one entity


def test_population_gbk_export_ingests_with_chinese_intact(tmp_path: Path, workspace) -> None:
    plugin = discover().get("population")
    (path,) = plugin.generate(tmp_path, 120, seed=SEED, encoding="gbk")
    assert path.name == "population.gbk.csv"
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    expected = rows(path, encoding="gbk")
    report = Ingestor(workspace, stages=[]).ingest_file(plugin, path)
    assert (report.status, report.records, report.rejects) == (
        "done",
        expected_rows("population", 120),
        0,
    )
    first = expected[0]
    record = workspace.store.get_record(f"population:{first['id_number']}")
    assert record is not None
    assert record.text["name"] == first["name"]
    assert record.text["address"].startswith("嘉兴市")
    assert record.fields["district"] in districts()
    person = workspace.store.get_entity(entity_id("person", first["id_number"].upper()))
    assert person is not None and person.label == first["name"]


def test_hotel_xlsx_ingests_like_the_csv(tmp_path: Path, workspace) -> None:
    plugin = discover().get("hotel")
    (xlsx,) = plugin.generate(tmp_path / "x", 150, seed=SEED, fmt="xlsx")
    (csv_path,) = plugin.generate(tmp_path / "c", 150, seed=SEED)
    assert xlsx.suffix == ".xlsx"
    report = Ingestor(workspace, stages=[]).ingest_file(plugin, xlsx)
    assert (report.status, report.records, report.rejects) == ("done", 150, 0)
    first = rows(csv_path)[0]
    record = workspace.store.get_record(f"hotel:{first['checkin_id']}")
    assert record is not None
    assert record.text["hotel_name"] == first["hotel_name"]
    with pytest.raises(ValueError, match="unknown format"):
        plugin.generate(tmp_path / "z", 5, seed=SEED, fmt="ods")


def test_id_numbers_have_valid_check_digits(built: Built) -> None:
    ids = [norm_id(r["id_number"]) for r in rows(built.files["population"])]
    assert len(set(ids)) == len(ids)
    # Only the planted identities' second registrations carry a bad or 15-digit number.
    variants = {
        w.id_number
        for ident in gen_identity.identities(SEED)
        for w in ident[1:]
        if w.source == "population"
    }
    assert variants and variants <= set(ids)
    assert all(valid_id_number(i) for i in ids if i not in variants)
    assert not any(valid_id_number(i) for i in variants)
    assert not valid_id_number(ids[0][:17] + ("0" if ids[0][17] != "0" else "1"))


def test_generated_points_fall_inside_their_district(built: Built) -> None:
    outlines = districts()
    for name in ("incidents", "checkpoint", "cdr", "ebike", "hotel"):
        for r in rows(built.files[name]):
            assert outlines[r["district"]].contains(float(r["lat"]), float(r["lon"])), (name, r)


def test_district_geojson_is_the_labelled_approximate_basemap() -> None:
    import json

    data = json.loads(GEOJSON_PATH.read_text(encoding="utf-8"))
    names = {f["properties"]["name"] for f in data["features"]}
    assert names == {"南湖区", "秀洲区", "嘉善县", "平湖市", "海盐县", "海宁市", "桐乡市"}
    assert all(f["properties"]["approximate"] is True for f in data["features"])
    for d in districts().values():
        assert d.contains(*d.seat)
        others = [o for o in districts().values() if o.name != d.name]
        assert not any(o.contains(*d.seat) for o in others)


def test_watchlist_photos_reference_shared_faces_without_copying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workspace
) -> None:
    from tests.conftest import faces_dir

    plugin = discover().get("watchlist")
    faces = faces_dir()  # before the variable is cleared: it names where the photos are
    monkeypatch.delenv("SUPERBRAIN_FACES_DIR", raising=False)
    (bare,) = plugin.generate(tmp_path / "bare", 20, seed=SEED)
    assert all(r["photo"] == "" for r in rows(bare))
    if faces is None or not (faces / "lfw-small").is_dir():
        pytest.skip("shared face photos (SUPERBRAIN_FACES_DIR/lfw-small) not on this machine")
    monkeypatch.setenv("SUPERBRAIN_FACES_DIR", str(faces))
    (path,) = plugin.generate(tmp_path / "faces", 20, seed=SEED)
    photos = [r["photo"] for r in rows(path) if r["photo"]]
    identities = [Path(p).parent.name for p in photos]
    assert len(photos) == len(set(identities)) == len(list((faces / "lfw-small").iterdir()))
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in photos)
    assert not list((tmp_path / "faces").glob("**/*.jpg"))
    report = Ingestor(workspace, stages=[]).ingest_file(plugin, path)
    assert report.rejects == 0
    first = rows(path)[0]
    record = workspace.store.get_record(f"watchlist:{first['entry_id']}")
    assert record is not None and record.attachments["photo"] == first["photo"]


def test_repeated_entities_keep_first_and_last_sighting(built: Built) -> None:
    """A vehicle read many times (often within one batch) spans its first to its last read."""
    reads = rows(built.files["checkpoint"])
    counts: dict[str, int] = {}
    for r in reads:
        counts[norm_plate(r["plate"])] = counts.get(norm_plate(r["plate"]), 0) + 1
    busiest = max(counts, key=lambda k: counts[k])
    assert counts[busiest] >= 3
    store = built.ws.store
    vehicle = store.get_entity(entity_id("vehicle", busiest))
    assert vehicle is not None
    mentions = store.get_records(store.entity_record_uids(vehicle.id))
    times = [r.time for r in mentions if r.time]
    assert len(times) >= counts[busiest]  # plate reads, plus registry rows naming the car
    assert vehicle.first_seen == min(times)
    assert vehicle.last_seen == max(times)
    colours = {r["vehicle_color"] for r in reads if norm_plate(r["plate"]) == busiest}
    assert vehicle.props["color"] in colours and vehicle.props["plate"]
    device = store.get_entity(entity_id("device", reads[0]["device_id"]))
    assert device is not None and device.props["name"] == reads[0]["device_name"]
    assert device.props["kind"] == "卡口"
