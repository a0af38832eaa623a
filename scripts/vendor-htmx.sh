#!/usr/bin/env bash
# Fetch htmx from its npm package into api/static/vendor/ and check it against the pinned
# checksum. The file is committed, so neither `make run` nor CI needs npm; run this only
# to check the vendored copy or to move to another version (then update both pins).
set -euo pipefail
VERSION="2.0.11"
SHA256="d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@${VERSION}" >/dev/null && tar xzf "htmx.org-${VERSION}.tgz")
echo "${SHA256}  ${work}/package/dist/htmx.min.js" | sha256sum --check --quiet
cp "${work}/package/dist/htmx.min.js" api/static/vendor/htmx.min.js
cp "${work}/package/LICENSE" api/static/vendor/htmx.LICENSE
echo "htmx ${VERSION} vendored into api/static/vendor/"
