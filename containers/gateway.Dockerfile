# The cutover reference gateway (reference/gateway) as an image, compiled by the package's own
# build and run from dist/ as the local stack runs it. Build context: the repository root, or the
# installed package's folder (containers/compose.yaml sets it). Every COPY below names files the
# npm package ships (package.json "files"; a test holds the two together), and the .dockerignore
# files let only those into the context.
FROM node:20.18.1-alpine AS build
WORKDIR /app
# npm leaves package-lock.json out of every package it packs, so an installed cutover has none:
# there, npm install resolves the ranges package.json names; a checkout installs from its lock.
COPY package.json package-lock.json* tsconfig.json tsconfig.build.json ./
# The electron shim is a file: dependency, installed from the context.
COPY builds/sdk-shims ./builds/sdk-shims
RUN if [ -f package-lock.json ]; then npm ci --ignore-scripts --no-audit --no-fund; \
  else npm install --ignore-scripts --no-audit --no-fund; fi
COPY src ./src
COPY reference ./reference
RUN npx tsc -p tsconfig.build.json \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20.18.1-alpine
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/builds/sdk-shims ./builds/sdk-shims
COPY --from=build /app/dist ./dist
COPY containers/gateway-entrypoint.mjs ./containers/gateway-entrypoint.mjs
USER node
EXPOSE 8000
ENTRYPOINT ["node", "containers/gateway-entrypoint.mjs"]
