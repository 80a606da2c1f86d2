"""Written forms of plates, phones and ID numbers → one canonical key (issue #18, item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import normalize

PLATES = [
    ("浙A00001", "浙A00001"),
    ("ZHE A 00001", "浙A00001"),  # pinyin province abbreviation
    ("zhe a00001", "浙A00001"),
    ("Zhe-A-00001", "浙A00001"),
    ("ZJ A00001", "浙A00001"),  # two-letter administrative code
    ("浙A·00001", "浙A00001"),
    ("浙A•00001", "浙A00001"),
    ("浙 A 00001", "浙A00001"),
    ("浙A-00001", "浙A00001"),
    ("浙A_00001", "浙A00001"),
    ("浙A/00001", "浙A00001"),
    ("浙Ａ００００１", "浙A00001"),  # full-width
    ("浙AOOOO1", "浙A00001"),  # O typed for 0 (plates use no O after the city letter)
    ("浙AI2345", "浙A12345"),  # I typed for 1
    ("SU E 12345", "苏E12345"),
    ("YUE B D12345", "粤BD12345"),  # eight characters: new-energy plate
    ("粤BD12345", "粤BD12345"),
    ("HU A-12345", "沪A12345"),
    ("JING A 12345", "京A12345"),
    ("JIN A 12345", "JINA12345"),  # ambiguous (津 or 晋): left as written, not guessed
]


@pytest.mark.parametrize(("written", "canonical"), PLATES)
def test_plate_written_forms(written: str, canonical: str) -> None:
    assert normalize.plate(written) == canonical


PHONES = [
    ("13905750001", "13905750001"),
    ("139 0575 0001", "13905750001"),
    ("139-0575-0001", "13905750001"),
    ("+86 139-0575-0001", "13905750001"),
    ("0086 13905750001", "13905750001"),
    ("86-13905750001", "13905750001"),
    ("(+86)139 0575 0001", "13905750001"),
    ("１３９０５７５０００１", "13905750001"),  # full-width
    ("139O575OOO1", "13905750001"),  # letter O typed for zero
    ("l3905750001", "13905750001"),  # letter l typed for one
    ("0575-8765 4321", "057587654321"),
    ("0575-87654321转123", "057587654321"),  # extension dropped
    ("0575-87654321 ext. 9", "057587654321"),
]


@pytest.mark.parametrize(("written", "canonical"), PHONES)
def test_phone_written_forms(written: str, canonical: str) -> None:
    assert normalize.phone(written) == canonical


IDS = [
    ("11010519491231002X", "11010519491231002X", True),
    ("11010519491231002x", "11010519491231002X", True),
    (" 1101 0519 4912 3100 2X ", "11010519491231002X", True),
    ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", True),
    ("110105194912310021", "110105194912310021", False),  # wrong check digit
    ("110105194913310029", "110105194913310029", False),  # month 13
    ("110105491231002", "110105491231002", True),  # old 15-digit number
    ("11010519491231", "11010519491231", False),  # too short
]


@pytest.mark.parametrize(("written", "canonical", "valid"), IDS)
def test_id_number_written_forms_and_check_digit(written: str, canonical: str, valid: bool) -> None:
    assert normalize.id_number(written) == canonical
    assert normalize.id_number_valid(written) is valid


def test_invalid_id_number_is_flagged_not_dropped(tmp_path: Path) -> None:
    import tomllib

    from plugins.contract import Row
    from plugins.mapping import MappingSource, parse_mapping

    source = MappingSource(
        parse_mapping(
            tomllib.loads(
                '[source]\nname = "people"\nid = ["sfz"]\n'
                '[fields]\nid_number = { column = "sfz", role = "identifier", '
                'normalizer = "id_number" }\n'
                '[entities.p]\ntype = "person"\nkey = "id_number"\n'
            ),
            "test",
        )
    )
    bad = source.to_record(Row(2, {"sfz": "110105194912310021"}), tmp_path / "x.csv")
    good = source.to_record(Row(3, {"sfz": "11010519491231002x"}), tmp_path / "x.csv")
    assert bad.entities[0].key == "110105194912310021"
    assert bad.entities[0].props["id_valid"] is False
    assert good.entities[0].key == "11010519491231002X" and "id_valid" not in good.entities[0].props


def test_two_written_forms_of_one_car_are_one_vehicle(tmp_path: Path) -> None:
    import tomllib

    from plugins.contract import Row
    from plugins.mapping import MappingSource, parse_mapping

    source = MappingSource(
        parse_mapping(
            tomllib.loads(
                '[source]\nname = "reads"\nid = ["n"]\n[fields]\n'
                'plate = { column = "车牌", role = "identifier", normalizer = "plate" }\n'
                '[entities.car]\ntype = "vehicle"\nkey = "plate"\n'
            ),
            "test",
        )
    )
    a = source.to_record(Row(2, {"n": "1", "车牌": "浙A00001"}), tmp_path / "x.csv")
    b = source.to_record(Row(3, {"n": "2", "车牌": "ZHE A 00001"}), tmp_path / "x.csv")
    assert a.entities[0].id == b.entities[0].id == "vehicle:浙A00001"
