#!/usr/bin/env bash
# Vendor the front-end libraries served by the app itself (closed intranet: no CDN).
#
# Fetches pinned, integrity-checked tarballs from the npm registry with `npm pack`
# (no install, no lifecycle scripts, no node_modules), copies only the built
# distribution files plus licence files into platform/web/static/vendor/, strips the
# trailing sourceMappingURL comments (the .map files are not vendored), and rewrites
# platform/web/static/vendor/VERSIONS.
#
# Idempotent: each managed folder is rebuilt from scratch in a temp dir and then
# swapped in, so running it twice gives byte-identical output.
#
# Usage:
#   scripts/vendor-assets.sh           # (re)vendor into platform/web/static/vendor
#   scripts/vendor-assets.sh --check   # rebuild in a temp dir and diff; exit 1 on drift
#
# To upgrade a library: change its version AND integrity below (get the integrity
# with `npm view <pkg>@<version> dist.integrity`), run this script, then run
# tests/unit/test_vendored_assets.py.
set -euo pipefail
shopt -s inherit_errexit
umask 022

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$REPO_ROOT/platform/web/static/vendor"

# npm package name | exact version | npm dist.integrity
PACKAGES=(
  "bootstrap|5.3.9|sha512-20cU0rcfw8WdxtVbmfU+xT2EjvVTw9Ror/h1Qvd7DXCujRg8OO9mdBCsmTHdJFf3BuadmBNJtgIuUXsBqSkk/w=="
  "bootstrap-icons|1.13.2|sha512-fAU1Ly3dH7hwRg+CB8EZ0Vl0fF80zgXHeUVJyfUOKzoURr+TbwISbCW5tKUoQLERaWYG2emTCybcPbD96hdD1A=="
  "htmx.org|2.0.11|sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA=="
  "@alpinejs/csp|3.17.4|sha512-SlRXmqO6kYhnxlg+99etmuzJtE9Lk4QbKjBHqerXzaMflJqoJXdz/SI3IvHJGZ/vRVyC3bR0SSBz40oY7goBeg=="
  "echarts|6.1.0|sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA=="
  "swagger-ui-dist|5.35.0|sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ=="
)
# Fetched only for its LICENSE text: the Alpine CSP build bundles @vue/reactivity + @vue/shared
# (@alpinejs/csp 3.17.4 depends on @vue/reactivity ~3.5.40).
VUE_REACTIVITY="@vue/reactivity|3.5.40|sha512-B7ot9UlUZOi1zbq61/LvE88ZLTV8IlajTdiZTAEiDQgrnIMIZoPr9kGw0Zw46ObW62O9+H/Be3kMbfb7kYPQZA=="

# Folders under vendor/ owned by this script (nothing else there is touched).
MANAGED_DIRS=(bootstrap bootstrap-icons htmx alpinejs echarts swagger-ui)

CHECK=0
case "${1:-}" in
  "") ;;
  --check) CHECK=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

for tool in npm node tar diff; do
  command -v "$tool" >/dev/null || { echo "error: '$tool' not found" >&2; exit 1; }
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/tgz" "$TMP/x" "$TMP/stage"

# fetch "name|version|integrity" -> prints the extracted package dir
fetch() {
  local name version integrity tgz actual dir
  IFS='|' read -r name version integrity <<<"$1"
  tgz="$(cd "$TMP/tgz" && npm pack --loglevel=error "$name@$version" | tail -n 1)"
  [[ -n "$tgz" && -f "$TMP/tgz/$tgz" ]] || { echo "error: npm pack $name@$version failed" >&2; return 1; }
  actual="sha512-$(node -e 'process.stdout.write(require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$TMP/tgz/$tgz")"
  if [[ "$actual" != "$integrity" ]]; then
    echo "error: integrity mismatch for $name@$version: got $actual, pinned $integrity" >&2
    return 1
  fi
  dir="$TMP/x/${tgz%.tgz}"
  mkdir -p "$dir"
  tar -xzf "$TMP/tgz/$tgz" -C "$dir" --no-same-owner --no-same-permissions
  # sanity: the tarball really is the pinned package
  node -e '
    const p = require(process.argv[1]);
    if (p.name !== process.argv[2] || p.version !== process.argv[3]) {
      console.error(`error: tarball is ${p.name}@${p.version}, expected ${process.argv[2]}@${process.argv[3]}`);
      process.exit(1);
    }' "$dir/package/package.json" "$name" "$version"
  echo "$dir/package"
}

# put <dest-relative-to-stage> <src>...   (files only, mode 0644)
put() {
  local dest="$TMP/stage/$1"; shift
  mkdir -p "$dest"
  install -m 0644 "$@" "$dest/"
}

declare -A SRC
for spec in "${PACKAGES[@]}"; do
  SRC["${spec%%|*}"]="$(fetch "$spec")"
done
VUE_SRC="$(fetch "$VUE_REACTIVITY")"

