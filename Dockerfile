# castbot: one process for Discord + Telegram, SQLite and images under /data.
# Build: docker build -t castbot .   Run: see compose.yaml and docs/operators.md.

# --- build stage: resolve and install from the lock with uv, no compilers needed at runtime ---------
FROM python:3.11-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first, so editing castbot's code does not re-download them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY core ./core
COPY adapters ./adapters
COPY bot ./bot
# The same install step as docs/operators.md ("Install without Docker").
RUN uv sync --frozen --no-dev --no-editable

# --- runtime stage: slim Python, the virtualenv, a non-root user, data on a volume --------------------
FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 castbot \
    && useradd --system --uid 10001 --gid castbot --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin castbot \
    && mkdir -p /data \
    && chown castbot:castbot /data
COPY --from=build /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    CASTBOT_DATA_DIR=/data \
    CASTBOT_HTTP_PORT=8080
WORKDIR /data
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
# 200 from /healthz means the process runs and its database answers (adapters reconnecting stay 200).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CASTBOT_HTTP_PORT', '8080'), timeout=4)"]
# castbot run stops within 10 s of SIGTERM; compose gives it 15 s before SIGKILL.
STOPSIGNAL SIGTERM
CMD ["castbot", "run"]
