#!/usr/bin/env bash
# import-linter needs to walk `jixiao.*` on disk; the editable install maps it through an import
# hook that grimp cannot walk, so give it a plain tree of symlinks under build/.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=build/importlinter
rm -rf "$tree" && mkdir -p "$tree/jixiao"
for d in platform tenants services migrations; do ln -s "$PWD/$d" "$tree/jixiao/$d"; done
cd "$tree" && PYTHONPATH="$PWD" "$OLDPWD/.venv/bin/lint-imports" "$OLDPWD/.importlinter"
