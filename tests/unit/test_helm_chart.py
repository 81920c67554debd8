"""Static checks of the Helm chart (helm/jixiao) and the Dockerfile, without helm or docker.

These tests read the templates as text: delimiters and blocks balance, every named template
exists, every `.Values` path exists in values.yaml, the environment the app reads is all
provided, and the skeleton of each manifest (the template with its actions taken out) is valid
YAML. The facts they pin down (probe paths, hook annotations, commands) are the contract between
the app and its deployment. tests/unit/test_chart_render.py renders the chart with the real helm
and validates the result against the Kubernetes schemas.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.once  # mode-independent: runs in the embedded pass only

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "jixiao"
TEMPLATES = CHART / "templates"
HELPERS = TEMPLATES / "_helpers.tpl"

# Environment the app reads in production, split by where it must come from.
SECRET_ENV = [
    "DATABASE_URL",
    "MIGRATION_DATABASE_URL",
    "REDIS_URL",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "SECRET_KEY",
]
PLAIN_ENV = [
    "S3_ENDPOINT",
    "S3_BUCKET",
    "S3_REGION",
    "S3_PUBLIC_ENDPOINT",
    "JIXIAO_BEHIND_TLS",
    "JIXIAO_LOG_LEVEL",
    "JIXIAO_LOG_FORMAT",
    "JIXIAO_QUEUE",
    "JIXIAO_INSTANCE",
    "JIXIAO_DB_ROLE",
]

EXPECTED_TEMPLATES = [
    "_helpers.tpl",
    "configmap.yaml",
    "secret.yaml",
    "deployment-web.yaml",
    "deployment-worker.yaml",
    "job-migrate.yaml",
    "cronjobs.yaml",
    "service.yaml",
    "ingress.yaml",
    "hpa.yaml",
    "pdb.yaml",
    "NOTES.txt",
]

# A template action; never crosses the closing delimiter of the action it starts in.
ACTION = re.compile(r"{{(?:(?!}}).)*}}", re.DOTALL)
BLOCK_OPENERS = {"if", "range", "with", "define", "block"}


def template_files() -> list[Path]:
    return sorted(p for p in TEMPLATES.iterdir() if p.is_file())


def manifest_files() -> list[Path]:
    return [p for p in template_files() if p.suffix == ".yaml"]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(read(path))


def action_body(action: str) -> str:
    """The text inside {{ }}, without whitespace-trim markers."""
    body = action[2:-2]
    if body.startswith("-"):
        body = body[1:]
    if body.endswith("-"):
        body = body[:-1]
    return body.strip()


def defines(text: str) -> dict[str, str]:
    """Map of template name -> body for every {{ define }} in text."""
    found, stack = {}, []
    for match in ACTION.finditer(text):
        body = action_body(match.group())
        if body.startswith("/*"):
            continue
        word = re.split(r"[\s(]", body, maxsplit=1)[0]
        if word in BLOCK_OPENERS:
            stack.append(match)
        elif word == "end":
            opener = stack.pop()
            name = re.match(r'define\s+"([^"]+)"', action_body(opener.group()))
            if name:
                found[name.group(1)] = text[opener.end() : match.start()]
    return found


def documents(text: str) -> list[str]:
    return re.split(r"(?m)^---[ \t]*$", text)


def skeleton(text: str) -> str:
    """The template with actions removed: lines holding only actions vanish, inline ones
    become a placeholder scalar."""
    standalone = re.compile(r"^[ \t]*(?:" + ACTION.pattern + r"[ \t]*)+\n", re.MULTILINE | re.DOTALL)
    text = standalone.sub("", text)
    return ACTION.sub("X", text)


def values_has(values: dict, dotted: str) -> bool:
    node = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def block_after(text: str, key: str) -> str:
    """The lines indented under the first `key:` line."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f"{key}:":
            indent = len(line) - len(line.lstrip())
            block = []
            for nxt in lines[i + 1 :]:
                if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                block.append(nxt)
            return "\n".join(block)
    raise AssertionError(f"no `{key}:` block")


