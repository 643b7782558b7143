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
# with only those packages importable). CI lints this file (hadolint) but does not build the image: the install
# needs the network, which the test run forbids.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=1

RUN useradd --create-home --uid 1000 service
WORKDIR /app

# Dependencies first, exact versions from the service lock, so a code change does not reinstall them.
COPY docker/requirements-service.lock ./
RUN pip install --no-deps -r requirements-service.lock

COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-deps .

USER 1000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
ENTRYPOINT ["lifecycle-lab"]
CMD ["serve", "--model", "/models/current", "--host", "0.0.0.0", "--port", "8000", "--log", "/tmp/predictions.jsonl"]
