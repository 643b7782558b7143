# The ticket service image: the REST API (default) or the batch job, on the locked environment.
#   docker build -f docker/service.Dockerfile -t lifecycle-lab-service .
#   docker run --rm -p 8000:8000 -v "$PWD/models:/models:ro" lifecycle-lab-service
#   docker run --rm -v "$PWD/data:/data" -v "$PWD/models:/models:ro" lifecycle-lab-service \
#     batch /data/tickets.csv --db postgresql+psycopg://batch@db/tickets --model /models/current
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=1

RUN useradd --create-home --uid 1000 service
WORKDIR /app

# Dependencies first, exact versions from the lock, so a code change does not reinstall them.
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock

COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-deps .

USER 1000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
ENTRYPOINT ["lifecycle-lab"]
CMD ["serve", "--model", "/models/current", "--host", "0.0.0.0", "--port", "8000", "--log", "/tmp/predictions.jsonl"]
