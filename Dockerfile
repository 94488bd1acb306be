# Multi-stage image: the build stage installs the service (runtime dependencies only, no training extras) into a
# virtual environment against constraints.txt; the runtime stage carries that environment and the shipped default
# model (models/default, copied, verified at start), runs under tini as a non-root user, and keeps its SQLite
# file in /srv/var (mount a volume there). Builds with the classic builder or BuildKit, offline but for the
# Debian and Python package indexes.
#
# PYTHON_IMAGE is any Debian bookworm image with `python3.11` on PATH: the official image by default, or a local
# stand-in (scripts/docker-smoke builds one with debootstrap when no registry can be reached).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# pip verifies the index against the base image's CA store (add a TLS proxy's authority there, not here).
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=120 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY model model
COPY training training
COPY app app
# pip and setuptools are only needed to install; numpy's and scipy's own test suites are never run here.
RUN python3.11 -m venv /opt/venv \
 && /opt/venv/bin/pip install --constraint constraints.txt . \
 && /opt/venv/bin/pip uninstall --yes pip setuptools \
 && find /opt/venv/lib/python3.11/site-packages/numpy /opt/venv/lib/python3.11/site-packages/scipy \
      -depth -type d -name tests -exec rm -rf {} +

FROM ${PYTHON_IMAGE} AS runtime
# libgomp1: LightGBM's OpenMP runtime. tini: PID 1, forwards docker stop's SIGTERM and reaps children.
RUN apt-get update \
 && apt-get install --yes --no-install-recommends libgomp1 tini \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/cache/apt/*.bin \
 && groupadd --system --gid 10001 radar \
 && useradd --system --uid 10001 --gid radar --home-dir /srv --no-create-home --shell /usr/sbin/nologin radar \
 && install --directory --owner radar --group radar --mode 0755 /srv \
 && install --directory --owner radar --group radar --mode 0750 /srv/var
COPY --from=build /opt/venv /opt/venv
COPY models/default /opt/models/default
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PARCEL_RADAR_ENVIRONMENT=production \
    PARCEL_RADAR_MODEL_DIR=/opt/models/default \
    PARCEL_RADAR_DATABASE_URL=sqlite:////srv/var/parcel-radar.db \
    PARCEL_RADAR_HOST=0.0.0.0 \
    PARCEL_RADAR_PORT=8000
WORKDIR /srv
USER radar
EXPOSE 8000
# Shell form, so the probe follows PARCEL_RADAR_PORT as set when the container runs.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PARCEL_RADAR_PORT', '8000'), timeout=4)"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["python", "-m", "app", "serve"]
