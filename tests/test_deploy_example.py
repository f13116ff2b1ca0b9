"""The compose example for a class keeps its promises (parsed, since Docker can't run here).

Each promise is a check function over the parsed, interpolated file; every check also
runs against a copy of the file broken in exactly that respect, so each can fail. The
web replicas' start-up script is run for real, with stand-ins for `ray` and `uvicorn`.
"""

from __future__ import annotations

import copy
import os
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from app.config import ROOT, Settings

DEPLOY = ROOT / "deploy"
RAY_SERVICES = ("livegrad", "ray-head", "ray-worker")  # every process that speaks to Ray


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ``${NAME}``, ``${NAME-default}``, ``${NAME:-default}`` and ``$$``."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(match: re.Match[str]) -> str:
        name, op, default = match.group(1), match.group(2) or "", match.group(3) or ""
        if op == ":-":
            return env.get(name) or default
        return env.get(name, default)

    value = re.sub(r"(?<!\$)\$\{(\w+)(?:(:?-)([^}]*))?\}", sub, value)
    return value.replace("$$", "$")


def load(env: dict[str, str] | None = None) -> dict[str, Any]:
    """deploy/compose.yaml as compose would run it with ``env`` in the shell."""
    raw = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return interpolate(raw, env or {})


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load()


def argv(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    assert command, "no command"
    return shlex.split(command) if isinstance(command, str) else list(command)


def option(words: list[str], name: str) -> str | None:
    for i, word in enumerate(words):
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
        if word == name and i + 1 < len(words):
            return words[i + 1]
    return None


def replicas(service: dict[str, Any]) -> int:
    return int(service.get("deploy", {}).get("replicas", 1))


def limits(service: dict[str, Any]) -> dict[str, Any]:
    return service.get("deploy", {}).get("resources", {}).get("limits", {})


def shm_bytes(service: dict[str, Any]) -> int:
    for volume in service.get("volumes", []):
        if isinstance(volume, dict) and volume.get("target") == "/dev/shm":
            return int(volume.get("tmpfs", {}).get("size", 0))
    return 0


def head_port(compose: dict[str, Any]) -> str:
    words = argv(compose["services"]["ray-head"])
    assert "--head" in words, "ray-head does not start a Ray head"
    return option(words, "--port") or "6379"


def web_script(compose: dict[str, Any]) -> str:
    words = argv(compose["services"]["livegrad"])
    assert words[:2] == ["sh", "-c"], f"livegrad's command is not a sh -c script: {words}"
    return words[2]


# --- the checks -----------------------------------------------------------------------


def check_replicas_behind_a_proxy(compose: dict[str, Any]) -> None:
    app, proxy = compose["services"]["livegrad"], compose["services"]["proxy"]
    assert replicas(app) >= 2, "fewer than two web replicas"
    assert "8000:8000" in proxy.get("ports", []), "nginx does not publish port 8000"
    assert app["environment"].get("LIVEGRAD_TRUSTED_PROXIES"), "nginx is not a trusted proxy"
    assert "livegrad" in proxy.get("depends_on", []), "nginx starts before the replicas"


def check_one_image_everywhere(compose: dict[str, Any]) -> None:
    """Web replicas and Ray nodes run the same build, so `app` imports in Ray workers."""
    services = compose["services"]
    for name in RAY_SERVICES:
        assert services[name].get("build") == "..", f"{name} is not built from the repository"
    images = {services[name].get("image") for name in RAY_SERVICES}
    assert len(images) == 1 and None not in images, f"not one image for all: {images}"


def check_ray_head_and_workers(compose: dict[str, Any]) -> None:
    head, worker = compose["services"]["ray-head"], compose["services"]["ray-worker"]
    port = head_port(compose)
    words = argv(worker)
    assert words[:2] == ["ray", "start"], f"ray-worker does not start a Ray node: {words}"
    assert option(words, "--address") == f"ray-head:{port}", "workers do not join the head"
    for name, service in (("ray-head", head), ("ray-worker", worker)):
        assert "--block" in argv(service), f"{name}: without --block the container exits"
        assert service.get("healthcheck", {}).get("disable") is True, (
            f"{name} keeps the image's HTTP health check, which no Ray node answers")
        assert not service.get("ports"), f"{name} publishes Ray's ports"
    assert option(argv(head), "--num-cpus") == "0", "jobs would compete with the head's GCS"
    assert "ray-head" in worker.get("depends_on", []), "workers start before the head"


def check_web_replicas_use_the_head(compose: dict[str, Any]) -> None:
    app = compose["services"]["livegrad"]
    address = app["environment"].get("LIVEGRAD_RAY_ADDRESS")
    assert address == f"ray-head:{head_port(compose)}", (
        f"web replicas send jobs to {address!r}, not to the head")
    assert "ray-head" in app.get("depends_on", []), "replicas start before the head"
    assert not app.get("ports"), "a replica publishes a port: students must go through nginx"
    assert "ray start" in web_script(compose), "a replica is not a Ray node: ray.init fails"


def check_settings_are_real_and_valid(compose: dict[str, Any]) -> None:
    """Every LIVEGRAD_* variable names a setting, and its value passes validation."""
    for name in RAY_SERVICES:
        values = {}
        for key, value in compose["services"][name].get("environment", {}).items():
            if not key.startswith("LIVEGRAD_"):
                continue
            field = key.removeprefix("LIVEGRAD_").lower()
            assert field in Settings.model_fields, f"{name}: {key} is not a setting"
            values[field] = value
        try:
            Settings(**values)
        except ValidationError as exc:  # the app would refuse to start
            raise AssertionError(f"{name}: {exc}") from exc


def check_no_oversubscription(compose: dict[str, Any]) -> None:
    """Without Ray a replica runs MAX_JOBS jobs on its own CPUs; with Ray, all replicas'
    jobs together fit the workers' CPUs, so an admitted job never waits invisibly."""
    services = compose["services"]
    app, worker = services["livegrad"], services["ray-worker"]
    max_jobs = int(app["environment"]["LIVEGRAD_MAX_JOBS"])
    assert max_jobs <= float(limits(app)["cpus"]), "MAX_JOBS exceeds a replica's CPUs"
    worker_cpus = int(option(argv(worker), "--num-cpus") or 0)
    assert worker_cpus >= 1, "ray-worker must give Ray its CPUs with --num-cpus"
    assert worker_cpus <= float(limits(worker)["cpus"]), "Ray is told of more CPUs than it has"
    assert replicas(app) * max_jobs <= replicas(worker) * worker_cpus, (
        f"{replicas(app)} replicas × {max_jobs} jobs > "
        f"{replicas(worker)} workers × {worker_cpus} CPUs")


def check_ray_settings_shared(compose: dict[str, Any]) -> None:
    """Token auth on, one token for all; the same health-check and keepalive everywhere
    (a keepalive faster than a server allows gets the connection closed)."""
    envs = {name: {k: v for k, v in compose["services"][name].get("environment", {}).items()
                   if k.startswith("RAY_")} for name in RAY_SERVICES}
    first = envs["ray-head"]
    for name, env in envs.items():
        assert env == first, f"{name}'s RAY_* settings differ from the head's"
    assert first.get("RAY_AUTH_MODE") == "token", "Ray's token authentication is off"
    raw = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name in RAY_SERVICES:
        token = raw["services"][name]["environment"].get("RAY_AUTH_TOKEN", "")
        assert re.fullmatch(r"\$\{RAY_AUTH_TOKEN(:?-[^}]*)?\}", token), (
            f"{name} does not take RAY_AUTH_TOKEN from the environment / deploy/.env")
    for key in ("RAY_health_check_period_ms", "RAY_health_check_failure_threshold",
                "RAY_grpc_client_keepalive_time_ms"):
        assert key in first, f"{key} is not set: node loss would take minutes to surface"


def check_object_store_fits_shm(compose: dict[str, Any]) -> None:
    for name in RAY_SERVICES:
        service = compose["services"][name]
        words = argv(service) if name != "livegrad" else shlex.split(web_script(compose))
        store = option(words, "--object-store-memory")
        assert store, f"{name}: no --object-store-memory (default: 30% of RAM, in /dev/shm)"
        assert int(store) <= shm_bytes(service), f"{name}: the object store exceeds /dev/shm"


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "replicas_behind_a_proxy": check_replicas_behind_a_proxy,
    "one_image_everywhere": check_one_image_everywhere,
    "ray_head_and_workers": check_ray_head_and_workers,
    "web_replicas_use_the_head": check_web_replicas_use_the_head,
    "settings_are_real_and_valid": check_settings_are_real_and_valid,
    "no_oversubscription": check_no_oversubscription,
    "ray_settings_shared": check_ray_settings_shared,
    "object_store_fits_shm": check_object_store_fits_shm,
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_compose_promise(name: str, compose: dict[str, Any]) -> None:
    CHECKS[name](compose)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = doc
        for key in parents:
            node = node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
    return mutate


def _argv(service: str, old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        command = doc["services"][service]["command"]
        doc["services"][service]["command"] = [w.replace(old, new) for w in command]
    return mutate


_DELETE = object()
S = "services"
MUTANTS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("replicas_behind_a_proxy", _set(f"{S}/livegrad/deploy/replicas", 1)),
    ("replicas_behind_a_proxy", _set(f"{S}/proxy/ports", ["8080:8000"])),
    ("one_image_everywhere", _set(f"{S}/ray-worker/image", "rayproject/ray:2.60.0")),
    ("one_image_everywhere", _set(f"{S}/ray-head/build", _DELETE)),
    ("ray_head_and_workers", _argv("ray-worker", "--address=ray-head", "--address=localhost")),
    ("ray_head_and_workers", _argv("ray-head", "--block", "--verbose")),
    ("ray_head_and_workers", _set(f"{S}/ray-worker/healthcheck", _DELETE)),
    ("ray_head_and_workers", _set(f"{S}/ray-head/ports", ["6379:6379"])),
    ("web_replicas_use_the_head", _set(f"{S}/livegrad/environment/LIVEGRAD_RAY_ADDRESS", "")),
    ("web_replicas_use_the_head", _argv("ray-head", "--port=6379", "--port=6380")),
    ("web_replicas_use_the_head", _set(f"{S}/livegrad/ports", ["8000:8000"])),
    ("settings_are_real_and_valid", _set(f"{S}/livegrad/environment/LIVEGRAD_WORKERS", "2")),
    ("settings_are_real_and_valid", _set(f"{S}/livegrad/environment/LIVEGRAD_MAX_JOBS", "0")),
    ("settings_are_real_and_valid",
     _set(f"{S}/livegrad/environment/LIVEGRAD_RAY_NAMESPACE", "two words")),
    ("no_oversubscription", _set(f"{S}/livegrad/environment/LIVEGRAD_MAX_JOBS", "4")),
    ("no_oversubscription", _set(f"{S}/ray-worker/deploy/replicas", 2)),
    ("no_oversubscription", _argv("ray-worker", "--num-cpus=2", "--num-cpus=8")),
    ("ray_settings_shared", _set(f"{S}/ray-worker/environment/RAY_AUTH_MODE", "disabled")),
    ("ray_settings_shared",
     _set(f"{S}/livegrad/environment/RAY_grpc_client_keepalive_time_ms", "300000")),
    ("object_store_fits_shm", _argv("ray-worker", "--object-store-memory=", "--foo=")),
    ("object_store_fits_shm", _set(f"{S}/ray-head/volumes", [])),
]


@pytest.mark.parametrize(("name", "mutate"), MUTANTS,
                         ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTANTS)])
