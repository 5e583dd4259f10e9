# OpenCloak's container image: the embedded default (SQLite under /data) on Node 20; docs/operations.md, "Container".
# Built and run nowhere in this repository's CI (no container runtime there): test/ops/container-recipe.test.ts
# checks its structure only.

# Build stage: native addons (better-sqlite3, isolated-vm) need a compiler and Python for node-gyp.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The web site (dist/web) and the compiled command (dist/cli), then only what runs.
RUN npm run build:web && npm run build && npm prune --omit=dev --no-audit --no-fund

# Run stage: no compiler, a user of its own, the data directory on a volume.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    OPENCLOAK_DATA_DIR=/data
RUN groupadd --system opencloak \
    && useradd --system --gid opencloak --home-dir /data --shell /usr/sbin/nologin opencloak \
    && mkdir /data && chown opencloak:opencloak /data && chmod 700 /data
WORKDIR /app
# Owned by root and not writable by the server's user: the code cannot be changed from inside.
COPY --from=build /app /app
USER opencloak
# Databases, the CA, the noise secret: back them up together (README.md, "Backups").
VOLUME ["/data"]
# Web REST API, cloak API, Prometheus metrics (only with --metrics-port).
EXPOSE 8443 8444 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "scripts/healthcheck.mjs", "/healthz"]
# SIGTERM drains runs for shutdown.drainSeconds (30 s): give `docker stop -t 45` or more.
STOPSIGNAL SIGTERM
# --no-node-snapshot: isolated-vm needs it (the sandbox processes get it too).
ENTRYPOINT ["node", "--no-node-snapshot", "bin/opencloak.mjs"]
CMD ["start", "--host", "0.0.0.0"]
