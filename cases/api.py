"""Every case service, registered on import (the service layer imports this module)."""

from __future__ import annotations

from cases import exports, handover, service
from cases.exports import chart_image, dossier
from cases.handover import handover_export, handover_import
from cases.service import *  # noqa: F403 - the case services by name

__all__ = [
    "chart_image",
    "dossier",
    "exports",
    "handover",
    "handover_export",
    "handover_import",
    "service",
    *service.__all__,
]