def test_check_fails_on_broken_compose(name: str, mutate: Callable, compose: dict) -> None:
    broken = copy.deepcopy(compose)  # interpolate() already gave each anchor use its own copy
    mutate(broken)
    with pytest.raises(AssertionError):
        CHECKS[name](broken)


# --- the replicas' start-up script, run -------------------------------------------------


def run_web_script(tmp_path: Path, env: dict[str, str], ray_exit: int = 0) -> list[str]:
    """Run livegrad's command with stand-ins for ray and uvicorn; what each was called with."""
    log = tmp_path / "calls"
    for tool, code in (("ray", ray_exit), ("uvicorn", 0)):
        stub = tmp_path / tool
        stub.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\nexit {code}\n')
        stub.chmod(0o755)
    service = load(env)["services"]["livegrad"]
    environment = {k: str(v) for k, v in service["environment"].items()}
    proc = subprocess.run(argv(service), env={**environment, "PATH": f"{tmp_path}:{os.defpath}"},
                          capture_output=True, text=True, timeout=30)
    calls = log.read_text().splitlines() if log.exists() else []
    return [f"exit {proc.returncode}", *calls]


def test_a_replica_joins_the_cluster_then_serves(tmp_path: Path) -> None:
    exit_line, *calls = run_web_script(tmp_path, {})
    assert exit_line == "exit 0"
    assert len(calls) == 2, calls
    ray, uvicorn = shlex.split(calls[0]), shlex.split(calls[1])
    assert ray[:2] == ["ray", "start"] and option(ray, "--address") == "ray-head:6379"
    assert option(ray, "--num-cpus") == "0", "a web replica's node would take jobs"
    assert uvicorn[:2] == ["uvicorn", "app.main:app"]
    assert option(uvicorn, "--host") == "0.0.0.0" and option(uvicorn, "--port") == "8000"


