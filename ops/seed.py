"""Demo units: a deterministic roster spread over the districts of ``districts.toml``."""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ops.model import Unit
    from ops.service import OpsService

#: Unit types of a precinct's roster, in the order they are handed out.
ROSTER_TYPES = (
    "patrol_car",
    "patrol_car",
    "community",
    "motorcycle",
    "traffic",
    "foot",
    "patrol_car",
    "special",
    "community",
    "traffic",
)
DISTRICT_PREFIX = {
    "nanhu": "NH",
    "xiuzhou": "XZ",
    "jiashan": "JS",
    "pinghu": "PH",
    "haiyan": "HY",
    "haining": "HN",
    "tongxiang": "TX",
}


def seed_demo_units(
    ops: OpsService,
    *,
    total: int | None = None,
    seed: int = 7,
    spread_km: float = 4.0,
    user: str | None = None,
) -> list[Unit]:
    """Create (or refresh) demo units across the districts, positioned near each centre.

    Parameters
    ----------
    total:
        Number of units; default: the sum of ``demo_units`` in ``districts.toml`` (40).
        Spread over districts in proportion to ``demo_units``.
    seed:
        Same seed, same units and positions.
    spread_km:
        Units are placed uniformly within this radius of their district centre.

    Existing units with the same ids keep their status; their position is refreshed.
    """
    rng = random.Random(seed)
    districts = list(ops.config.districts.values())
    weights = [max(1, d.demo_units) for d in districts]
    total = total or sum(d.demo_units for d in districts) or 40
    counts = [int(total * w / sum(weights)) for w in weights]
    for i in range(total - sum(counts)):
        counts[i % len(counts)] += 1
    fixes = []
    existing = {u.id for u in ops.units.list()}
    for district, n in zip(districts, counts, strict=True):
        prefix = DISTRICT_PREFIX.get(district.code, district.code[:2].upper())
        for k in range(n):
            unit_type = ROSTER_TYPES[k % len(ROSTER_TYPES)]
            if unit_type not in ops.config.unit_types:
                unit_type = next(iter(ops.config.unit_types))
            uid = f"{prefix}-{k + 1:02d}"
            r = spread_km * 1000 * math.sqrt(rng.random())
            theta = rng.random() * 2 * math.pi
            lat = district.center[0] + r * math.cos(theta) / 111_320
            lon = district.center[1] + r * math.sin(theta) / (
                111_320 * math.cos(math.radians(district.center[0]))
            )
            label = ops.config.unit_types[unit_type].label.split()[0]
            ops.units.add(
                uid,
                name=f"{district.precinct}{label}{k + 1:02d}",
                unit_type=unit_type,
                precinct=district.precinct,
                district=district.name,
                lat=None if uid in existing else lat,
                lon=None if uid in existing else lon,
                user=user,
                replace=uid in existing,
            )
            fixes.append((uid, lat, lon, None))
    ops.units.update_positions(fixes, via="seed")
    made = [ops.units.get(uid) for uid, *_ in fixes]
    return made


#: The demo's live shift: (minutes ago, category, priority, district code, lifecycle, text).
#: Lifecycle: "on_scene" (a unit arrived), "dispatched" (a unit on its way), "accepted" (taken,
#: no unit yet), "" (just received).
LIVE_SHIFT = (
    (
        52,
        "纠纷",
        3,
        "nanhu",
        "on_scene",
        "邻里因停车位发生争执，双方情绪激动。Neighbours arguing over a parking space.",
    ),
    (
        41,
        "盗窃",
        3,
        "xiuzhou",
        "dispatched",
        "报警人称电动车在小区车棚被盗。E-bike stolen from a residential shed.",
    ),
    (
        29,
        "交通事故",
        1,
        "jiashan",
        "dispatched",
        "两车相撞，一人受伤，需要救护。Two-car collision, one injured.",
    ),
    (
        17,
        "火警",
        1,
        "pinghu",
        "accepted",
        "仓库冒出浓烟，119已出动。Smoke from a warehouse; fire brigade called.",
    ),
    (
        11,
        "可疑人员",
        2,
        "haining",
        "",
        "小区内有可疑人员反复查看车辆。Someone trying car doors in a residential area.",
    ),
    (
        8,
        "诈骗",
        3,
        "tongxiang",
        "",
        "受害人接到冒充客服电话被骗转账。Victim tricked into a transfer by a fake service call.",
    ),
    (6, "噪音扰民", 4, "nanhu", "", "楼上装修噪音持续到深夜。Renovation noise late at night."),
    (
        4,
        "纠纷",
        2,
        "haiyan",
        "",
        "饭店内顾客与店员发生肢体冲突。Fight between a customer and staff in a restaurant.",
    ),
    (
        2,
        "入室盗窃",
        2,
        "xiuzhou",
        "",
        "住户回家发现门锁被撬。Resident came home to a forced door lock.",
    ),
)


def seed_live_shift(
    ops: OpsService, *, now: float | None = None, seed: int = 7, user: str | None = None
) -> list[int]:
    """Take in the demo's live shift: incidents received in the last hour (relative to ``now``)
    at different stages, so the dispatch board shows running timers, units on their way and
    an overdue priority-1 incident. Units must exist (:func:`seed_demo_units`).

    Returns the new incident ids. Every step goes through the ops services (routed, state
    machine checked, audited), as if a commander had done it.
    """
    from datetime import UTC, datetime

    rng = random.Random(seed)
    now = ops.ctx.clock() if now is None else now
    made = []
    for minutes, category, priority, code, stage, text in LIVE_SHIFT:
        district = ops.config.districts.get(code)
        if district is None:
            continue
        lat = district.center[0] + rng.uniform(-0.02, 0.02)
        lon = district.center[1] + rng.uniform(-0.02, 0.02)
        received = datetime.fromtimestamp(now - minutes * 60, UTC)
        inc = ops.incidents.create(
            category,
            priority,
            lat=lat,
            lon=lon,
            district=district.name,
            text=text,
            received_at=received,
            user=user,
        )
        made.append(inc.id)
        if not stage:
            continue
        ops.incidents.accept(inc.id, user=user)
        if stage == "accepted":
            continue
        best = ops.dispatch.recommend(inc.id, limit=1)
        if not best:
            continue
        unit = best[0].unit_id
        ops.dispatch.assign(inc.id, unit, user=user)
        if stage == "on_scene":
            ops.units.set_status(unit, "on_scene", user=user)
    return made
