# The grading service image (API and workers). Debian bookworm, like the development machines.
#
#   docker build -t cs231n-grader .
#   docker-compose up -d --scale worker=4        (see docker-compose.yml)
#
# bubblewrap is the sandbox of every grade; dataset-fashion-mnist provides the data the grader and the
# notebooks use (/usr/share/datasets/fashion-mnist). The project is installed editable in /app so the
# grader finds its assignments (grader/assignments/<A>/, solutions/<A>/, starter/<A>/, reference_outputs/<A>/)
# next to it.
FROM debian:bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1 \
    MPLBACKEND=Agg

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates \
      bubblewrap util-linux \
      dataset-fashion-mnist \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# dependencies first (cached while only the code changes): install the project's requirements from
# pyproject.toml, at the versions of constraints.txt (the ones the tests passed with), with an empty
# package, then the code itself; the test-only packages (the [test] extra) stay out of the image
COPY pyproject.toml constraints.txt ./
RUN python3 -m venv /opt/venv \
 && mkdir -p grader api \
 && touch grader/__init__.py api/__init__.py \
 && /opt/venv/bin/pip install --no-cache-dir -c constraints.txt -e . \
 && rm -rf grader api
# only what the service and the grader use (not .venv, .git, notebooks' outputs, ...)
COPY api ./api
COPY grader ./grader
COPY starter ./starter
COPY solutions ./solutions
COPY reference_outputs ./reference_outputs
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps -e . \
 && mkdir -p /var/lib/grader /var/lib/grader-datasets

ENV PATH=/opt/venv/bin:$PATH \
    GRADER_DATA_DIR=/var/lib/grader

# The service runs as root inside the container on purpose: the grader drops every grade to an
# unprivileged uid itself (setpriv to nobody / a per-sandbox uid, no capabilities, no_new_privs) before
# bubblewrap; see docker-compose.yml for the container privileges the sandbox needs.
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-m", "api", "ping", "--url", "http://127.0.0.1:8000/healthz"]
CMD ["python", "-m", "api", "serve", "--host", "0.0.0.0", "--port", "8000"]
