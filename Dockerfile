# gists-api: the single binary built with Bun, on a distroless runtime that holds little more than glibc.
#
#   docker build --build-arg GISTS_API_COMMIT=$(git rev-parse --short=12 HEAD) -t gists-api:0.1.0 .
#   docker run --rm --read-only -p 8080:8080 gists-api:0.1.0
#
# Both base images are build arguments, so a mirror, a digest pin or a locally made base can stand in:
#   docker build --build-arg BUILD_IMAGE=mirror.example/oven/bun:1.4 \
#                --build-arg RUNTIME_IMAGE=mirror.example/distroless/cc-debian12:nonroot \
#                --build-arg GISTS_API_COMMIT=$(git rev-parse --short=12 HEAD) -t gists-api .
ARG BUILD_IMAGE=oven/bun:1.4
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# Dependencies first, so that a source change reuses this layer. package-lock.json is the project's only lock
# file: Bun migrates it in memory and installs exactly the locked versions, and --frozen-lockfile fails when
# package.json and the lock disagree, as `npm ci` does. --production: the build needs the runtime dependencies
# only (Bun itself is this image, so no Node.js is needed).
COPY package.json package-lock.json ./
RUN bun install --frozen-lockfile --production --ignore-scripts
COPY tsconfig.json ./
COPY ops/scripts/build.ts ops/scripts/build.ts
COPY src src
# The build turns off .env and bunfig.toml autoloading in the binary; `version` proves that it runs. There is no
# .git in the context, so the commit comes in as a build argument:
#   docker build --build-arg GISTS_API_COMMIT=$(git rev-parse --short=12 HEAD) -t gists-api .
ARG GISTS_API_COMMIT=unknown
RUN GISTS_API_COMMIT=${GISTS_API_COMMIT} bun run ops/scripts/build.ts && ./dist/gists-api version

FROM ${RUNTIME_IMAGE} AS runtime
COPY --from=build /src/dist/gists-api /usr/local/bin/gists-api
# The CycloneDX bill of materials of the runtime dependencies (also printed by `gists-api version --sbom`).
COPY --from=build /src/dist/sbom.cdx.json /usr/share/gists-api/sbom.cdx.json
# distroless' "nonroot" user. The process writes nothing to disk, so the root filesystem can be read-only.
USER 65532:65532
EXPOSE 8080
# The runtime image has no shell and no curl: the binary probes its own /healthz (http://127.0.0.1:$PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/gists-api", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/gists-api"]
CMD ["serve"]
