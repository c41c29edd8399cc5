# Stampede application image. Build: docker build -t stampede .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
RUN useradd --system --create-home --home-dir /home/stampede stampede

# Dependencies first (pinned by constraints.txt), so code changes reuse this layer.
COPY pyproject.toml constraints.txt README.md ./
COPY server/__init__.py server/__init__.py
RUN pip install --no-cache-dir -c constraints.txt -e .

COPY server ./server
COPY sql ./sql
# Swagger UI and ReDoc from the npm registry (integrity-checked), at build time, never at runtime.
RUN python -m server.docs_assets

USER stampede
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=3).status != 200)"]
CMD ["python", "-m", "server"]
