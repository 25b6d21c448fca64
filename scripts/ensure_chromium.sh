#!/bin/sh
# Install Debian's Chromium for the Playwright browser tests when it is missing.
# Playwright's own browser download is not reachable here, so the tests launch the system
# `chromium` (executable_path=shutil.which("chromium")). Needs root (or passwordless sudo).
set -eu
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
command -v chromium
