# syntax=docker/dockerfile:1
# One image for every newsflow service: `newsflow serve fetcher|cleaner|classifier|storage`.
#
# build: resolve and install the package and its dependencies into a virtualenv. Every
#        dependency ships manylinux wheels (lxml, numpy, psycopg[binary], fasttext's),
#        so no compiler is needed even here; the runtime stage copies only the venv.
# runtime: slim Python, a non-root user, the venv and the models, nothing else.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY newsflow ./newsflow
RUN pip install --upgrade pip && pip install . && pip check
# models/ is optional in the build context: an empty folder keeps the COPY below valid.
COPY . /context
RUN mkdir -p /context/models && mv /context/models /models && rm -rf /context

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="newsflow" \
      org.opencontainers.image.description="newsflow pipeline services (fetcher, cleaner, classifier, storage)"
# uid/gid 10001: not root, and not a uid that exists on a typical host.
RUN groupadd --system --gid 10001 newsflow \
 && useradd --system --uid 10001 --gid newsflow --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin newsflow
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=root:root /models /app/models
WORKDIR /app
# The root filesystem is read-only in compose.yaml; anything a library caches goes to /tmp
# (a tmpfs there). Python writes no .pyc at run time and never buffers the JSON logs.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    NEWSFLOW_CLASSIFIER_MODELS_DIR=/app/models
USER 10001:10001
EXPOSE 9101 9102 9103 9104
ENTRYPOINT ["newsflow"]
CMD ["--help"]
