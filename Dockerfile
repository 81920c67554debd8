# jixiao image: one image for every role — web (the default CMD), `jixiao worker`,
# `jixiao db upgrade` and scheduled `jixiao …` commands (see helm/jixiao).
#
#   docker build -t registry.example.gov.cn/jixiao/jixiao:0.1.0 .
#
# Needs BuildKit (the default builder since Docker 23) for the bind mount in the final stage;
# its built-in Dockerfile frontend is enough (no `# syntax=` line, so nothing is pulled from
# Docker Hub on a closed network besides the base image).

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------
# build: wheels for jixiao and every dependency, so the final stage installs offline and
# carries no compiler.
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# A compiler, for any dependency that has no wheel for this platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project'].get('dependencies', []); open('/tmp/requirements.txt', 'w').write(''.join(d + '\n' for d in deps))" \
 && if [ -s /tmp/requirements.txt ]; then pip wheel --wheel-dir /wheels -r /tmp/requirements.txt; fi

# Then the application itself (the .dockerignore keeps tests, .git, .venv, instance/ … out);
# anything not prepared above (e.g. dynamic dependencies) is fetched now.
COPY . .
RUN pip wheel --find-links=/wheels --wheel-dir /wheels .

# ---------------------------------------------------------------------------------------------
# runtime
FROM ${PYTHON_IMAGE} AS runtime

# Debian packages the app needs at run time: the pilot reports' and 专报's PDF are WeasyPrint's
# (Pango) with the Noto CJK fonts embedded (README "Pilot reports"); the rest ships as manylinux
# wheels (psycopg[binary] bundles libpq, matplotlib draws the charts).
ARG RUNTIME_PACKAGES="fonts-noto-cjk fontconfig libpango-1.0-0 libpangoft2-1.0-0"
RUN if [ -n "${RUNTIME_PACKAGES}" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends ${RUNTIME_PACKAGES} \
      && rm -rf /var/lib/apt/lists/*; \
    fi

# Non-root user with a fixed numeric id (the Helm chart's runAsUser/fsGroup use 10001).
RUN groupadd --system --gid 10001 jixiao \
 && useradd --system --uid 10001 --gid jixiao --home-dir /app --no-create-home \
            --shell /usr/sbin/nologin jixiao \
 && mkdir -p /app/instance \
 && chown -R jixiao:jixiao /app

# Install the wheels into a virtual environment, straight from the build stage (bind mount:
# the wheels never become a layer of this image). Then check that the wheel carried the three
# code folders under the jixiao import root (see DESIGN.md, "Import name") and that both
# entry points exist (gunicorn must be one of jixiao's own dependencies).
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
        --no-index --find-links=/wheels jixiao \
 && /opt/venv/bin/python -c "import importlib.util as u, sys; missing = [m for m in ('jixiao.platform.web.app', 'jixiao.tenants', 'jixiao.services') if u.find_spec(m) is None]; sys.exit(f'not in the wheel: {missing}' if missing else 0)" \
 && test -x /opt/venv/bin/gunicorn \
 && test -x /opt/venv/bin/jixiao

# JIXIAO_INSTANCE is scratch only: Kubernetes mounts an emptyDir there, and /tmp, because the
# root filesystem is read-only; caches (fontconfig …) therefore go to /tmp as well.
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    JIXIAO_INSTANCE=/app/instance \
    XDG_CACHE_HOME=/tmp/.cache

# The working directory holds no source tree: a folder named `platform` on sys.path would
# shadow the standard library (gunicorn puts the working directory on sys.path).
WORKDIR /app
USER 10001:10001

EXPOSE 8000

# Web by default (`jixiao serve`: gunicorn, workers and threads from JIXIAO_WEB_*); workers run
# `jixiao worker`, migrations `jixiao db upgrade`.
CMD ["jixiao", "serve", "--bind", "0.0.0.0:8000"]