# 1. Bootstrap 5 (bundle includes Popper)
p="${SRC[bootstrap]}"
put bootstrap/css "$p/dist/css/bootstrap.min.css"
put bootstrap/js  "$p/dist/js/bootstrap.bundle.min.js"
put bootstrap     "$p/LICENSE"

# 2. Bootstrap Icons (CSS refers to fonts/bootstrap-icons.woff2 and .woff, relative)
p="${SRC[bootstrap-icons]}"
put bootstrap-icons       "$p/font/bootstrap-icons.min.css" "$p/LICENSE"
put bootstrap-icons/fonts "$p/font/fonts/bootstrap-icons.woff2" "$p/font/fonts/bootstrap-icons.woff"

# 3. htmx 2
p="${SRC[htmx.org]}"
put htmx "$p/dist/htmx.min.js" "$p/LICENSE"

# 4. Alpine.js CSP build: dist/cdn.min.js is the self-starting browser build
p="${SRC[@alpinejs/csp]}"
mkdir -p "$TMP/stage/alpinejs"
install -m 0644 "$p/dist/cdn.min.js" "$TMP/stage/alpinejs/alpine-csp.min.js"
if compgen -G "$p/LICENSE*" >/dev/null; then
  echo "note: @alpinejs/csp now ships its own LICENSE; consider using it instead of the embedded text" >&2
fi
{
  cat <<'EOF'
Alpine.js — @alpinejs/csp 3.17.4 (dist/cdn.min.js, vendored as alpine-csp.min.js)

Neither the @alpinejs/csp nor the alpinejs npm package ships a LICENSE file
(both declare "license": "MIT" in package.json). The text below is LICENSE.md
from the upstream repository https://github.com/alpinejs/alpine .

# MIT License

Copyright © 2019-2021 Caleb Porzio and contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.

--------------------------------------------------------------------------------
Bundled third-party code: @vue/reactivity and @vue/shared (MIT).
The text below is the LICENSE file of the @vue/reactivity 3.5.40 npm package.

EOF
  cat "$VUE_SRC/LICENSE"
} >"$TMP/stage/alpinejs/LICENSE"
chmod 0644 "$TMP/stage/alpinejs/LICENSE"

# 5. Apache ECharts (Apache-2.0: LICENSE + NOTICE; d3-derived code licence)
p="${SRC[echarts]}"
put echarts          "$p/dist/echarts.min.js" "$p/LICENSE" "$p/NOTICE"
put echarts/licenses "$p/licenses/LICENSE-d3"

# 6. Swagger UI (no index.html / swagger-initializer.js: the app ships its own init)
p="${SRC[swagger-ui-dist]}"
put swagger-ui \
  "$p/swagger-ui-bundle.js" "$p/swagger-ui-bundle.js.LICENSE.txt" \
  "$p/swagger-ui-standalone-preset.js" "$p/swagger-ui-standalone-preset.js.LICENSE.txt" \
  "$p/swagger-ui.css" "$p/favicon-32x32.png" "$p/LICENSE" "$p/NOTICE"

# The .map files are not vendored: drop the comments pointing at them.
sed -i -E '/^\/\/# sourceMappingURL=[^ ]*$/d' "$TMP/stage/bootstrap/js/bootstrap.bundle.min.js"
sed -i -E 's#/\*\# sourceMappingURL=[^*]*\*/##' \
  "$TMP/stage/bootstrap/css/bootstrap.min.css" "$TMP/stage/swagger-ui/swagger-ui.css"
if grep -rl 'sourceMappingURL' "$TMP/stage" >&2; then
  echo "error: sourceMappingURL left in the files above" >&2
  exit 1
fi

# VERSIONS: name, version and licence id as declared in each tarball's package.json
{
  echo "# Vendored from the npm registry by scripts/vendor-assets.sh: built dist files copied verbatim (only trailing sourceMappingURL comments stripped), no build step."
  for spec in "${PACKAGES[@]}"; do
    node -e 'const p = require(process.argv[1]); console.log(`${p.name} ${p.version} ${p.license}`)' \
      "${SRC[${spec%%|*}]}/package.json"
  done
} >"$TMP/stage/VERSIONS"
chmod 0644 "$TMP/stage/VERSIONS"

if (( CHECK )); then
  rc=0
  for d in "${MANAGED_DIRS[@]}"; do
    diff -r "$TMP/stage/$d" "$VENDOR/$d" || rc=1
  done
  diff "$TMP/stage/VERSIONS" "$VENDOR/VERSIONS" || rc=1
  if (( rc )); then echo "vendored assets differ from scripts/vendor-assets.sh output" >&2; else echo "vendored assets up to date"; fi
  exit "$rc"
fi

mkdir -p "$VENDOR"
for d in "${MANAGED_DIRS[@]}"; do
  rm -rf "${VENDOR:?}/$d"
  cp -R "$TMP/stage/$d" "$VENDOR/$d"
done
install -m 0644 "$TMP/stage/VERSIONS" "$VENDOR/VERSIONS"

echo "vendored into ${VENDOR#"$REPO_ROOT"/}:"
cat "$VENDOR/VERSIONS"
du -sh "$VENDOR"