def list_items(block: str) -> list[str]:
    """First lines of the items of the YAML list a block holds (at its outermost indent)."""
    lines = [line for line in block.splitlines() if line.strip()]
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    return [line.strip() for line in lines if line.startswith(" " * indent + "- ")]


# --- Chart.yaml and values.yaml ------------------------------------------------------------


def test_chart_metadata():
    chart = load_yaml(CHART / "Chart.yaml")
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "jixiao"
    assert chart["version"] == "0.1.0"
    assert chart["appVersion"] == "0.1.0" and isinstance(chart["appVersion"], str)
    assert chart.get("type", "application") == "application"


@pytest.mark.parametrize(
    "path",
    [
        "image.repository",
        "image.tag",
        "image.pullPolicy",
        "config.logLevel",
        "config.logFormat",
        "config.dbRole",
        "config.queue",
        "config.behindTLS",
        "config.instanceDir",
        "objectStore.endpoint",
        "objectStore.publicEndpoint",
        "objectStore.bucket",
        "objectStore.region",
        "secrets.existingSecret",
        "secrets.databaseUrl",
        "secrets.migrationDatabaseUrl",
        "secrets.redisUrl",
        "secrets.s3AccessKey",
        "secrets.s3SecretKey",
        "secrets.secretKey",
        "web.replicaCount",
        "web.resources",
        "web.gunicorn.workers",
        "web.gunicorn.threads",
        "web.autoscaling.enabled",
        "web.autoscaling.minReplicas",
        "web.autoscaling.maxReplicas",
        "worker.replicaCount",
        "worker.resources",
        "migrations.enabled",
        "migrations.resources",
        "cronJobDefaults.resources",
        "cronJobs",
        "service.port",
        "ingress.enabled",
        "ingress.className",
        "ingress.host",
        "ingress.tls.secretName",
        "ingress.annotations",
        "podDisruptionBudget.enabled",
        "podSecurityContext.runAsNonRoot",
        "securityContext.readOnlyRootFilesystem",
        "nodeSelector",
        "tolerations",
        "affinity",
    ],
)
def test_values_has_key(path):
    assert values_has(load_yaml(CHART / "values.yaml"), path), path


def test_values_defaults():
    values = load_yaml(CHART / "values.yaml")
    assert values["migrations"]["enabled"] is True
    assert values["web"]["autoscaling"]["enabled"] is False
    for name, job in values["cronJobs"].items():  # each default CronJob runs a real jixiao command
        assert job["schedule"].count(" ") == 4, name
        assert_cli_command(job["args"])
    assert values["podSecurityContext"]["runAsNonRoot"] is True
    assert values["securityContext"]["readOnlyRootFilesystem"] is True
    assert values["securityContext"]["allowPrivilegeEscalation"] is False
    assert values["objectStore"]["bucket"] == "jixiao"
    assert values["objectStore"]["region"] == "us-east-1"
    assert values["config"]["queue"] == "jixiao"
    assert values["config"]["logLevel"] == "INFO"
    assert values["config"]["instanceDir"].startswith("/")
    assert values["config"]["logFormat"] == "json"
    assert values["config"]["dbRole"] == "jixiao_app"  # the role PostgreSQL's RLS binds
    # No secret ships with the chart.
    assert not any(values["secrets"][k] for k in values["secrets"])


@pytest.mark.parametrize("path", ["web", "worker", "migrations", "cronJobDefaults"])
def test_values_resources_have_requests_and_limits(path):
    resources = load_yaml(CHART / "values.yaml")[path]["resources"]
    for part in ("requests", "limits"):
        assert set(resources[part]) == {"cpu", "memory"}, f"{path}.resources.{part}"


# Maps whose keys are the user's own (names, annotations, variables), not settings of the chart.
FREE_FORM = {
    "config.extra",
    "cronJobs",
    "ingress.annotations",
    "podLabels",
    "nodeSelector",
    "web.podAnnotations",
    "worker.podAnnotations",
    "migrations.podAnnotations",
}


