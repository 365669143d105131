from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueSettings:
    max_recalls: int = 2
    no_show_policy: str = "requeue"  # or "out"

    @classmethod
    def from_config(cls, config) -> QueueSettings:
        return cls(
            max_recalls=int(config.get("MAX_RECALLS", 2)),
            no_show_policy=str(config.get("NO_SHOW_POLICY", "requeue")),
        )

    @classmethod
    def for_project(cls, project, config) -> QueueSettings:
        """The project's own rules where it sets them (admin settings), else the server's."""
        base = cls.from_config(config)
        return cls(
            max_recalls=base.max_recalls if project.max_recalls is None else project.max_recalls,
            no_show_policy=project.no_show_policy or base.no_show_policy,
        )
