#!/usr/bin/env bash
# Debian packages the suite needs: chromium (browser tests), Noto CJK fonts (Chinese pages and
# PDFs), Pango (WeasyPrint's PDFs), poppler-utils (pdftotext/pdffonts), LibreOffice Writer (the
# reports' Word files must convert cleanly). Installs only what is missing; needs root or sudo.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui)
# make bench: ApacheBench loads the API benchmark's servers
if [ -n "${JIXIAO_BENCH_DEPS:-}" ]; then
  command -v ab >/dev/null 2>&1 || missing+=(apache2-utils)
fi
for lib in libpango-1.0-0 libpangoft2-1.0-0 fontconfig; do
  dpkg -s "$lib" >/dev/null 2>&1 || missing+=("$lib")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "安装系统依赖：${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
