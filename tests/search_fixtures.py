"""Records and schemas the search tests share (one corpus for every backend)."""

from __future__ import annotations

from datetime import datetime

from core.model import EntityRef, FieldRole, FieldSpec, Record, RecordSchema

INCIDENT = RecordSchema(
    "incident",
    "Incident",
    (
        FieldSpec("summary", FieldRole.TEXT),
        FieldSpec("category", FieldRole.KEYWORD, facet=True),
        FieldSpec("district", FieldRole.KEYWORD, facet=True),
        FieldSpec("plate", FieldRole.IDENTIFIER, normalizer="plate"),
        FieldSpec("phone", FieldRole.IDENTIFIER, normalizer="phone"),
        FieldSpec("loss", FieldRole.NUMBER),
        FieldSpec("reported", FieldRole.TIME),
    ),
)
PERSON = RecordSchema(
    "person",
    "Person",
    (
        FieldSpec("name", FieldRole.TEXT),
        FieldSpec("id_number", FieldRole.IDENTIFIER, normalizer="id_number"),
        FieldSpec("phone", FieldRole.IDENTIFIER, normalizer="phone"),
        FieldSpec("district", FieldRole.KEYWORD, facet=True),
        FieldSpec("age", FieldRole.NUMBER),
    ),
)
SCHEMAS = (INCIDENT, PERSON)


def _inc(
    i: int,
    summary: str,
    category: str,
    district: str,
    when: str,
    *,
    plate: str = "",
    phone: str = "",
    loss: float | None = None,
    geo: tuple[float, float] | None = None,
) -> Record:
    fields: dict[str, object] = {"category": category, "district": district, "reported": when}
    if plate:
        fields["plate"] = plate
    if phone:
        fields["phone"] = phone
    if loss is not None:
        fields["loss"] = loss
    return Record(
        source="incidents",
        id=f"I{i:03d}",
        type="incident",
        time=datetime.fromisoformat(when),
        geo=geo,
        text={"summary": summary},
        fields=fields,
    )


def corpus() -> list[Record]:
    """21 records: Chinese phrases and scattered characters, names, plates, phones, IDs."""
    hz = (30.2741, 120.1551)  # Hangzhou West Lake
    far = (30.5, 120.6)
    recs = [
        _inc(
            1,
            "嫌疑人入室盗窃后驾车逃离现场",
            "盗窃",
            "西湖区",
            "2024-01-05T09:30:00",
            plate="浙A·88888",
            loss=12000,
            geo=hz,
        ),
        _inc(
            2,
            "入户后在卧室盗取现金，室内凌乱",
            "盗窃",
            "上城区",
            "2024-01-06T10:00:00",
            loss=3000,
            geo=(30.2500, 120.1700),
        ),
        _inc(
            3,
            "夜间发生入室盗窃案件，王建国报警",
            "盗窃",
            "西湖区",
            "2024-01-07T22:15:00",
            phone="+86 138-0013-8000",
            loss=8000,
            geo=(30.2800, 120.1500),
        ),
        _inc(4, "王建军与王国建发生纠纷", "纠纷", "拱墅区", "2024-01-08T14:00:00", geo=far),
        _inc(
            5,
            "Suspect vehicle 浙D·12345 seen near the bank",
            "可疑车辆",
            "西湖区",
            "2024-01-09T08:00:00",
            plate="浙D·12345",
            geo=hz,
        ),
        _inc(
            6,
            "Burglary reported at warehouse, suspect fled on foot",
            "盗窃",
            "滨江区",
            "2024-01-10T03:20:00",
            loss=50000,
        ),
        _inc(
            7,
            "电信诈骗，受害人被骗5万元，诈骗电话13900139000",
            "诈骗",
            "余杭区",
            "2024-01-11T16:45:00",
            loss=50000,
        ),
        _inc(
            8,
            "车辆浙d12345违停，车主电话0571-8765 4321",
            "交通",
            "西湖区",
            "2024-01-12T11:11:00",
            phone="0571-87654321",
        ),
        _inc(
            9,
            "fraud call from +86 139 0013 9000 about a parcel",
            "诈骗",
            "上城区",
            "2024-01-13T19:00:00",
        ),
        _inc(
            10,
            "Burglar entered through the window of a flat",
            "盗窃",
            "拱墅区",
            "2024-01-14T02:00:00",
            loss=700,
        ),
        _inc(
            11,
            "Wang Jianguo reported a stolen bicycle",
            "盗窃",
            "西湖区",
            "2024-01-15T07:30:00",
            loss=400,
        ),
        _inc(
            12,
            "警方在浙D 12345车内发现可疑物品",
            "可疑车辆",
            "滨江区",
            "2024-01-16T13:00:00",
            plate="浙D 12345",
        ),
        _inc(
            13, "盗窃电动车一辆，嫌疑人入室未遂", "盗窃", "余杭区", "2024-01-17T05:00:00", loss=2500
        ),
        _inc(
            14,
            "burglary burglary burglary in the same block",
            "盗窃",
            "上城区",
            "2024-01-18T23:00:00",
        ),
        _inc(
            15, "Bulgary typo in the report of a break-in", "盗窃", "上城区", "2024-01-19T23:30:00"
        ),
    ]
    recs += [
        Record(
            source="population",
            id="P001",
            type="person",
            time=datetime(2023, 6, 1, 9, 0),
            text={"name": "王建国"},
            fields={
                "id_number": "330102 19900101 123x",
                "phone": "13800138000",
                "district": "西湖区",
                "age": 34,
            },
            entities=(EntityRef("person", "33010219900101123X", "王建国"),),
        ),
        Record(
            source="population",
            id="P002",
            type="person",
            time=datetime(2023, 6, 2, 9, 0),
            text={"name": "王建军"},
            fields={
                "id_number": "330102199205054321",
                "phone": "+86 139-0013-9000",
                "district": "拱墅区",
                "age": 32,
            },
        ),
        Record(
            source="population",
            id="P003",
            type="person",
            time=datetime(2023, 6, 3, 9, 0),
            text={"name": "李娜 Li Na"},
            fields={
                "id_number": "330106198807078888",
                "phone": "13700137000",
                "district": "上城区",
                "age": 36,
            },
        ),
        Record(
            source="population",
            id="P004",
            type="person",
            time=datetime(2023, 6, 4, 9, 0),
            text={"name": "John Smith 约翰"},
            fields={"id_number": "110101197001011111", "district": "滨江区", "age": 54},
        ),
        Record(
            source="population",
            id="P005",
            type="person",
            time=datetime(2023, 6, 5, 9, 0),
            text={"name": "建国 王"},
            fields={"district": "余杭区", "age": 20},
        ),
        Record(
            source="population",
            id="P006",
            type="person",
            time=datetime(2023, 6, 6, 9, 0),
            text={"name": "赵六"},
            fields={"district": "西湖区", "age": 61, "note": "no id"},
        ),
    ]
    return recs
