"""Checks on the front-end libraries vendored by scripts/vendor-assets.sh.

The app runs on a closed intranet, so every asset must be served locally: these are
plain file checks (no app needed) that the vendored files are present, licensed, and
do not make the browser fetch anything from the internet.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.once  # mode-independent: runs in the embedded pass only

REPO_ROOT = Path(__file__).resolve().parents[2]
VENDOR = REPO_ROOT / "platform" / "web" / "static" / "vendor"

# npm package name -> (folder under vendor/, allowed major versions, main file containing the version)
PACKAGES: dict[str, tuple[str, set[int], str]] = {
    "bootstrap": ("bootstrap", {5}, "css/bootstrap.min.css"),
    "bootstrap-icons": ("bootstrap-icons", {1}, "bootstrap-icons.min.css"),
    "htmx.org": ("htmx", {2}, "htmx.min.js"),
    "@alpinejs/csp": ("alpinejs", {3}, "alpine-csp.min.js"),
    "echarts": ("echarts", {5, 6}, "echarts.min.js"),
    "swagger-ui-dist": ("swagger-ui", {5}, "swagger-ui-bundle.js"),
}

EXPECTED_FILES = [
    "VERSIONS",
    "bootstrap/css/bootstrap.min.css",
    "bootstrap/js/bootstrap.bundle.min.js",
    "bootstrap/LICENSE",
    "bootstrap-icons/bootstrap-icons.min.css",
    "bootstrap-icons/fonts/bootstrap-icons.woff2",
    "bootstrap-icons/fonts/bootstrap-icons.woff",
    "bootstrap-icons/LICENSE",
    "htmx/htmx.min.js",
    "htmx/LICENSE",
    "alpinejs/alpine-csp.min.js",
    "alpinejs/LICENSE",
    "echarts/echarts.min.js",
    "echarts/LICENSE",
    "echarts/NOTICE",
    "swagger-ui/swagger-ui-bundle.js",
    "swagger-ui/swagger-ui-standalone-preset.js",
    "swagger-ui/swagger-ui.css",
    "swagger-ui/favicon-32x32.png",
    "swagger-ui/LICENSE",
    "swagger-ui/NOTICE",
]

# CSS comments are dropped, but quoted strings (e.g. data: URIs) are kept intact.
_CSS_COMMENT_OR_STRING = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|/\*.*?\*/""", re.S)
_CSS_URL = re.compile(
    r"""url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)'"\s]*))\s*\)""",
    re.I,
)
_CSS_IMPORT = re.compile(r"@import\s+([^;]*);?", re.I)
_SOURCE_MAP = re.compile(r"[#@]\s*sourceMappingURL\s*=\s*([^\s*'\"]+)")


def _css_without_comments(text: str) -> str:
    return _CSS_COMMENT_OR_STRING.sub(lambda m: m.group(1) or "", text)


def _css_urls(text: str) -> list[str]:
    return [next(g for g in m.groups() if g is not None) for m in _CSS_URL.finditer(text)]


def _css_imports(text: str) -> list[str]:
    return [m.group(1).strip() for m in _CSS_IMPORT.finditer(text)]


def _is_remote(ref: str) -> bool:
    ref = ref.strip().strip("'\"")
    return bool(re.match(r"(?i)^(?:[a-z][a-z0-9+.-]*:)?//", ref)) and not ref.lower().startswith("data:")


def _local_target(css_file: Path, ref: str) -> Path:
    path = urlsplit(ref).path  # drop ?cache-buster and #fragment
    return (css_file.parent / path).resolve()


def _versions() -> dict[str, tuple[str, str]]:
    lines = (VENDOR / "VERSIONS").read_text(encoding="utf-8").splitlines()
    entries: dict[str, tuple[str, str]] = {}
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        name, version, licence = line.split()
        assert name not in entries, f"duplicate VERSIONS entry {name}"
        entries[name] = (version, licence)
    return entries


def _vendored_css() -> list[Path]:
    return sorted(VENDOR.rglob("*.css"))


