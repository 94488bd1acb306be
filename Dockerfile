# syntax=docker/dockerfile:1
# Multi-stage image: the build stage installs the service into a virtual environment; the runtime stage carries
# that environment and the shipped default model (models/default, verified at start), and runs as non-root.
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY model model
COPY training training
COPY app app
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --constraint constraints.txt .

FROM python:3.11-slim-bookworm AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /srv radar
COPY --from=build /opt/venv /opt/venv
COPY models/default /opt/models/default
ENV PATH=/opt/venv/bin:$PATH \
    PARCEL_RADAR_ENVIRONMENT=production \
    PARCEL_RADAR_MODEL_DIR=/opt/models/default \
    PARCEL_RADAR_DATABASE_URL=sqlite:////srv/var/parcel-radar.db \
    PARCEL_RADAR_HOST=0.0.0.0 \
    PARCEL_RADAR_PORT=8000
WORKDIR /srv
USER radar
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["python", "-m", "app", "serve"]
