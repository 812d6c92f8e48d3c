# The image of spiderpool-controller, spiderpool-agent and the CNI plugin: one image, three
# programs; the Helm chart (charts/spiderpool) picks the command. test/build/dockerfile.test.ts
# runs this file's build steps and checks that everything the last stage copies exists and runs.
ARG NODE_IMAGE=node:20-bookworm-slim

# Build: the bundles (esbuild), the plugin's host artifact (a single executable: hosts have no
# Node.js), then the production dependencies only.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/bundle.mjs --host
RUN npm prune --omit=dev --no-audit --no-fund

# Run: the bundles, their packages, the plugin artifact and its installer; no sources, no
# dev tools. Non-root by default; the chart runs the agent (a root-owned hostPath socket) and
# the CNI install init container (the host's /opt/cni/bin) as root, without capabilities.
FROM ${NODE_IMAGE}
WORKDIR /opt/spiderpool
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/webhook ./webhook
COPY --from=build /src/dist/agent ./agent
COPY --from=build /src/dist/cni/host ./cni
COPY --from=build /src/scripts/install-cni.sh ./install-cni.sh
USER 1000:1000
CMD ["node", "--enable-source-maps", "--heap-growing-percent=30", "/opt/spiderpool/webhook/spiderpool-controller.mjs"]
