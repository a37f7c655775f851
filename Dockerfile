# syntax=docker/dockerfile:1
# One image for every medrollup service (docker-compose.yml picks the npm script per container):
#   docker build -t medrollup .
#   docker run --rm medrollup npm run sequencer     # the default command
# Node 24 comes from the base image and, for npm scripts, from the npm package `node` (`npm ci`
# installs the pinned version). The build context is filtered by .dockerignore.

# --- build: dependencies (with a toolchain in case an optional native module has no prebuilt
# binary for this platform) and the compiled contracts ------------------------------------------
FROM node:24-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
# Dev dependencies too: the circuit toolchain (circom2, snarkjs) runs when `deploy` sets up keys.
RUN npm ci
COPY . .
# solc-js: contracts/artifacts and contracts/types (TypeChain), baked into the image.
RUN npx tsx contracts/build.ts

# --- runtime: the same tree without the compiler toolchain, run as the unprivileged `node` user ---
FROM node:24-bookworm-slim
# loglevel silent: npm's "> medrollup@0.1.0 <script>" banner would break the JSON log stream.
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_LOGLEVEL=silent \
    LOG_FORMAT=json \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app /app
# The code stays root-owned (read-only to the service). Writable: /data (the compose volume is
# seeded with this ownership), Ponder's codegen output under indexer/, and the circuit compile cache
# (circuits/compile.ts writes node_modules/.cache/medrollup-circuits).
RUN mkdir -p /data /app/indexer/generated /app/indexer/.ponder /app/node_modules/.cache \
 && chown -R node:node /data /app/indexer /app/node_modules/.cache
USER node
EXPOSE 4000 8545 8546 8550 8551 8552 8560 8561 8562 8563 8569 42069
CMD ["npm", "run", "sequencer"]
