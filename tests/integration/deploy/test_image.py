"""deploy/Dockerfile and its lock files, read by a small Dockerfile parser (no container
engine here): two stages, a non-root runtime, every copied file in the build context, and
every runtime dependency installed from the lock at a pinned version with hashes."""

from __future__ import annotations

import re
import shlex
import subprocess
import tomllib
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

Instruction = tuple[str, str]  # (keyword, arguments)
SHELL_SCRIPTS = [
    "deploy/docker/ledger-bootstrap",
    "deploy/get-helm",
    "deploy/update-locks",
    "scripts/cluster",
]


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped."""
    found: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        found.append((keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return found


def stages(dockerfile: list[Instruction]) -> list[list[Instruction]]:
    """The build stages, each starting with its FROM."""
    result: list[list[Instruction]] = []
    for instruction in dockerfile:
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def copy_sources(arguments: str) -> tuple[dict[str, str], list[str]]:
    """The flags (--from=…) and source paths of a COPY (shell form)."""
    words = shlex.split(arguments)
    flags = dict(w[2:].split("=", 1) for w in words if w.startswith("--"))
    paths = [w for w in words if not w.startswith("--")]
    return flags, paths[:-1]


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether a .dockerignore leaves PATH out of the build context (last match wins; a
    pattern that matches a parent directory matches everything below it)."""
    result = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        regex = re.escape(pattern.lstrip("!").strip("/"))
        regex = regex.replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]").replace(r"\[", "[")
        regex = regex.replace(r"\]", "]")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            result = not keep
    return result


def lock_pins(path: Path) -> dict[str, tuple[Requirement, list[str]]]:
    """A hashed requirements lock: each package's requirement and its sha256 hashes."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pins: dict[str, tuple[Requirement, list[str]]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement, _, _ = line.partition(" --hash=")
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})\b", line)
        parsed = Requirement(requirement.strip())
        pins[canonicalize_name(parsed.name)] = (parsed, hashes)
    return pins


def pinned_version(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", requirement
    return specifier.version


@pytest.fixture(scope="module")
def dockerfile(deploy: Path) -> list[Instruction]:
    return instructions((deploy / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def runtime(dockerfile: list[Instruction]) -> list[Instruction]:
    return stages(dockerfile)[-1]


def test_the_image_is_built_in_stages_on_python_311_slim(dockerfile: list[Instruction]) -> None:
    built = stages(dockerfile)
    assert len(built) >= 2
    default_base = dict(
        a.split("=", 1) for k, a in dockerfile if k == "ARG" and a.startswith("PYTHON_IMAGE=")
    )
    for stage in built:
        base = stage[0][1].split()[0]
        assert default_base.get(base.strip("${}"), base) == "python:3.11-slim"
    assert built[0][0][1].endswith("AS builder")


def test_every_copied_file_exists_and_is_in_the_build_context(
    dockerfile: list[Instruction], root: Path, deploy: Path
) -> None:
    patterns = [
        line.strip()
        for line in (deploy / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    stage_names = [a.split()[-1] for k, a in dockerfile if k == "FROM" and " AS " in a]
    copied = 0
    for keyword, arguments in dockerfile:
        if keyword not in ("COPY", "ADD"):
            continue
        flags, sources = copy_sources(arguments)
        if "from" in flags:
            assert flags["from"] in stage_names
            continue
        for source in sources:
            assert (root / source).exists(), source
            files = [source] if (root / source).is_file() else list(files_below(root, source))
            assert files, source
            for file in files:
                assert not ignored(file, patterns), f"{file} is left out by the .dockerignore"
                copied += 1
    assert copied
    for left_out in (".venv/bin/python", ".git/HEAD", "tests/conftest.py", "README.md"):
        assert ignored(left_out, patterns), left_out


def files_below(root: Path, directory: str) -> Iterator[str]:
    for path in (root / directory).rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path.relative_to(root).as_posix()


def test_the_runtime_runs_as_a_non_root_user(runtime: list[Instruction]) -> None:
    users = [arguments for keyword, arguments in runtime if keyword == "USER"]
    assert users, "the runtime stage sets no USER: it would run as root"
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and int(user) != 0  # numeric: Kubernetes can check runAsNonRoot
    assert group.isdigit() and int(group) != 0


def test_the_runtime_serves_the_ledger_with_a_healthcheck(runtime: list[Instruction]) -> None:
    last = {keyword: arguments for keyword, arguments in runtime}
    assert last["ENTRYPOINT"] == '["ledger"]'
    assert last["CMD"] == '["serve", "--host", "0.0.0.0"]'
    assert last["EXPOSE"] == "8080"
    assert "urllib.request" in last["HEALTHCHECK"] and "/healthz" in last["HEALTHCHECK"]
    copied = [copy_sources(a) for k, a in runtime if k == "COPY"]
    assert ({"from": "builder"}, ["/opt/ledger"]) in copied  # the virtualenv, nothing else


def test_dependencies_are_installed_from_the_lock_with_hashes(
    dockerfile: list[Instruction],
) -> None:
    runs = " ".join(arguments for keyword, arguments in dockerfile if keyword == "RUN")
    assert "--require-hashes --no-deps --only-binary=:all: -r deploy/requirements.lock" in runs
    assert "--no-deps --no-index /wheels/*.whl" in runs  # the project itself adds nothing


def test_the_lock_pins_every_runtime_dependency_with_hashes(root: Path, deploy: Path) -> None:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    pins = lock_pins(deploy / "requirements.lock")
    for dependency in map(Requirement, project["dependencies"]):
        name = canonicalize_name(dependency.name)
        assert name in pins, f"{name} is not in the lock: run deploy/update-locks"
        version = pinned_version(pins[name][0])
        assert dependency.specifier.contains(version, prereleases=True), (
            f"{name}=={version} in the lock does not satisfy {dependency}: run deploy/update-locks"
        )
    for name, (requirement, hashes) in pins.items():
        pinned_version(requirement)
        assert hashes, f"{name} has no hash"


def test_the_lock_holds_what_the_locked_packages_need(root: Path, deploy: Path) -> None:
    """Walks the requirements of the locked packages (with their extras), as the installed
    metadata tells where the installed version is the locked one."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    pins = lock_pins(deploy / "requirements.lock")
    queue = [Requirement(d) for d in project["dependencies"]]
    seen: set[tuple[str, frozenset[str]]] = set()
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        assert name in pins, f"{name} (needed, {requirement}) is not in the lock"
        queue.extend(needs(name, pinned_version(pins[name][0]), requirement.extras))
    assert len({name for name, _ in seen}) > len(project["dependencies"])


def needs(name: str, version: str, extras: set[str]) -> list[Requirement]:
    """What NAME==VERSION requires here (Linux, CPython 3.11) with EXTRAS; nothing when
    another version is installed (its metadata would not tell about the locked one)."""
    try:
        if metadata.version(name) != version:
            return []
        declared = metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return []
    result = []
    for requirement in map(Requirement, declared):
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in {"", *extras}):
            result.append(requirement)
    return result


def test_the_build_lock_pins_the_build_backend(root: Path, deploy: Path) -> None:
    build_system = tomllib.loads((root / "pyproject.toml").read_text())["build-system"]
    pins = lock_pins(deploy / "requirements-build.lock")
    for requirement in map(Requirement, build_system["requires"]):
        name = canonicalize_name(requirement.name)
        assert requirement.specifier.contains(pinned_version(pins[name][0]))
    assert all(hashes for _, hashes in pins.values())


def test_hadolint_finds_nothing_to_fix(deploy: Path, tool: Callable[[str], Path]) -> None:
    linted = subprocess.run(
        [str(tool("hadolint")), "--no-color", str(deploy / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


@pytest.mark.parametrize("script", SHELL_SCRIPTS)
def test_shell_scripts_pass_shellcheck(
    root: Path, script: str, tool: Callable[[str], Path]
) -> None:
    checked = subprocess.run(
        [str(tool("shellcheck")), "--external-sources", script],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
