"""The wheel (`pip install .`, the Docker image) carries the whole application (DESIGN.md §2).

The suite itself runs on the editable install, which maps the repository folders straight onto
`jixiao.*` and would hide a file the wheel forgets (a template, a vendored asset, a migration,
a sub-package). So: build a real, non-editable wheel from a clean copy of the working tree, check
its contents against the folders, install it into an empty virtualenv (dependencies come from
the project's .venv through PYTHONPATH, which does not activate the editable install's .pth
finder) and run the app from there.
"""

from __future__ import annotations

import configparser
import json
import os
import platform as stdlib_platform
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from tests.support.cli import clean_env

pytestmark = pytest.mark.once

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("platform", "tenants", "services", "migrations")
NAMESPACE_ROOTS = ("jixiao", "jixiao/platform", "jixiao/tenants", "jixiao/services")
# Top-level folders of the working tree that are not part of any build.
NOT_SOURCES = {"build", "dist", "instance", "tests", "helm", "benchmarks", "test-artifacts", "node_modules"}


def source_files() -> list[str]:
    """Every file the four code folders hold (what an installed app may need), repo-relative."""
    found: list[str] = []
    for root in ROOTS:
        for dirpath, dirnames, filenames in os.walk(REPO / root):
            dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
            for name in filenames:
                if name.endswith((".pyc", ".pyo")):
                    continue
                found.append((Path(dirpath) / name).relative_to(REPO).as_posix())
    return sorted(found)


def in_wheel(path: str) -> str:
    """`platform/web/app.py` -> `jixiao/platform/web/app.py`."""
    return f"jixiao/{path}"


def _ignore_for_copy(directory: str, names: list[str]) -> set[str]:
    ignored = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}
    ignored |= {n for n in names if n.startswith(".") and (Path(directory) / n).is_dir()}
    if Path(directory) == REPO:
        ignored |= {n for n in names if n in NOT_SOURCES or n.endswith(".egg-info")}
    return ignored


def _build_backend_installed() -> bool:
    """True when the running environment satisfies [build-system] requires (offline build)."""
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    for req in map(Requirement, requires):
        try:
            installed = version(req.name)
        except PackageNotFoundError:
            return False
        if not req.specifier.contains(installed, prereleases=True):
            return False
    return True


def _run(
    cmd: Sequence[object], *, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: int = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A non-editable wheel built from a clean copy of the working tree (a stale `build/` in the
    repository would otherwise leak deleted files into it)."""
    src = tmp_path_factory.mktemp("wheel-src") / "jixiao"
    shutil.copytree(REPO, src, ignore=_ignore_for_copy)
    out = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-w", out, src]
    offline = _build_backend_installed()
    if offline:
        cmd.insert(cmd.index("--no-deps"), "--no-build-isolation")
    proc = _run(cmd, timeout=300)
    if proc.returncode != 0:
        hint = (
            ""
            if offline
            else "\n(the .venv lacks the [build-system] requirements, so pip had to fetch them: "
            "add them to the `test` extra to build offline)"
        )
        pytest.fail(f"wheel build failed:{hint}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}", pytrace=False)
    wheels = sorted(out.glob("jixiao-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def _dist_info(names: set[str], file: str) -> str:
    matches = [n for n in names if n.endswith(f".dist-info/{file}") and n.count("/") == 1]
    assert len(matches) == 1, f"{file} in the wheel: {matches}"
    return matches[0]


# --------------------------------------------------------------------------- contents


def test_wheel_contains_every_python_module(names: set[str]) -> None:
    modules = [p for p in source_files() if p.endswith(".py")]
    assert any(p.startswith("platform/web/") for p in modules)
    assert any(p.startswith("tenants/") for p in modules)
    assert any(p.startswith("services/") for p in modules)
    missing = [p for p in modules if in_wheel(p) not in names]
    assert missing == [], f"Python files missing from the wheel: {missing}"


def test_wheel_contains_templates_static_data_and_migrations(names: set[str]) -> None:
    files = source_files()
    templates = [p for p in files if p.endswith(".html")]
    vendor = [p for p in files if p.startswith("platform/web/static/vendor/")]
    versions = [p for p in files if p.startswith("migrations/versions/") and p.endswith(".py")]
    assert templates, "no templates found in the working tree"
    assert "platform/web/static/vendor/VERSIONS" in vendor
    assert sum(1 for p in vendor if Path(p).name.startswith("LICENSE")) >= 5
    assert [p for p in versions if not p.endswith("__init__.py")], "no migration versions found"

    required = [
        *templates,
        *vendor,
        *versions,
        "services/indicators/data/starter_library.json",
        "migrations/alembic.ini",
        "migrations/script.py.mako",
        "migrations/env.py",
    ]
    missing = [p for p in required if in_wheel(p) not in names]
    assert missing == [], f"files missing from the wheel: {missing}"


def test_wheel_contains_every_file_of_the_code_folders(names: set[str]) -> None:
    """The catch-all: a new kind of file (say an .svg icon) not covered by package-data."""
    missing = [p for p in source_files() if in_wheel(p) not in names]
    assert missing == [], f"files missing from the wheel (extend [tool.setuptools.package-data]): {missing}"


def test_wheel_has_one_import_root_and_namespace_tops(names: set[str]) -> None:
    tops = {n.split("/", 1)[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"jixiao"}
    for folder in (*ROOTS, "tests"):
        assert not any(n.startswith(f"{folder}/") for n in names), f"top-level {folder}/ in the wheel"
    for root in NAMESPACE_ROOTS:
        assert f"{root}/__init__.py" not in names, f"{root} must stay a namespace package"
    assert "jixiao/migrations/__init__.py" in names  # migrate.py locates the scripts through it
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]
    assert not [n for n in names if "/." in n], "hidden files or caches in the wheel"


def test_wheel_declares_the_console_script(wheel: Path, names: set[str]) -> None:
    with zipfile.ZipFile(wheel) as zf:
        entry_points = zf.read(_dist_info(names, "entry_points.txt")).decode()
        metadata = zf.read(_dist_info(names, "METADATA")).decode()
    parser = configparser.ConfigParser()
    parser.read_string(entry_points)
    assert parser.get("console_scripts", "jixiao").strip() == "jixiao.platform.web.cli:main"
    assert "Name: jixiao" in metadata
    assert "Requires-Dist: Flask" in metadata


# --------------------------------------------------------------------------- installed


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty virtualenv with only the wheel installed (no editable finder, no repo on the path)."""
    home = tmp_path_factory.mktemp("installed") / "v"
    made = _run([sys.executable, "-m", "venv", "--without-pip", home])
    assert made.returncode == 0, made.stderr
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", home / "bin" / "python"]
    installed = _run([*pip, "install", "--no-deps", "--no-index", wheel])
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (home / "bin" / "jixiao").is_file(), "pip did not create the jixiao console script"
    return home


def _installed_env(tmp: Path) -> dict[str, str]:
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))  # the .venv's
    return clean_env(
        "PYTHONHOME",
        "PYTHONSTARTUP",
        PYTHONPATH=os.pathsep.join(deps),
        PYTHONNOUSERSITE="1",
        DATABASE_URL=f"sqlite:///{tmp / 'jixiao.db'}",
        JIXIAO_INSTANCE=str(tmp / "instance"),
        SECRET_KEY="x",
    )


