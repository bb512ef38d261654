//! The offline viewer: `web/index.html`, its script and style, and the
//! vendored MapLibre GL JS and PMTiles reader (`web/vendor/`, pinned npm
//! versions, see `scripts/vendor-web.sh`), compiled into the binary so an
//! output folder is complete without a network.

use std::io::Write;
use std::path::Path;

use crate::output::write::{atomic_write, WriteError};

/// The viewer's files: (path under `web/`, bytes).
const FILES: [(&str, &[u8]); 10] = [
    ("index.html", include_bytes!("../../../web/index.html")),
    ("viewer.js", include_bytes!("../../../web/viewer.js")),
    ("viewer.css", include_bytes!("../../../web/viewer.css")),
    (
        "vendor/maplibre-gl/maplibre-gl.mjs",
        include_bytes!("../../../web/vendor/maplibre-gl/maplibre-gl.mjs"),
    ),
    (
        "vendor/maplibre-gl/maplibre-gl-worker.mjs",
        include_bytes!("../../../web/vendor/maplibre-gl/maplibre-gl-worker.mjs"),
    ),
    (
        "vendor/maplibre-gl/maplibre-gl.css",
        include_bytes!("../../../web/vendor/maplibre-gl/maplibre-gl.css"),
    ),
    (
        "vendor/maplibre-gl/LICENSE.txt",
        include_bytes!("../../../web/vendor/maplibre-gl/LICENSE.txt"),
    ),
    (
        "vendor/pmtiles/pmtiles.js",
        include_bytes!("../../../web/vendor/pmtiles/pmtiles.js"),
    ),
    (
        "vendor/pmtiles/LICENSE",
        include_bytes!("../../../web/vendor/pmtiles/LICENSE"),
    ),
    (
        "vendor/VERSIONS",
        include_bytes!("../../../web/vendor/VERSIONS"),
    ),
];

/// Writes the viewer's files into `dir` (the output's `web/`).
pub fn write(dir: &Path) -> Result<(), WriteError> {
    for (name, bytes) in FILES {
        atomic_write(&dir.join(name), |w| w.write_all(bytes))?;
    }
    Ok(())
}
