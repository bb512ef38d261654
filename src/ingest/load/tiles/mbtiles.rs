//! MBTiles: SQLite with a `tiles` table of images in the TMS scheme.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// An open tile package.
pub struct MbTiles {
    db: Mutex<Connection>,
    /// The zoom levels it holds, lowest and highest.
    pub zooms: (u8, u8),
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
            db: Mutex::new(db),
            zooms: (lo, hi),
        })
    }

    /// The bytes of the tile at zoom `z`, column `x`, row `y` counted from
    /// the north (XYZ; the file's TMS rows count from the south).
    pub fn raw(&self, z: u8, x: u32, y: u32) -> Option<Vec<u8>> {
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
        Some(bytes)
    }
}
