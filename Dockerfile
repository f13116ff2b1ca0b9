# LiveGrad: lessons + live PyTorch demos, CPU only, served by uvicorn on :8000.
#   docker build -t livegrad .
#   docker run --rm -p 8000:8000 livegrad      # then open http://127.0.0.1:8000
# The same image is also a Ray node (`ray start ...`), so deploy/compose.yaml runs the
# web replicas, the Ray head and the Ray workers from it: `app` is importable everywhere.
# Without Ray (~0.25 GB smaller): docker build --build-arg LIVEGRAD_EXTRAS= .
FROM python:3.11-slim

# Which optional extras of pyproject.toml to install: "cluster" is Ray.
ARG LIVEGRAD_EXTRAS=cluster

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RAY_USAGE_STATS_ENABLED=0

WORKDIR /srv/livegrad

# torch first, in its own layer, from the CPU-only index: a bare "torch" from
# PyPI would pull gigabytes of CUDA wheels. Keep the pin equal to pyproject.toml.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Runtime dependencies only (no [test] extra). Editable, so the one copy of app/ is
# this folder's and app/config.py's ROOT finds lessons/, static/ and templates/ here.
COPY pyproject.toml ./
COPY app/ ./app/
RUN pip install --no-cache-dir -e ".[${LIVEGRAD_EXTRAS}]"

COPY lessons/ ./lessons/
COPY static/ ./static/
COPY templates/ ./templates/

# A numeric, non-root user: resolvable by the host and by Kubernetes' runAsNonRoot.
# It has a home: Ray keeps its files under /tmp/ray and ~/.ray.
RUN groupadd --gid 10001 livegrad \
    && useradd --no-log-init --create-home --uid 10001 --gid 10001 \
       --shell /usr/sbin/nologin livegrad
USER 10001:10001

EXPOSE 8000

# For the web server. Ray nodes (deploy/compose.yaml) replace it with their own.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
