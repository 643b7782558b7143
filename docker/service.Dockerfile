# The ticket service image: the REST API (default) or the batch job, on the locked environment.
#
# What it serves: an artifact folder exported from the model registry's champion, mounted at /models/current:
#   .venv/bin/lifecycle-lab export-model --registry sqlite:///path/mlflow.db --alias champion --to models/current
# The review threshold and the version come from that artifact (model.json); its checksums are verified at start.
#
#   docker build -f docker/service.Dockerfile -t lifecycle-lab-service .
#   docker run --rm -p 8000:8000 -v "$PWD/models:/models:ro" lifecycle-lab-service
#   docker run --rm -v "$PWD/data:/data" -v "$PWD/models:/models:ro" lifecycle-lab-service \
#     batch /data/tickets.csv --db postgresql+psycopg://batch@db/tickets --model /models/current
#
# Dependencies: docker/requirements-service.lock, the subset of requirements.lock the service imports (same
# versions, derived by docker/service_lock.py; a test checks it is current and that `serve` and `batch` run
# with only those packages importable), installed by uv (the Makefile's version) into a venv at /opt/venv.
#
# BASE: any Debian-based Python 3.11 image. WHEELS: empty, packages come from the package index; a folder,
# they come only from the wheels in it (mounted at build time). `make images` builds this image with neither
# a registry nor the index: a base made from Debian's packages (mmdebstrap) and a wheelhouse of the lock, then
# CI runs the batch job and the API inside it (lifecycle_lab/deployment/images.py, tests/integration/test_images.py).
ARG BASE=python:3.11.7-slim-bookworm
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
ARG UV_VERSION=0.13.8
ARG WHEELS=

RUN useradd --create-home --uid 1000 service && python3 -m venv /opt/venv
WORKDIR /app

# Dependencies first, exact versions from the service lock, so a code change does not reinstall them.
COPY docker/requirements-service.lock ./
# hadolint ignore=DL3013
RUN pip install ${WHEELS:+--no-index --find-links "$WHEELS"} --target /tmp/uv --no-deps "uv==$UV_VERSION" \
    && /tmp/uv/bin/uv pip install --no-cache --compile-bytecode ${WHEELS:+--no-index --find-links "$WHEELS"} \
       --no-deps -r requirements-service.lock \
    && rm -rf /tmp/uv

COPY pyproject.toml README.md ./
COPY src ./src
# hadolint ignore=DL3013
RUN pip install ${WHEELS:+--no-index --find-links "$WHEELS"} --no-deps .

USER 1000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
ENTRYPOINT ["lifecycle-lab"]
CMD ["serve", "--model", "/models/current", "--host", "0.0.0.0", "--port", "8000", "--log", "/tmp/predictions.jsonl"]