def test_a_replica_without_ray_serves_alone(tmp_path: Path) -> None:
    """The small-class story: LIVEGRAD_RAY_ADDRESS= in the shell, no Ray node at all."""
    exit_line, *calls = run_web_script(tmp_path, {"LIVEGRAD_RAY_ADDRESS": ""})
    assert exit_line == "exit 0"
    assert [c.split()[0] for c in calls] == ["uvicorn"], calls


def test_a_replica_that_cannot_join_does_not_serve(tmp_path: Path) -> None:
    exit_line, *calls = run_web_script(tmp_path, {}, ray_exit=1)
    assert exit_line != "exit 0" and [c.split()[0] for c in calls] == ["ray"], calls


def test_interpolation_follows_compose() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET-d} ${EMPTY-d} ${UNSET-d}", env) == "x  d"
    assert interpolate("${SET:-d} ${EMPTY:-d} ${UNSET:-d}", env) == "x d d"
    assert interpolate("$${SET} ${UNSET}", env) == "${SET} "


# --- nginx and the README -----------------------------------------------------------------


def test_nginx_never_buffers_the_event_streams():
    conf = (DEPLOY / "nginx.conf").read_text()
    stream = re.search(r"location ~ \^/api/demos/\[\^/\]\+/stream\$ \{(.*?)\n    \}", conf, re.S)
    assert stream, "no location block for the SSE routes"
    block = stream.group(1)
    assert "proxy_buffering off;" in block and "proxy_cache off;" in block
    assert re.search(r"proxy_read_timeout\s+\d+[hm];", block)
    assert "X-Forwarded-For" in block and "server livegrad:8000;" in conf