@pytest.mark.parametrize("rel", EXPECTED_FILES)
def test_expected_file_exists_and_is_not_empty(rel: str) -> None:
    path = VENDOR / rel
    assert path.is_file(), f"missing vendored file {rel}"
    assert path.stat().st_size > 0, f"empty vendored file {rel}"


def test_versions_file_lists_exactly_the_vendored_packages() -> None:
    text = (VENDOR / "VERSIONS").read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first.startswith("#") and "npm" in first and "scripts/vendor-assets.sh" in first
    entries = _versions()
    assert set(entries) == set(PACKAGES)
    for name, (version, licence) in entries.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: {version} is not an exact stable version"
        assert int(version.split(".")[0]) in PACKAGES[name][1], f"{name} {version}: unexpected major version"
        assert licence, f"{name}: no licence id"


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_every_package_has_a_licence_file(name: str) -> None:
    folder = VENDOR / PACKAGES[name][0]
    licence = folder / "LICENSE"
    assert licence.is_file() and licence.stat().st_size > 0, f"{name}: no LICENSE in {folder}"


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_vendored_file_matches_version_in_versions(name: str) -> None:
    folder, _, main_file = PACKAGES[name]
    version = _versions()[name][0]
    content = (VENDOR / folder / main_file).read_text(encoding="utf-8", errors="replace")
    assert version in content, f"{folder}/{main_file} does not mention {name} {version}"


@pytest.mark.parametrize("css", _vendored_css(), ids=lambda p: str(p.relative_to(VENDOR)))
def test_css_fetches_nothing_remote(css: Path) -> None:
    text = _css_without_comments(css.read_text(encoding="utf-8"))
    remote = [u for u in _css_urls(text) if _is_remote(u)]
    assert not remote, f"{css.name} loads remote url(): {remote}"
    imports = _css_imports(text)
    assert not [i for i in imports if re.search(r"(?i)(?:https?:)?//", i)], f"{css.name} @imports: {imports}"


@pytest.mark.parametrize("css", _vendored_css(), ids=lambda p: str(p.relative_to(VENDOR)))
def test_css_local_urls_resolve(css: Path) -> None:
    text = _css_without_comments(css.read_text(encoding="utf-8"))
    for ref in _css_urls(text):
        if ref.lower().startswith("data:") or ref.startswith("#") or _is_remote(ref):
            continue
        target = _local_target(css, ref)
        assert target.is_file(), f"{css.name}: url({ref}) -> {target} does not exist"
        assert VENDOR.resolve() in target.parents, f"{css.name}: url({ref}) escapes the vendor folder"


def test_css_vendored_at_all() -> None:
    assert len(_vendored_css()) >= 3


def test_bootstrap_icons_fonts_resolve() -> None:
    css = VENDOR / "bootstrap-icons" / "bootstrap-icons.min.css"
    urls = _css_urls(_css_without_comments(css.read_text(encoding="utf-8")))
    targets = {_local_target(css, u) for u in urls}
    fonts = VENDOR.resolve() / "bootstrap-icons" / "fonts"
    assert {fonts / "bootstrap-icons.woff2", fonts / "bootstrap-icons.woff"} <= targets, urls
    for target in targets:
        assert target.is_file(), f"bootstrap-icons CSS points to missing {target}"


def test_source_map_comments_point_to_vendored_files() -> None:
    for path in [*VENDOR.rglob("*.css"), *VENDOR.rglob("*.js")]:
        for ref in _SOURCE_MAP.findall(path.read_text(encoding="utf-8", errors="replace")):
            assert not _is_remote(ref), f"{path.name}: remote source map {ref}"
            if not ref.startswith("data:"):
                assert (path.parent / urlsplit(ref).path).is_file(), f"{path.name}: missing source map {ref}"


def test_no_package_manager_leftovers() -> None:
    leftovers = [
        p.relative_to(VENDOR)
        for p in VENDOR.rglob("*")
        if p.name in {"node_modules", "package.json", "index.html", "swagger-initializer.js"}
        or p.suffix in {".tgz", ".map"}
    ]
    assert not leftovers, leftovers
