"""State machines declared as data (``resources/ops/states.toml``): units and incidents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ops.errors import InvalidTransitionError, OpsConfigError


@dataclass(frozen=True)
class StateMachine:
    """The states something may be in and the moves allowed between them.

    Attributes
    ----------
    name:
        ``"unit"`` or ``"incident"`` (used in messages).
    initial:
        The state a new unit or incident starts in.
    transitions:
        State → states it may move to.
    labels:
        State → label shown to operators (Chinese and English).
    extra:
        The other keys of the table (e.g. ``recommendable``, ``release_to``, ``open``).
    """

    name: str
    initial: str
    transitions: Mapping[str, tuple[str, ...]]
    labels: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def states(self) -> list[str]:
        return list(self.transitions)

    def allowed(self, current: str) -> list[str]:
        return list(self.transitions.get(current, ()))

    def can(self, current: str, requested: str) -> bool:
        return requested in self.transitions.get(current, ())

    def check(self, subject: str, current: str, requested: str) -> None:
        """Raise :class:`InvalidTransitionError` naming ``subject`` unless the move is allowed."""
        if requested not in self.transitions:
            raise InvalidTransitionError(subject, current, requested, self.allowed(current))
        if not self.can(current, requested):
            raise InvalidTransitionError(subject, current, requested, self.allowed(current))

    def label(self, state: str) -> str:
        return self.labels.get(state, state)


def parse_state_machine(name: str, table: Mapping[str, Any], where: str) -> StateMachine:
    """Validate one ``[name]`` table; every target must be a declared state."""
    if not isinstance(table, Mapping):
        raise OpsConfigError(f"{where}: missing [{name}] table")
    raw = table.get("transitions")
    if not isinstance(raw, Mapping) or not raw:
        raise OpsConfigError(f"{where}: [{name}.transitions] missing or empty")
    transitions: dict[str, tuple[str, ...]] = {}
    for state, targets in raw.items():
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise OpsConfigError(
                f"{where}: [{name}.transitions] {state}: expected a list of state names"
            )
        transitions[state] = tuple(targets)
    for state, targets in transitions.items():
        for t in targets:
            if t not in transitions:
                raise OpsConfigError(
                    f"{where}: [{name}.transitions] {state}: target {t!r} is "
                    f"not a declared state ({', '.join(transitions)})"
                )
    initial = table.get("initial")
    if initial not in transitions:
        raise OpsConfigError(f"{where}: [{name}] initial {initial!r} is not a declared state")
    extra = {k: v for k, v in table.items() if k not in ("transitions", "labels", "initial")}
    for key in ("recommendable", "open"):
        for s in extra.get(key, []):
            if s not in transitions:
                raise OpsConfigError(f"{where}: [{name}] {key}: {s!r} is not a declared state")
    for src, dst in (extra.get("release_to") or {}).items():
        if src not in transitions or dst not in transitions.get(src, ()):
            raise OpsConfigError(
                f"{where}: [{name}] release_to: {src!r} → {dst!r} is not an allowed transition"
            )
    return StateMachine(name, str(initial), transitions, dict(table.get("labels") or {}), extra)
