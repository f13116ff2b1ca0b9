# LiveGrad: lessons + live PyTorch demos, CPU only, served by uvicorn on :8000.
#   docker build -t livegrad .
#   docker run --rm -p 8000:8000 livegrad      # then open http://127.0.0.1:8000
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/livegrad

# torch first, in its own layer, from the CPU-only index: a bare "torch" from
# PyPI would pull gigabytes of CUDA wheels. Keep the pin equal to pyproject.toml.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Runtime dependencies only (no [test] extra). Editable, so the one copy of app/ is
# this folder's and app/config.py's ROOT finds lessons/, static/ and templates/ here.
COPY pyproject.toml ./
COPY app/ ./app/
RUN pip install --no-cache-dir -e .

COPY lessons/ ./lessons/
COPY static/ ./static/
COPY templates/ ./templates/

# A numeric, non-root user: resolvable by the host and by Kubernetes' runAsNonRoot.
RUN groupadd --gid 10001 livegrad \
    && useradd --no-log-init --create-home --uid 10001 --gid 10001 \
       --shell /usr/sbin/nologin livegrad
USER 10001:10001

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
