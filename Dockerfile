# syntax=docker/dockerfile:1
# The tick engine's image: one image for every process, the command chosen at run time
#   docker build -t tick-engine .
#   docker run --rm tick-engine gateway        (aggregate | ingest | push-gateway | replay | config | --help)
# deploy/compose.yaml runs the whole engine with it; deploy/k8s/ has the Kubernetes manifests; docs/operations.md.
# Checked (no Docker engine where the tests run) by tests/deploy/artefacts.test.ts: the steps below are the test
# command's own scripts, every file copied exists and is not ignored, the user is not root, the health check asks the
# port the configuration gives each process.

# Debian bookworm (glibc 2.36), not Alpine: uWebSockets.js is a prebuilt binary for glibc (docs/architecture.md).
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: exactly what `npm test` does first (scripts/ensure-deps.sh: `npm ci`, then `tsc -p tsconfig.json` into
# dist/; tsconfig compiles src, tests and bench together, so all three are copied) ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The native kernel (native/: a C++ Node-API addon) is built here from source by npm ci's postinstall
# (scripts/build-native.sh: node-gyp against the installed Node's headers, never a prebuilt download), so this stage has
# g++, make and python3; its .node file is copied into the runtime stage. tests/deploy/artefacts.test.ts fails while a
# stage that installs lacks a file npm's lifecycle scripts or ensure-deps.sh name.
RUN apt-get update && apt-get install -y --no-install-recommends g++ make python3 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
COPY patches/ patches/
COPY scripts/ensure-deps.sh scripts/build-native.sh scripts/
COPY native/ native/
COPY src/ src/
COPY tests/ tests/
COPY bench/ bench/
RUN --mount=type=cache,target=/root/.npm bash scripts/ensure-deps.sh

# --- deps: production dependencies only, from the same lock file, with the same patches (postinstall: patch-package) ---
# (the addon is built once, in the build stage: here its build script finds no toolchain and says so in one line)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches/ patches/
COPY scripts/build-native.sh scripts/
COPY native/ native/
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund --loglevel=error

# --- runtime: node, the production dependencies, the compiled engine, and the files it reads at run time ---
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
# In a container the processes must listen beyond loopback for published ports and probes to reach them (the
# defaults, 127.0.0.1, suit a workstation). The gateway's Host check then accepts any name (TE_ALLOWED_HOSTS).
ENV NODE_ENV=production \
    TE_GATEWAY_HOST=0.0.0.0 \
    TE_PUSH_HOST=0.0.0.0
COPY --from=deps /app/node_modules/ node_modules/
COPY --from=build /app/dist/src/ dist/src/
# The native kernel built in the build stage (TE_KERNEL=auto runs it; without it the TypeScript kernel runs).
COPY --from=build /app/native/build/Release/ native/build/Release/
# package.json marks the project root (src/paths.ts); the Avro schemas, the chart page and the load scenarios are
# read from there at run time.
COPY package.json ./
COPY schemas/ schemas/
COPY src/gateway/public/ src/gateway/public/
COPY bench/scenarios/ bench/scenarios/
# The files stay root's and read-only; the processes run as the image's `node` user, by number so that Kubernetes'
# runAsNonRoot can verify it. They write nothing to disk (logs go to stdout).
USER 1000:1000
# gateway (TE_GATEWAY_PORT), aggregate /metrics (TE_METRICS_PORT), ingest --feed /metrics (TE_FEED_METRICS_PORT),
# push-gateway (TE_PUSH_PORT): the configuration's defaults.
EXPOSE 8088 9464 9465 8089
# Asks /health of whichever command runs, on its configured port (src/cli/health-url.ts); a process that serves
# none (the simulated feed) is healthy while it runs.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/src/cli/healthcheck.js"]
ENTRYPOINT ["node", "--enable-source-maps", "dist/src/cli/main.js"]
CMD ["--help"]
