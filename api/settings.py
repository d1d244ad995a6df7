"""Settings of the grading service, read from the environment (pydantic-settings).

Every field can be set with an environment variable ``GRADER_<FIELD>`` (upper case), e.g.
``GRADER_DATA_DIR=/srv/grader``; the database and Redis URLs also accept the conventional
``DATABASE_URL`` and ``REDIS_URL``. The command line (``python -m api serve --data-dir ...``) overrides
the environment. Worker processes started by the service inherit the settings through the
environment (``Settings.to_env``), so every process of one deployment agrees on them.
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration of one deployment (API service and its workers)."""

    model_config = SettingsConfigDict(env_prefix="GRADER_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default=Path("var"), description="uploads, job logs and the default SQLite file")
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "GRADER_DATABASE_URL", "database_url"),
        description="SQLAlchemy URL; default sqlite:///<data_dir>/grader.db",
    )
    queue: Literal["local", "rq"] = Field(default="local", description="local worker pool, or Redis + RQ")
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "GRADER_REDIS_URL", "redis_url"),
    )
    rq_queue_name: str = "grading"
    workers: int = Field(default=2, ge=0, description="local grading worker processes started by `serve`")
    http_workers: int = Field(default=1, ge=1, description="HTTP processes of `serve` (>1: a supervisor starts them)")

    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    max_in_flight: int = Field(default=5, ge=1, description="queued+running submissions allowed per student")

    grader_command: str = Field(
        default=f"{shlex.quote(sys.executable)} -m grader",
        description="command prefix; the job appends `grade ARCHIVE --assignment A --out results.json`",
    )
    datasets_dir: Path | None = Field(
        default=None, description="a folder holding cifar-10-batches-py/ (official format) that the notebooks see "
        "read-only (the grader reads GRADER_DATASETS_DIR); unset: a notebook that needs CIFAR-10 is reported as "
        "not gradable here and left out of the maximum")
    grade_notebooks: bool = Field(default=True, description="run the submission's notebooks in the sandbox as "
                                  "part of each grade (question NB); off: code questions only")
    train_ahead: bool = Field(default=False, description="each grade trains its training checks in a second "
                              "sandbox while the unit checks run (a quicker single grade, more CPU per grade); "
                              "off: one worker per grade, the workers use the cores (`grade --no-train-ahead`)")
    job_timeout: float = Field(default=1500.0, gt=0, description="seconds one grade may take (the manifest's "
                               "limits allow 200 s of code checks and 1050 s of notebooks)")
    grader_sched_idle: bool = Field(
        default=True,
        description="run the grader processes (and the sandboxes they start) under the SCHED_IDLE CPU policy: "
                    "grading is batch work and gets the CPU time that requests leave over, so a burst of uploads "
                    "is acknowledged at once even while every worker grades; with nothing else to do it grades "
                    "at full speed (under sustained full load by requests it waits). Off: normal policy with "
                    "niceness `grader_nice`, a guaranteed share")
    grader_nice: int = Field(default=5, ge=0, le=19,
                             description="niceness of the grader processes when `grader_sched_idle` is off")
    course_timezone: str = Field(default="UTC", description="the course's time zone (IANA name, e.g. "
                                 "Europe/Paris): the page shows times in it, and a due date given without an "
                                 "offset is read in it; the database and the API keep UTC")
    lease_seconds: float = Field(default=30.0, gt=0, description="a claim expires this long after its last heartbeat")
    max_attempts: int = Field(default=3, ge=1, description="claims of one submission before it is marked error")
    poll_interval: float = Field(default=0.5, gt=0, description="local workers: seconds between looks for work")
    reaper_interval: float = Field(default=2.0, gt=0, description="seconds between scans for expired leases")

    @field_validator("course_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def db_url(self) -> str:
        """The database URL in force (SQLite file under the data directory unless configured)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'grader.db').resolve()}"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def heartbeat_interval(self) -> float:
        return max(0.2, self.lease_seconds / 3.0)

    def grader_argv(self) -> list[str]:
        return shlex.split(self.grader_command)

    def ensure_dirs(self) -> None:
        for d in (self.data_dir, self.uploads_dir, self.jobs_dir):
            d.mkdir(parents=True, exist_ok=True)

    def to_env(self) -> dict[str, str]:
        """Environment variables that reproduce these settings in a child process (every field)."""
        env = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is not None:
                env[f"GRADER_{name.upper()}"] = str(value.resolve() if isinstance(value, Path) else value)
        env["DATABASE_URL"] = env["GRADER_DATABASE_URL"] = self.db_url
        env["REDIS_URL"] = self.redis_url
        return env


def load_settings(**overrides) -> Settings:
    """Settings from the environment, with ``overrides`` (non-None values) taking precedence."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    settings = Settings(**clean)
    settings.data_dir = Path(settings.data_dir).resolve()
    return settings
