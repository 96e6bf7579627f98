#!/usr/bin/env bash
# Step 3: build the image from the repository's Dockerfile (issue 7) and load it into the Kind nodes, so the
# overlay's imagePullPolicy IfNotPresent finds it without a registry. CONTAINER_ENGINE=podman works too.
source "$(dirname "$0")/lib.sh"
engine="${CONTAINER_ENGINE:-docker}"
need kind "$engine"
[[ -f "$ROOT/Dockerfile" ]] || die "no Dockerfile at the repository root yet: the image comes with issue 7"

log "Building $IMAGE with $engine"
"$engine" build -t "$IMAGE" "$ROOT"

log "Loading $IMAGE into Kind cluster $CLUSTER"
if [[ "$engine" == docker ]]; then
  kind load docker-image "$IMAGE" --name "$CLUSTER"
else
  archive="$(mktemp -d)/image.tar"
  trap 'rm -rf "$(dirname "$archive")"' EXIT
  "$engine" save -o "$archive" "localhost/$IMAGE" 2>/dev/null || "$engine" save -o "$archive" "$IMAGE"
  kind load image-archive "$archive" --name "$CLUSTER"
fi
