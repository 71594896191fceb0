# The cutover load generator as an image: each pod of the Indexed Job that `cutover k8s render`
# writes runs one shard (`cutover load … --shard` from JOB_COMPLETION_INDEX) in it, the scenario
# and config mounted from a ConfigMap. Compiled by the package's own build, as gateway.Dockerfile
# is. Build context: the repository root, or the installed package's folder:
#   docker build -f containers/generator.Dockerfile -t cutover-generator:0.1.0 .
# Every COPY below names files the npm package ships (package.json "files"; a test holds the two
# together), and both .dockerignore files let only those into the context.
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
# The HTML report's template, read from src/ at run time: `cutover merge` and `report` work here too.
COPY --from=build /app/src/report/templates ./src/report/templates
# `cutover` on the PATH, as the Job's shell script calls it (bin/ stays out of the context).
RUN printf '#!/bin/sh\nexec node /app/dist/src/cli/main.js "$@"\n' > /usr/local/bin/cutover \
  && chmod 755 /usr/local/bin/cutover
# uid 1000, as the rendered pods' securityContext expects; the run dir and results are outside /app.
USER node
WORKDIR /home/node
ENTRYPOINT ["cutover"]
CMD ["--help"]
