# The image of `netra serve`, `netra worker` and `netra migrate` (compose.yaml runs all three).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/netra
COPY pyproject.toml README.md /src/
COPY src /src/src
RUN /opt/netra/bin/pip install /src

FROM python:3.11-slim
ENV PATH=/opt/netra/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NETRA_ENV=production \
    NETRA_HOST=0.0.0.0 \
    NETRA_DATA_DIR=/var/lib/netra
RUN useradd --system --uid 10001 --home-dir /var/lib/netra --create-home netra
COPY --from=build /opt/netra /opt/netra
USER netra
WORKDIR /var/lib/netra
EXPOSE 8000
CMD ["netra", "serve"]