def unknown_keys(values: dict, defaults: dict, prefix: str = "") -> list[str]:
    found = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if key not in defaults:
            found.append(path)
        elif isinstance(value, dict) and isinstance(defaults[key], dict) and path not in FREE_FORM:
            found += unknown_keys(value, defaults[key], path + ".")
    return found


def test_production_values_use_only_known_keys():
    """Helm ignores a misspelt key silently: every setting of the example exists in values.yaml."""
    production = load_yaml(CHART / "values-production.yaml")
    values = load_yaml(CHART / "values.yaml")
    assert unknown_keys(production, values) == []
    entry_keys = set(values["cronJobDefaults"]) | {"schedule", "args", "suspend", "podAnnotations"}
    for name, entry in production["cronJobs"].items():
        assert set(entry) <= entry_keys, name
    assert not any(production["secrets"][k] for k in production["secrets"] if k != "existingSecret")


def test_values_comments_name_the_scale_out_paths():
    text = read(CHART / "values.yaml")
    assert "Citus" in text and "tenant_id" in text
    assert "Sentinel" in text
    assert "MinIO" in text and "distributed mode" in text


# --- template text ---------------------------------------------------------------------------


def test_expected_files_exist():
    names = {p.name for p in template_files()}
    assert set(EXPECTED_TEMPLATES) <= names
    for other in ["Chart.yaml", "values.yaml", "values-production.yaml", ".helmignore", "README.md"]:
        assert (CHART / other).is_file(), other


@pytest.mark.parametrize("path", template_files(), ids=lambda p: p.name)
def test_delimiters_balanced(path):
    text = read(path)
    assert text.count("{{") == text.count("}}"), path.name
    # Delimiters alternate: no action opens inside another and none is left open.
    depth = 0
    for token in re.findall(r"{{|}}", text):
        depth += 1 if token == "{{" else -1
        assert depth in (0, 1), path.name
    assert depth == 0
    # Comments are closed where they are opened.
    for action in ACTION.findall(text):
        body = action_body(action)
        if body.startswith("/*"):
            assert body.endswith("*/"), action


@pytest.mark.parametrize("path", template_files(), ids=lambda p: p.name)
def test_blocks_balanced(path):
    depth = 0
    for action in ACTION.findall(read(path)):
        body = action_body(action)
        if body.startswith("/*"):
            continue
        word = re.split(r"[\s(]", body, maxsplit=1)[0]
        if word in BLOCK_OPENERS:
            depth += 1
        elif word == "end":
            depth -= 1
            assert depth >= 0, f"{path.name}: `end` without a block"
    assert depth == 0, f"{path.name}: {depth} block(s) never closed"


def test_named_templates_resolve():
    defined = set(defines(read(HELPERS)))
    assert {
        "jixiao.name",
        "jixiao.fullname",
        "jixiao.labels",
        "jixiao.selectorLabels",
        "jixiao.env",
    } <= defined
    for path in template_files():
        for action in ACTION.findall(read(path)):
            for name in re.findall(r'\b(?:include|template)\s+"([^"]+)"', action):
                assert name in defined, f"{path.name} uses undefined template {name!r}"


