# The workbook image for workshop rooms: JupyterLab on the locked environment, learner copies open.
#   docker build -f docker/workbook.Dockerfile -t lifecycle-lab .
#   docker run --rm -p 8888:8888 lifecycle-lab
# BASE, WHEELS and the installer: as in docker/service.Dockerfile (`make images` builds both images offline).
ARG BASE=python:3.11.7-slim-bookworm
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
ARG UV_VERSION=0.13.8
ARG WHEELS=

# Debian's MathJax 2, so `make site` typesets formulas offline (the site never loads it from the web).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libjs-mathjax \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 learner && python3 -m venv /opt/venv
WORKDIR /home/learner/lifecycle-lab

# Dependencies first (exact versions from the lock), so code changes do not reinstall them.
COPY requirements.lock ./
# hadolint ignore=DL3013
RUN pip install ${WHEELS:+--no-index --find-links "$WHEELS"} --target /tmp/uv --no-deps "uv==$UV_VERSION" \
    && /tmp/uv/bin/uv pip install --no-cache --compile-bytecode ${WHEELS:+--no-index --find-links "$WHEELS"} \
       --no-deps -r requirements.lock \
    && rm -rf /tmp/uv

COPY --chown=1000:1000 . .
# hadolint ignore=DL3013
RUN pip install ${WHEELS:+--no-index --find-links "$WHEELS"} --no-deps -e . && python -m ipykernel install --sys-prefix --name python3

USER 1000
EXPOSE 8888
# The same offline flags as `make lab` (one source: lifecycle_lab/course/lab.py).
CMD ["lifecycle-lab", "lab", "--", "--ip=0.0.0.0", "--port=8888", "--no-browser"]
