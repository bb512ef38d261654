//! An offline raster tile package — MBTiles (SQLite) or PMTiles (one file
//! of directories and tiles) — read tile by tile as the maps need them: a
//! bureau's 天地图 cache can be gigabytes.

use std::path::{Path, PathBuf};

mod mbtiles;
mod pmtiles;

use mbtiles::MbTiles;
use pmtiles::PmTiles;

/// An open tile package.
pub struct TilePackage {
    path: PathBuf,
    format: Format,
}

/// The package's kind, told by its first bytes.
enum Format {
    Mb(MbTiles),
    Pm(PmTiles),
}

/// A decoded tile: `size` × `size` RGB pixels, row by row.
pub struct Tile {
    /// Side in pixels.
    pub size: usize,
    /// Red, green, blue per pixel.
    pub rgb: Vec<u8>,
}

impl TilePackage {
    /// Opens `path` read-only, as MBTiles or PMTiles by its first bytes; an
    /// error says why it is not a tile package.
    pub fn open(path: &Path) -> Result<TilePackage, String> {
        let mut magic = [0u8; 16];
        let n = std::io::Read::read(
            &mut std::fs::File::open(path).map_err(|e| e.to_string())?,
            &mut magic,
        )
        .map_err(|e| e.to_string())?;
        let format = if magic[..n].starts_with(b"PMTiles") {
            Format::Pm(PmTiles::open(path)?)
        } else if magic[..n].starts_with(b"SQLite format 3\0") {
            Format::Mb(MbTiles::open(path)?)
        } else {
            return Err("neither an MBTiles nor a PMTiles file".into());
        };
        Ok(TilePackage {
            path: path.to_path_buf(),
            format,
        })
    }

    /// The zoom levels it holds, lowest and highest.
    pub fn zooms(&self) -> (u8, u8) {
        match &self.format {
            Format::Mb(m) => m.zooms,
            Format::Pm(p) => p.zooms,
        }
    }

    /// The file, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tile at zoom `z`, column `x`, row `y` counted from the north
    /// (XYZ), decoded; `None` where the package has no such tile or it is
    /// not a PNG or JPEG image.
    pub fn tile(&self, z: u8, x: u32, y: u32) -> Option<Tile> {
        let bytes = match &self.format {
            Format::Mb(m) => m.raw(z, x, y),
            Format::Pm(p) => p.raw(z, x, y),
        }?;
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
