#!/usr/bin/env bash
# Make Debian's podman serve a Docker-compatible API for the image test (src/e2e/image.infra.test.ts), on a
# machine with no Docker engine and no systemd: install podman and runc when missing, write the engine
# and storage settings this kind of machine needs, start `podman system service` on a unix socket.
# Idempotent: every step checks first, so the test and .ci/run can both call it. Run as root.
#
#   ops/scripts/podman-setup.sh            # then: DOCKER_HOST=unix:///tmp/podman.sock
#   PODMAN_SOCKET=/run/podman.sock ops/scripts/podman-setup.sh
set -euo pipefail

socket="${PODMAN_SOCKET:-/tmp/podman.sock}"
service_log="${PODMAN_SERVICE_LOG:-/tmp/podman-service.log}"
marker="# Written by gists-api ops/scripts/podman-setup.sh; delete this line to keep your own edits."

say() { echo "podman-setup: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "run as root (podman here is rootful: vfs storage, runc, cgroupfs)"
  exit 1
fi

# 1. Packages. .ci/run installs them already; this covers a developer's fresh Debian machine. catatonit is the
# pause process of a pod's infra container (`podman kube play`), only recommended by Debian's podman.
catatonit_present() { command -v catatonit >/dev/null 2>&1 || [ -x /usr/libexec/podman/catatonit ]; }
if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1 || ! catatonit_present; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "podman, runc or catatonit is missing and there is no apt-get to install them"
    exit 1
  fi
  say "installing podman, runc and catatonit"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends podman runc catatonit >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends podman runc catatonit >/dev/null; }
fi

# 2. Settings. Ours carry a marker line and are rewritten; a file someone else wrote is left alone.
write_conf() {
  local path="$1" body="$2"
  mkdir -p "$(dirname "$path")"
  if [ -e "$path" ] && ! grep -qF "$marker" "$path"; then
    say "keeping $path (not written by this script); it must hold: $(echo "$body" | tr '\n' ' ')"
    return
  fi
  local wanted
  wanted="$(printf '%s\n%s\n' "$marker" "$body")"
  if [ "$(cat "$path" 2>/dev/null)" != "$wanted" ]; then
    printf '%s\n' "$wanted" >"$path"
    say "wrote $path"
  fi
}

# No ulimits (the sandbox refuses raising nofile), runc, cgroupfs and file events: there is no systemd.
write_conf /etc/containers/containers.conf '[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"'

# vfs: overlayfs cannot be mounted inside this kind of machine.
write_conf /etc/containers/storage.conf '[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"'

# 3. The API socket, started once and left running (it ends with the machine).
answers() { timeout 10 podman --url "unix://$socket" version >/dev/null 2>&1; }

# A service started from a directory that was deleted since (a removed checkout) still answers, but every
# container it starts fails ("conmon: Failed to get working directory"): replace it.
service_pids() { pgrep -f "podman system service --time=0 unix://$socket" || true; }
for pid in $(service_pids); do
  if [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == *" (deleted)" ]]; then
    say "restarting the podman service $pid: its working directory was deleted"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
done

if answers; then
  exit 0
fi
rm -f "$socket"
say "starting podman system service on unix://$socket (log: $service_log)"
# setsid and closed descriptors: the service must outlive this script and must not hold its caller's pipes.
# Started from /, so no checkout it was started from can be deleted under it. Only the service is put in the
# background: `cd / && service &` would background the whole list, a subshell that keeps the caller's pipes.
(
  cd / || exit 1
  setsid nohup podman system service --time=0 "unix://$socket" </dev/null >>"$service_log" 2>&1 &
)
for _ in $(seq 1 100); do
  if [ -S "$socket" ] && answers; then
    exit 0
  fi
  sleep 0.2
done
say "the service did not answer on $socket within 20 s; its log:"
tail -n 20 "$service_log" >&2 || true
exit 1
