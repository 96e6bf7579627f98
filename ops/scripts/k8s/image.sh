#!/usr/bin/env bash
# Step 3: build the image from the repository's Dockerfile and load it into the Kind nodes, so the overlay's
# imagePullPolicy IfNotPresent finds it without a registry. CONTAINER_ENGINE=podman works too.
source "$(dirname "$0")/lib.sh"
need kind git
need_engine
[[ -f "$ROOT/Dockerfile" ]] || die "no Dockerfile at the repository root ($ROOT)"

commit="$(source_commit)"
# The full name: podman would file a short one under localhost/, which Kind's containerd does not look up.
build=("$ENGINE" build --build-arg "GISTS_API_COMMIT=$commit" -t "$IMAGE_REF")
# podman builds OCI images by default, and OCI has no HEALTHCHECK.
[[ "$ENGINE" == podman ]] && build+=(--format docker)
log "Building $IMAGE_REF (commit $commit) with $ENGINE"
"${build[@]}" "$ROOT"

log "Loading $IMAGE_REF into Kind cluster $CLUSTER"
if [[ "$ENGINE" == docker ]]; then
  kind load docker-image "$IMAGE_REF" --name "$CLUSTER"
else
  workdir="$(mktemp -d)"
  trap 'rm -rf "$workdir"' EXIT
  "$ENGINE" save --format docker-archive -o "$workdir/image.tar" "$IMAGE_REF"
  kind load image-archive "$workdir/image.tar" --name "$CLUSTER"
fi
