# WebOS module host: one image for every module in modules/ and the
# background workers. Runs one module by name:
#   docker build -f docker/modulehost.Dockerfile -t webos/modulehost .
#   docker run webos/modulehost tasks            # python -m webos_modulehost tasks
#   docker run --entrypoint python webos/modulehost -m webos_events.worker
# The task worker (entry-point group `webos.workers`, declared by the events
# package) runs from this image too, because it must import every module's
# tasks (group `webos.tasks`); the events package is installed for it.
FROM python:3.11.7-slim-bookworm AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements/ requirements/
COPY docker/build-wheels.sh docker/
COPY libs/ libs/
COPY modules/ modules/
COPY services/events/ services/events/
RUN sh docker/build-wheels.sh /wheels libs/webos_common libs/webos_modulehost services/events modules/*

FROM python:3.11.7-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEBOS_HOST=0.0.0.0 \
    WEBOS_PORT=8710 \
    WEBOS_STATE_DIR=/var/lib/webos \
    WEBOS_LOG_FORMAT=json
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels /wheels/*.whl \
    && groupadd --system --gid 10001 webos \
    && useradd --system --uid 10001 --gid webos --home-dir /var/lib/webos --create-home webos
COPY docker/healthcheck.py /usr/local/lib/webos/healthcheck.py
USER 10001:10001
WORKDIR /var/lib/webos
EXPOSE 8710
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "/usr/local/lib/webos/healthcheck.py"]
ENTRYPOINT ["python", "-m", "webos_modulehost"]
CMD ["--help"]
