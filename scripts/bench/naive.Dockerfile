# The naive pattern the benchmark compares the generated Dockerfile against
# (scripts/bench/image.mjs): one stage, `pip install uv` inside the image, the
# whole context copied before the dependencies are installed (any code change
# reinstalls everything), no cache mount, running as root.
#
# Built from the same generated app and the same local base image as the
# generated Dockerfile. Two adaptations to that base (Debian's python3, not the
# official python image): pip lives in a venv (Debian has no global pip and
# refuses system-wide installs), and uv uses the image's python3 instead of
# downloading the one .python-version names (nothing can be downloaded here).
ARG PYTHON_IMAGE=python:3.12-slim-bookworm
FROM ${PYTHON_IMAGE}

ARG APP_MODULE=app
ENV APP_MODULE=${APP_MODULE} \
    UV_PYTHON=python3 \
    UV_PYTHON_DOWNLOADS=never \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt

WORKDIR /app
COPY . .
RUN python3 -m venv /opt/pip && /opt/pip/bin/pip install uv \
    && /opt/pip/bin/uv sync --frozen --no-dev

ENV PATH="/app/.venv/bin:${PATH}"
EXPOSE 8000
CMD python -m "$APP_MODULE"
