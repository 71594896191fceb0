# The cutover reference gateway (reference/gateway) as an image, compiled by the package's own
# build and run from dist/ as the local stack runs it. Build context: the repository root
# (containers/compose.yaml sets it); gateway.Dockerfile.dockerignore keeps the context small.
FROM node:20.18.1-alpine AS build
WORKDIR /app
COPY . .
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npx tsc -p tsconfig.build.json \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20.18.1-alpine
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY containers/gateway-entrypoint.mjs ./docker/gateway-entrypoint.mjs
USER node
EXPOSE 8000
ENTRYPOINT ["node", "containers/gateway-entrypoint.mjs"]
