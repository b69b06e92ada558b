# syntax=docker/dockerfile:1
# aexy-stream: one image for every subcommand (`run`, `ingest webhook`, `topics create`, ...).
#   docker build -t aexy-stream:0.1.0 .
#   docker run --rm -e KAFKA_BOOTSTRAP_SERVERS=kafka:9092 aexy-stream:0.1.0            # the processor
#   docker run --rm -p 8080:8080 aexy-stream:0.1.0 ingest webhook                        # the receiver
# The builder installs the project and its dependencies (all published as wheels) into a virtual
# environment; the runtime stage copies that environment alone, so pip's caches, the sources and any
# build tool stay behind.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
# .dockerignore keeps tests, benchmarks, deploy files, caches and any .env out of this copy.
COPY . .
RUN /opt/venv/bin/pip install --no-cache-dir . \
    && /opt/venv/bin/pip uninstall --yes pip

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="aexy-stream" \
      org.opencontainers.image.description="Event-driven LLM analysis pipeline (Kafka in, typed results out)" \
      org.opencontainers.image.licenses="MIT"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 aexy \
    && useradd --system --uid 10001 --gid aexy --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin aexy
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# Numeric, so Kubernetes can check runAsNonRoot without a passwd lookup.
USER 10001:10001
# `run` serves /healthz and /metrics on HTTP_PORT; `ingest webhook` serves WEBHOOK_PORT.
EXPOSE 8000 8080
ENTRYPOINT ["aexy-stream"]
CMD ["run"]