IMPORT_CHECK = r"""
import json, platform
import jixiao
import jixiao.migrations
import jixiao.platform.web.app as app_module
import jixiao.platform.web.cli
import jixiao.services.indicators
import jixiao.tenants.models
print(json.dumps({
    "app": app_module.__file__,
    "migrations": jixiao.migrations.__file__,
    "jixiao_path": list(jixiao.__path__),
    "platform": platform.__file__,
    "system": platform.system(),
}))
"""

LOGIN_CHECK = r"""
import json, re
from jixiao.platform.web.app import create_app

app = create_app()
client = app.test_client()
response = client.get("/login")
html = response.get_data(as_text=True)
assets = sorted(set(re.findall(r'(?:href|src)="(/static/[^"?#]+)', html)))
statuses = {}
for path in assets:
    asset = client.get(path)
    statuses[path] = asset.status_code
    asset.close()
print(json.dumps({"status": response.status_code, "title": "用户登录" in html, "assets": statuses}))
"""


def _last_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_installed_wheel_imports_without_shadowing_the_stdlib(venv: Path, tmp_path: Path) -> None:
    # From the repository root, the worst case: its `platform/` folder is right there on sys.path[0].
    result = _last_json(
        _run([venv / "bin" / "python", "-c", IMPORT_CHECK], env=_installed_env(tmp_path), cwd=REPO)
    )
    assert str(result["app"]).startswith(str(venv)), f"not the installed copy: {result['app']}"
    assert str(result["migrations"]).startswith(str(venv))
    assert all(str(p).startswith(str(venv)) for p in result["jixiao_path"]), result["jixiao_path"]
    assert Path(str(result["platform"])).parent == Path(sysconfig.get_paths()["stdlib"]), result["platform"]
    assert result["system"] == stdlib_platform.system()


def test_installed_wheel_migrates_and_serves_the_login_page(venv: Path, tmp_path: Path) -> None:
    env = _installed_env(tmp_path)
    upgraded = _run([venv / "bin" / "jixiao", "db", "upgrade"], env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert "数据库已迁移至 head" in upgraded.stdout
    assert (tmp_path / "jixiao.db").is_file()

    result = _last_json(_run([venv / "bin" / "python", "-c", LOGIN_CHECK], env=env, cwd=tmp_path))
    assert result["status"] == 200
    assert result["title"], "the login page lacks 用户登录"
    assets = result["assets"]
    assert assets, "the login page links no local assets"
    assert any("/static/vendor/" in p for p in assets)
    assert {p: s for p, s in assets.items() if s != 200} == {}
