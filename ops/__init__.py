"""Operations: incident intake, routing, unit dispatch, alerts, hotspots and metrics.

Open :class:`ops.service.OpsService` on a workspace; see docs/OPERATIONS.md. No Qt here: the
dispatch board and the alert tray in ``console/`` are views over this package.
"""