def test_values_references_exist():
    values = load_yaml(CHART / "values.yaml")
    for path in template_files():
        for ref in re.findall(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", read(path)):
            assert values_has(values, ref[1:]), f"{path.name}: .Values{ref} is not in values.yaml"


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_manifest_skeleton_is_yaml(path):
    for doc in yaml.safe_load_all(skeleton(read(path))):
        if doc is None:
            continue
        assert isinstance(doc, dict), path.name
        assert {"apiVersion", "kind", "metadata"} <= set(doc), path.name


# --- environment -------------------------------------------------------------------------------


def test_every_env_var_is_provided():
    helpers = defines(read(HELPERS))
    secret_data, config_data = helpers["jixiao.secretData"], helpers["jixiao.configData"]
    provided = read(TEMPLATES / "configmap.yaml") + read(TEMPLATES / "secret.yaml") + read(HELPERS)
    for name in SECRET_ENV + PLAIN_ENV:
        assert re.search(rf"\b{name}:", provided), name
    for name in SECRET_ENV:
        assert re.search(rf"(?m)^{name}:", secret_data), f"{name} belongs in the Secret"
        assert name not in config_data, f"{name} must not be in the ConfigMap"
    for name in PLAIN_ENV:
        assert re.search(rf"(?m)^{name}:", config_data), f"{name} belongs in the ConfigMap"
    assert "jixiao.configData" in read(TEMPLATES / "configmap.yaml")
    assert "jixiao.secretData" in read(TEMPLATES / "secret.yaml")


def test_secret_only_without_existing_secret():
    text = read(TEMPLATES / "secret.yaml")
    first_block = next(a for a in ACTION.findall(text) if not action_body(a).startswith("/*"))
    assert action_body(first_block) == "if not .Values.secrets.existingSecret"


def test_shared_env_block_loads_configmap_and_secret():
    helpers = defines(read(HELPERS))
    env = helpers["jixiao.env"]
    assert "envFrom:" in env and "configMapRef:" in env and "secretRef:" in env
    assert "existingSecret" in env
    assert 'include "jixiao.env"' in helpers["jixiao.container"]


def test_only_the_migration_hook_gets_the_owner_url():
    """Every container but the migration Job's sets MIGRATION_DATABASE_URL="" (env wins over
    envFrom): the table owner's connection stays out of web, worker and CronJob processes."""
    env = defines(read(HELPERS))["jixiao.env"]
    masked = re.search(
        r"{{-? if not \.hook -?}}\s*- name: MIGRATION_DATABASE_URL\s+value: \"\"\s*{{-? end -?}}", env
    )
    assert masked, env


@pytest.mark.parametrize(
    "name", ["deployment-web.yaml", "deployment-worker.yaml", "job-migrate.yaml", "cronjobs.yaml"]
)
def test_every_workload_uses_the_shared_container(name):
    text = read(TEMPLATES / name)
    containers = list_items(block_after(text, "containers"))
    assert len(containers) == 1 and containers[0].startswith("- name: ")
    assert text.count('include "jixiao.container"') == 1
    assert text.count('include "jixiao.podSpec"') == 1


def test_read_only_root_has_scratch_volumes():
    helpers = defines(read(HELPERS))
    assert "mountPath: /tmp" in helpers["jixiao.container"]
    assert "mountPath: {{ $ctx.Values.config.instanceDir }}" in helpers["jixiao.container"]
    assert helpers["jixiao.podSpec"].count("emptyDir:") == 2


# --- workloads ---------------------------------------------------------------------------------


def test_migrate_job_is_a_pre_install_pre_upgrade_hook():
    text = read(TEMPLATES / "job-migrate.yaml")
    assert text.lstrip().startswith("{{") and "if .Values.migrations.enabled" in text
    jobs = [d for d in documents(text) if re.search(r"(?m)^kind: Job$", d)]
    assert len(jobs) == 1
    job = jobs[0]
    assert re.search(r'(?m)^\s+"?helm\.sh/hook"?: "?pre-install,pre-upgrade"?$', job)
    assert re.search(r'(?m)^\s+"?helm\.sh/hook-delete-policy"?: "?before-hook-creation"?$', job)
    assert 'command: ["jixiao"]' in job and 'args: ["db", "upgrade"]' in job
    assert '"hook" true' in job  # loads the hook copies of ConfigMap and Secret
    # The copies run before the Job.
    for doc in documents(text):
        if re.search(r"(?m)^kind: (ConfigMap|Secret)$", doc):
            assert "pre-install,pre-upgrade" in doc and 'hook-weight: "-10"' in doc


def test_web_deployment():
    text = read(TEMPLATES / "deployment-web.yaml")
    for probe, path in [
        ("startupProbe", "/healthz"),
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ]:
        assert re.search(r"(?m)^\s+path: (\S+)$", block_after(text, probe)).group(1) == path, probe
    assert 'command: ["jixiao", "serve"]' in text
    assert "--bind=0.0.0.0:8000" in text
    assert "--workers={{ .Values.web.gunicorn.workers }}" in text
    assert "--threads={{ .Values.web.gunicorn.threads }}" in text
    assert "--access-logfile" not in text  # the app writes the access line (platform/web/access_log.py)
    assert "containerPort: 8000" in text
    assert "if not .Values.web.autoscaling.enabled" in text


def test_worker_runs_jixiao_worker():
    text = read(TEMPLATES / "deployment-worker.yaml")
    assert 'command: ["jixiao"]' in text
    assert re.search(r"(?m)^\s+args:\n\s+- worker$", text)


def test_cronjobs_range_over_values():
    text = read(TEMPLATES / "cronjobs.yaml")
    assert re.search(r"range \$name, \$entry := \.Values\.cronJobs", text)
    assert 'command: ["jixiao"]' in text and "range $job.args" in text
    assert "$job.schedule" in text


@pytest.mark.parametrize(
    "name, guard, api",
    [
        ("ingress.yaml", "if .Values.ingress.enabled", "networking.k8s.io/v1"),
        ("hpa.yaml", "if .Values.web.autoscaling.enabled", "autoscaling/v2"),
        ("pdb.yaml", "if .Values.podDisruptionBudget.enabled", "policy/v1"),
    ],
)
def test_optional_objects(name, guard, api):
    text = read(TEMPLATES / name)
    first = action_body(ACTION.findall(text)[0])
    assert first == guard
    assert f"apiVersion: {api}" in text


def test_notes_bilingual_with_bootstrap_command():
    text = read(TEMPLATES / "NOTES.txt")
    assert "jixiao tenants bootstrap --code 640000 --name 宁夏回族自治区 --admin-username <name>" in text
    assert "exec -it deploy/{{ $web }}" in text
    assert "访问" in text and "Reach the app" in text
    assert "jixiao demo load" in text


# --- the image the chart runs ----------------------------------------------------------------


def test_dockerfile_matches_chart():
    dockerfile = read(ROOT / "Dockerfile")
    values = load_yaml(CHART / "values.yaml")
    froms = re.findall(r"(?m)^FROM\s+(\S+)", dockerfile)
    assert len(froms) >= 2, "multi-stage"
    assert re.search(r"(?m)^ARG PYTHON_IMAGE=python:3\.11-slim$", dockerfile)
    user = re.search(r"(?m)^USER\s+(\d+)(?::(\d+))?$", dockerfile)
    assert user and user.group(1) != "0", "numeric non-root USER"
    assert int(user.group(1)) == values["podSecurityContext"]["runAsUser"]
    assert re.search(r"(?m)^EXPOSE 8000$", dockerfile)
    assert "pip wheel" in dockerfile and "python -m venv" in dockerfile
    cmd = re.search(r"(?ms)^CMD \[(.*?)\]", dockerfile).group(1)
    assert '"jixiao", "serve"' in cmd and '"0.0.0.0:8000"' in cmd
    assert values["config"]["instanceDir"] in dockerfile


def test_dockerignore_keeps_local_state_out():
    patterns = {
        line.strip()
        for line in read(ROOT / ".dockerignore").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for required in [".git", ".venv", "instance/", "**/__pycache__", "**/node_modules", ".pytest_cache"]:
        assert required in patterns, required


def assert_cli_command(args: list[str]) -> None:
    """`jixiao <args…>` names an existing command of the console script (resolved by click)."""
    import click

    from jixiao.platform.web.cli import main

    ctx = click.Context(main)
    command: click.Command = main
    for word in args:
        if not isinstance(command, click.Group):
            break
        found = command.get_command(ctx, word)
        assert found is not None, f"jixiao {' '.join(args)}: no command {word!r}"
        command = found
    assert not isinstance(command, click.Group), f"jixiao {' '.join(args)} is a group, not a command"
