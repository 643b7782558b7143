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

# Debian's MathJax 2, so `make site` typesets formulas offline (the site never loads it from the web), and
# Prometheus, its Pushgateway and Alertmanager (notebook 01's monitoring stack, as CI installs them). policy-rc.d
# keeps the packages from starting their daemons during the build; apt's lists and downloaded .debs go (a base
# made by mmdebstrap, unlike the public image, keeps the .debs: 86 MB).
# hadolint ignore=DL3008
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
    && apt-get update \
    && apt-get install -y --no-install-recommends libjs-mathjax prometheus prometheus-pushgateway \
       prometheus-alertmanager \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/sbin/policy-rc.d

RUN useradd --create-home --uid 1000 learner && python3 -m venv /opt/venv
WORKDIR /home/learner/lifecycle-lab

# Dependencies first (exact versions from the lock), so code changes do not reinstall them. Byte-code for every
# package but their own test suites (~85 MB of .pyc no one imports): /opt/venv is not writable by the learner,
# so without it each kernel would compile pandas, scikit-learn, MLflow... again at every start.
COPY requirements.lock ./
# hadolint ignore=DL3013
RUN pip install ${WHEELS:+--no-index --find-links "$WHEELS"} --target /tmp/uv --no-deps "uv==$UV_VERSION" \
    && /tmp/uv/bin/uv pip install --no-cache ${WHEELS:+--no-index --find-links "$WHEELS"} \
       --no-deps -r requirements.lock \
    && rm -rf /tmp/uv \
    && python -m compileall -q -j 0 -x '/tests?/' /opt/venv/lib/python3.11/site-packages

# What a learner works with, nothing else (tests/, bench/, tools/ and CI files stay out, so changing them does
# not rebuild the image; `make images` labels it with a digest of exactly these files).
COPY --chown=1000:1000 pyproject.toml README.md ./
COPY --chown=1000:1000 src ./src
COPY --chown=1000:1000 notebooks ./notebooks
COPY --chown=1000:1000 solutions ./solutions
COPY --chown=1000:1000 course ./course
COPY --chown=1000:1000 datasets ./datasets
COPY --chown=1000:1000 docker/postman ./docker/postman
# The offline JupyterLab settings go into the environment now: the learner (uid 1000) cannot write /opt/venv.
# hadolint ignore=DL3013
RUN pip install ${WHEELS:+--no-index --find-links "$WHEELS"} --no-deps -e . && python -m ipykernel install --sys-prefix --name python3 \
    && python -c "from lifecycle_lab.course.lab import write_lab_settings; write_lab_settings()"

USER 1000
EXPOSE 8888
# The same offline flags as `make lab` (one source: lifecycle_lab/course/lab.py).
CMD ["lifecycle-lab", "lab", "--", "--ip=0.0.0.0", "--port=8888", "--no-browser"]