def test_readme_has_a_class_section_naming_every_limit():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running it for a class", 1)[1].split("\n## ", 1)[0]
    for name in ("MAX_JOBS", "MAX_QUEUE", "JOB_SECONDS", "CACHE_MB", "RATE_PER_MINUTE",
                 "TRUSTED_PROXIES", "MAX_BODY_BYTES", "RAY_ADDRESS", "RAY_NAMESPACE",
                 "EXECUTOR"):
        assert f"LIVEGRAD_{name}" in section
    assert "deploy/compose.yaml" in section and "RAY_AUTH_TOKEN" in section


def test_readme_compose_commands_name_real_services():
    """Each `docker compose ... up` in the README scales or starts services that exist."""
    readme = (ROOT / "README.md").read_text().replace("\\\n", " ")
    services = set(load()["services"])
    commands = [line.split("docker compose -f deploy/compose.yaml", 1)[1]
                for line in readme.splitlines() if "docker compose -f deploy/compose.yaml" in line]
    assert len(commands) >= 2, "the README does not show how to start deploy/compose.yaml"
    for command in commands:
        words = shlex.split(command.split("#", 1)[0])
        assert "up" in words, command
        scales = {i for i, w in enumerate(words) if i and words[i - 1] == "--scale"}
        scaled = [words[i].split("=")[0] for i in scales]
        named = [w for i, w in enumerate(words) if i > words.index("up") and i not in scales
                 and not w.startswith("-")]
        for name in scaled + named:
            assert name in services, f"README names {name!r}: not a service of compose.yaml"
