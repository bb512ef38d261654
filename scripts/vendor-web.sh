#!/usr/bin/env bash
# Re-vendors the viewer's JavaScript libraries from the npm registry at the
# pinned versions below, into web/vendor/ (committed; the binary embeds them,
# so the viewer needs no network at run time). npm checks each package's
# integrity against the registry's; the SHA-256 of what is vendored is in
# web/vendor/SHA256SUMS.
set -euo pipefail
MAPLIBRE=6.20.0
PMTILES=4.5.0
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "maplibre-gl@$MAPLIBRE" "pmtiles@$PMTILES" >/dev/null)
mkdir -p "$tmp/m" "$tmp/p"
tar xzf "$tmp/maplibre-gl-$MAPLIBRE.tgz" -C "$tmp/m"
tar xzf "$tmp/pmtiles-$PMTILES.tgz" -C "$tmp/p"
out=web/vendor
# pmtiles/LICENSE is kept: the npm package does not carry it (it is the
# repository's, github.com/protomaps/PMTiles, BSD-3-Clause).
rm -rf "$out/maplibre-gl" "$out/pmtiles/pmtiles.js"
mkdir -p "$out/maplibre-gl" "$out/pmtiles"
for f in maplibre-gl.mjs maplibre-gl-worker.mjs maplibre-gl.css; do
  # The source-map comments point at files not shipped.
  sed '/^\/\/# sourceMappingURL=/d' "$tmp/m/package/dist/$f" > "$out/maplibre-gl/$f"
done
cp "$tmp/m/package/LICENSE.txt" "$out/maplibre-gl/LICENSE.txt"
sed '/^\/\/# sourceMappingURL=/d' "$tmp/p/package/dist/pmtiles.js" > "$out/pmtiles/pmtiles.js"
echo "maplibre-gl $MAPLIBRE, pmtiles $PMTILES" > "$out/VERSIONS"
(cd "$out" && sha256sum maplibre-gl/* pmtiles/* > SHA256SUMS)
echo "vendored into $out:"; cat "$out/VERSIONS"
