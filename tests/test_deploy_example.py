"""The compose example for a class keeps its promises (parsed, since Docker can't run here)."""

from __future__ import annotations

import re

import yaml

from app.config import ROOT, Settings

DEPLOY = ROOT / "deploy"


def test_compose_runs_several_replicas_of_the_image_behind_a_proxy():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    app, proxy = compose["services"]["livegrad"], compose["services"]["proxy"]
    assert app["build"] == ".." and app["deploy"]["replicas"] >= 2
    cpus = float(app["deploy"]["resources"]["limits"]["cpus"])
    assert int(app["environment"]["LIVEGRAD_MAX_JOBS"]) <= cpus  # never oversubscribe
    assert app["environment"]["LIVEGRAD_TRUSTED_PROXIES"]
    assert "8000:8000" in proxy["ports"]
    for key in app["environment"]:  # every variable is a real setting
        assert key.removeprefix("LIVEGRAD_").lower() in Settings.model_fields


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
                 "TRUSTED_PROXIES", "MAX_BODY_BYTES"):
        assert f"LIVEGRAD_{name}" in section
    assert "deploy/compose.yaml" in section
