#!/usr/bin/env bash
# Prepares a fresh Debian machine for Resolution Desk: the system packages the
# tests and renderers use (Dovecot, qpdf, poppler, LibreOffice, Pango), then a
# virtual environment in .venv with the project and its test dependencies.
# Safe to run repeatedly: each step is skipped when already satisfied.
set -euo pipefail
cd "$(dirname "$0")"

SYSTEM_PACKAGES=(
  dovecot-imapd          # the real IMAP server the intake tests run against
  openssl                # the intake tests make a self-signed certificate for that server
  qpdf                   # `qpdf --check` on every generated PDF
  poppler-utils          # pdftotext for checking rendered text
  libreoffice-writer-nogui  # opens every generated Word file
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0  # WeasyPrint's text layout
  fonts-dejavu-core
  postgresql             # the case file also runs on PostgreSQL; its tests start one on loopback
  chromium chromium-driver  # the workspace's browser tests drive Debian's chromium (never a downloaded one)
  systemd                # `systemd-analyze verify` checks the service units (deploy/systemd/)
)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing system packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Dovecot that the intake tests start stores mail as this unprivileged user.
if [ "$(id -u)" -eq 0 ] && ! id resdesk-mail >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --shell /usr/sbin/nologin resdesk-mail
fi

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PYTHON="$candidate"; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "bootstrap: Python 3.11 or newer is required" >&2; exit 1; }

stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[test]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
