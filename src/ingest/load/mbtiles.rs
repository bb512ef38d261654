//! An offline raster tile package (MBTiles: SQLite with a `tiles` table of
//! PNG or JPEG images in the TMS scheme), read tile by tile as the maps
//! need them — a bureau's 天地图 cache can be gigabytes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// An open tile package.
pub struct MbTiles {
    path: PathBuf,
    db: Mutex<Connection>,
    /// The zoom levels it holds, lowest and highest.
    pub zooms: (u8, u8),
}

/// A decoded tile: `size` × `size` RGB pixels, row by row.
pub struct Tile {
    /// Side in pixels.
    pub size: usize,
    /// Red, green, blue per pixel.
    pub rgb: Vec<u8>,
}

impl MbTiles {
    /// Opens `path` read-only; an error says why it is not a tile package.
    pub fn open(path: &Path) -> Result<MbTiles, String> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let db = Connection::open_with_flags(path, flags).map_err(|e| e.to_string())?;
        let zooms: (Option<u8>, Option<u8>) = db
            .query_row(
                "SELECT min(zoom_level), max(zoom_level) FROM tiles",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| format!("not an MBTiles file (no tiles table: {e})"))?;
        let (Some(lo), Some(hi)) = zooms else {
            return Err("the tile package holds no tiles".into());
        };
        Ok(MbTiles {
            path: path.to_path_buf(),
            db: Mutex::new(db),
            zooms: (lo, hi),
        })
    }

    /// The file, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tile at zoom `z`, column `x`, row `y` counted from the north
    /// (XYZ; the file's TMS rows count from the south), decoded; `None`
    /// where the package has no such tile or it is not a PNG or JPEG image.
    pub fn tile(&self, z: u8, x: u32, y: u32) -> Option<Tile> {
        let tms = (1u32 << z).checked_sub(1 + y)?;
        let bytes: Vec<u8> = {
            let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
            db.query_row(
                "SELECT tile_data FROM tiles \
                 WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
                (z, x, tms),
                |r| r.get(0),
            )
            .optional()
            .ok()??
        };
        decode(&bytes)
    }
}

/// A PNG or JPEG tile as RGB; `None` for anything else or a tile that is
/// not square.
fn decode(bytes: &[u8]) -> Option<Tile> {
    if bytes.starts_with(b"\x89PNG") {
        let p = tiny_skia::Pixmap::decode_png(bytes).ok()?;
        let rgb = p
            .pixels()
            .iter()
            .flat_map(|c| {
                let c = c.demultiply();
                [c.red(), c.green(), c.blue()]
            })
            .collect();
        return (p.width() == p.height()).then_some(Tile {
            size: p.width() as usize,
            rgb,
        });
    }
    let mut d = jpeg_decoder::Decoder::new(bytes);
    let pixels = d.decode().ok()?;
    let info = d.info()?;
    if info.width != info.height {
        return None;
    }
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|v| [*v; 3]).collect(),
        _ => return None,
    };
    Some(Tile {
        size: info.width as usize,
        rgb,
    })
}
