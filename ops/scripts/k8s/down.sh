#!/usr/bin/env bash
# Delete the Kind cluster and everything in it.
source "$(dirname "$0")/lib.sh"
need kind
kind delete cluster --name "$CLUSTER"
rm -rf "$TLS_DIR"
