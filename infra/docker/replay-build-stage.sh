#!/usr/bin/env bash
# Replays the RUN steps of the image's `build` stage (infra/docker/Dockerfile, with SERVICE=<name>)
# without a Docker engine, in a fresh copy of the repository filtered by .dockerignore (what
# `COPY . .` would see), with /out mapped to a temp folder. Then the deployed folder can be started
# like the runtime stage would:
#   infra/docker/replay-build-stage.sh consumer-auth [path/to/Dockerfile]
#   cd /tmp/authplane-replay-consumer-auth/out/services/consumer-auth && NODE_ENV=production … node dist/main.js
# It checks the paths, workspace filters, Prisma generation, tsc and `pnpm deploy` of an image; it
# does not check the base image or the runtime user.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
name="${1:?usage: replay-build-stage.sh <service> [path/to/Dockerfile]}"
df="${2:-infra/docker/Dockerfile}"
# The build argument, as `docker build --build-arg SERVICE=<name>` passes it to every RUN.
export SERVICE="$name"
work="${TMPDIR:-/tmp}/authplane-replay-$name"
rm -rf "$work" && mkdir -p "$work/bin"
# pnpm as the image installs it (npm i -g pnpm@10.34.8), without touching this machine's globals.
printf '#!/bin/sh\nexec npx --yes pnpm@10.34.8 "$@"\n' > "$work/bin/pnpm" && chmod +x "$work/bin/pnpm"
# A fresh image has an empty pnpm store and metadata cache: use empty ones here too, so a step
# that only works thanks to this machine's caches fails here as it would in `docker build`.
export PATH="$work/bin:$PATH" CI=true XDG_CACHE_HOME="$work/cache" npm_config_store_dir="$work/store"
rsync -a --exclude-from=<(sed -e '/^#/d' -e '/^$/d' -e 's#^\*\*/##' "$root/.dockerignore") "$root/" "$work/repo/"
cd "$work/repo"
awk '/ AS build/{b=1;next} /^FROM/{b=0} b' "$root/$df" | sed -e ':a;/\\$/N;s/\\\n//;ta' | grep '^RUN ' | sed -e 's/^RUN //' -e "s#/out#$work/out#g" |
  while read -r cmd; do
    echo "+ $cmd"
    bash -c "$cmd" >"$work/step.log" 2>&1 || { tail -30 "$work/step.log"; echo "✖ step failed"; exit 1; }
  done
echo "✔ build stage of $df replayed; runtime content in $work/out"
