#!/bin/sh
# The build stage of every service image (run from the repository root inside the image, after
# `pnpm fetch` filled the store from the lockfile):
#   infra/docker/build-service.sh services/<name> /out
# Installs the service and its workspace dependencies from the lockfile, runs their `generate`
# scripts (Prisma client, browser SDK bundle), compiles them, then reinstalls production
# dependencies only (same lockfile, offline) and copies the runtime tree to <out>: the root
# node_modules and, for the service and each workspace package it uses, package.json, dist,
# node_modules and the files served or read at run time (prisma/migrations, demo/, assets/). The layout
# under <out> is the repository's, so pnpm's relative links keep working: run the service with
# `node services/<name>/dist/main.js` from <out>, or from <out>/services/<name>.
set -eu
dir="${1:?usage: build-service.sh services/<name> <out>}"
out="${2:?usage: build-service.sh services/<name> <out>}"
name="$(node -p "require('./$dir/package.json').name")"

pnpm install --offline --frozen-lockfile --filter-prod "$name..."
pnpm --filter-prod "$name..." run generate
node node_modules/typescript/bin/tsc -b "$dir"

# Production dependencies only, from the same lockfile (no re-resolution, no network).
rm -rf node_modules packages/*/node_modules services/*/node_modules infra/*/node_modules
pnpm install --offline --frozen-lockfile --prod --filter-prod "$name..."

mkdir -p "$out"
cp -a package.json node_modules "$out/"
for pkg in $(pnpm --filter-prod "$name..." exec pwd); do
  rel="${pkg#"$(pwd)"/}"
  mkdir -p "$out/$rel"
  for part in package.json dist node_modules prisma/migrations demo assets; do
    if [ -e "$rel/$part" ]; then
      mkdir -p "$out/$rel/$(dirname "$part")"
      cp -a "$rel/$part" "$out/$rel/$part"
    fi
  done
done
test -f "$out/$dir/dist/main.js"
test -d "$out/$dir/prisma/migrations"
test -f "$out/packages/service-kit/dist/index.js"
