#!/usr/bin/env bash
# Installs what Basalt needs on a fresh machine: uv, the Python environment from
# uv.lock, and (with --system, as root) the Debian packages for the data path.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never

SYSTEM_PACKAGES=(tgt libiscsi-bin qemu-utils qemu-block-extra xfsprogs)

if ! command -v uv >/dev/null 2>&1; then
  echo "setup: installing uv with pip" >&2
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi

if [[ "${1:-}" == "--system" ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    missing=()
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
      echo "setup: installing Debian packages: ${missing[*]}" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
  else
    echo "setup: not root, skipping Debian packages (${SYSTEM_PACKAGES[*]});" \
         "tests that need them will say so" >&2
  fi
fi

python_bin=$(command -v python3.11 || true)
uv sync --frozen --quiet ${python_bin:+--python "$python_bin"}
