"""Settings read from LIVEGRAD_* environment variables, in one place."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


def available_cores() -> int:
    """Cores this process may use: the container's CPU quota if there is one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:  # cgroup v2: "max 100000" or "200000 100000"
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores or 1, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores or 1)


class Settings(BaseSettings):
    """Every knob a teacher may turn; each is documented in the README."""

    model_config = SettingsConfigDict(env_prefix="LIVEGRAD_")

    lessons_dir: Path = Field(ROOT / "lessons", description="Folder of lesson .md files.")
    max_jobs: int = Field(
        default_factory=available_cores, ge=1, le=256, description="Jobs computing at once."
    )
    max_queue: int = Field(16, ge=0, le=10_000, description="Jobs allowed to wait for a slot.")
    job_seconds: float = Field(60.0, gt=0, le=3600, description="Time budget of one job.")
    max_frames: int = Field(5000, ge=1, le=1_000_000, description="Frames one job may emit.")
    cache_mb: float = Field(
        64, ge=0, le=65_536, description="Memory for replaying finished runs (MB; 0 = off)."
    )
    cache_file: Path | None = Field(
        None, description="Keep the finished runs of the cache in this file across a restart "
        "(read at start, written at shutdown; empty: off). Not used with a Ray cluster, whose "
        "shared store outlives a replica's restart.",
    )

    @field_validator("cache_file", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        return None if value == "" else value

    rate_per_minute: int = Field(
        0, ge=0, le=100_000, description="Runs one client may start per minute (0 = no limit)."
    )
    secret: str = Field(
        "", description="Key that signs the browser-id cookie rate limits count by (empty: "
        "a random key each start; replicas behind one address need the same key).",
    )
    trusted_proxies: str = Field(
        "", description="Comma-separated proxy IPs/CIDRs whose X-Forwarded-For is believed."
    )
    executor: Literal["processes", "threads"] = Field(
        "processes", description="Where jobs compute without a cluster: worker processes "
        "(the default), or threads of the web process (for debugging a demo only).",
    )
    ray_address: str = Field(
        "", pattern=r"^(auto|[A-Za-z0-9_.\-\[\]:]+:[0-9]{1,5})?$",
        description="Run jobs on this Ray cluster: auto (this machine is one of its nodes) "
        "or the head's host:port. Not ray://: Ray Client cannot stream a task's results.",
    )
    ray_namespace: str = Field(
        "livegrad", pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="Replicas with the same namespace on one cluster share finished runs.",
    )
    stream_buffer_mb: float = Field(
        256, ge=1, le=65_536, description="Memory for events slow connections have not read "
        "yet (MB, whole server); past it, the page furthest behind is cut off.",
    )
    max_body_bytes: int = Field(
        1_000_000, ge=1024, le=1_000_000_000, description="Largest request body accepted."
    )
    dev: bool = Field(
        False, description="Development mode for lesson authors: a lesson page reloads "
        "itself when its Markdown file changes. Lesson mistakes are shown either way.",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()


def torch_threads_per_job(settings: Settings) -> int:
    """Threads each job's torch may use, so jobs × threads never exceed the cores."""
    return max(1, available_cores() // settings.max_jobs)
