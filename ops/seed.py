"""Demo units: a deterministic roster spread over the districts of ``districts.toml``."""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ops.model import Unit
    from ops.service import OpsService

#: Unit types of a precinct's roster, in the order they are handed out.
ROSTER_TYPES = ("patrol_car", "patrol_car", "community", "motorcycle", "traffic", "foot",
                "patrol_car", "special", "community", "traffic")
DISTRICT_PREFIX = {"nanhu": "NH", "xiuzhou": "XZ", "jiashan": "JS", "pinghu": "PH",
                   "haiyan": "HY", "haining": "HN", "tongxiang": "TX"}


def seed_demo_units(ops: OpsService, *, total: int | None = None, seed: int = 7,
                    spread_km: float = 4.0, user: str | None = None) -> list[Unit]:
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
                111_320 * math.cos(math.radians(district.center[0])))
            label = ops.config.unit_types[unit_type].label.split()[0]
            ops.units.add(uid, name=f"{district.precinct}{label}{k + 1:02d}", unit_type=unit_type,
                          precinct=district.precinct, district=district.name,
                          lat=None if uid in existing else lat,
                          lon=None if uid in existing else lon, user=user,
                          replace=uid in existing)
            fixes.append((uid, lat, lon, None))
    ops.units.update_positions(fixes)
    made = [ops.units.get(uid) for uid, *_ in fixes]
    return made
