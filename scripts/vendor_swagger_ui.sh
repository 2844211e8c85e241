#!/usr/bin/env bash
# Vendors the API reference renderer (/docs) from the npm registry, pinned: swagger-ui-dist at VERSION, only the
# files the page loads plus the licences. Run it to move to another version, then update VERSION in
# src/pageturn/api/apidocs.py and check the page (tests/browser/test_api_docs.py).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-5.35.0}
dest=src/pageturn/apidocs/vendor/swagger-ui
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null && tar xzf "swagger-ui-dist-$VERSION.tgz")
rm -rf "$dest" && mkdir -p "$dest"
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt; do
  cp "$work/package/$f" "$dest/$f"
done
echo "$VERSION" > "$dest/VERSION"
(cd "$dest" && sha256sum swagger-ui-bundle.js swagger-ui.css > SHA256SUMS)
echo "vendored swagger-ui-dist $VERSION into $dest"
