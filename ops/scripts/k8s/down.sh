#!/usr/bin/env bash
# Delete the Kind cluster and everything in it, and the certificate and password made for it.
source "$(dirname "$0")/lib.sh"
need kind
need_engine
kind delete cluster --name "$CLUSTER"
rm -rf "$TLS_DIR" "$SECRETS_DIR"
