//! Text in the pixels: each glyph rasterised once per size and sub-pixel
//! offset, then blended wherever it is drawn. A label's halo draws its
//! glyphs eight times a pixel apart, at the same sub-pixel offset, and a
//! page repeats the same few hundred characters: most glyphs drawn are ones
//! already rasterised.

use std::collections::HashMap;

use ab_glyph::{Font, FontVec, GlyphId, Outline, OutlinedGlyph, PxScale, ScaleFont};
use tiny_skia::{Color, Pixmap};

/// What decides a glyph's raster exactly: the glyph, its size and where
/// it falls within its pixel box (the offset of its origin from the box's
/// corner, and the box's size), as f32 bits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    id: u16,
    sx: u32,
    sy: u32,
    dx: u32,
    dy: u32,
    w: u32,
    h: u32,
}

/// A glyph's coverage of each pixel of its box, row by row.
struct Raster {
    w: u32,
    alpha: Vec<f32>,
}

/// A page's glyph outlines and rasters.
#[derive(Default)]
pub(super) struct GlyphCache {
    /// Noto's CFF outlines are parsed anew on every read: read once.
    outlines: HashMap<GlyphId, Option<Outline>>,
    rasters: HashMap<Key, Raster>,
}

impl GlyphCache {
    /// Draws `text` in `colour` with its box's top left at (x, y), as
    /// ab_glyph places and rasterises it, over what is there.
    pub(super) fn draw(
        &mut self,
        pixmap: &mut Pixmap,
        font: &FontVec,
        text: &str,
        (x, y): (f32, f32),
        size_px: f32,
        colour: Color,
    ) {
        let f = font.as_scaled(PxScale::from(size_px));
        let baseline = y + f.ascent();
        let mut pen = x;
        let mut prev = None;
        let ink = colour.to_color_u8();
        for ch in text.chars() {
            let id = f.glyph_id(ch);
            if let Some(p) = prev {
                pen += f.kern(p, id);
            }
            let glyph =
                id.with_scale_and_position(PxScale::from(size_px), ab_glyph::point(pen, baseline));
            pen += f.h_advance(id);
            prev = Some(id);
            let Some(outline) = self.outlines.entry(id).or_insert_with(|| font.outline(id)) else {
                continue;
            };
            // The box as ab_glyph's `OutlinedGlyph` works it out; the
            // outline is copied into one only to rasterise a new key.
            let b = outline.px_bounds(f.scale_factor(), glyph.position);
            let key = Key::of(&glyph, b);
            let raster = self.rasters.entry(key).or_insert_with(|| {
                let outlined = OutlinedGlyph::new(glyph, outline.clone(), f.scale_factor());
                Raster::of(&outlined, key)
            });
            blend(pixmap, raster, (b.min.x as i32, b.min.y as i32), ink);
        }
    }
}

impl Key {
    /// The key of `glyph` in its pixel box `b`.
    fn of(glyph: &ab_glyph::Glyph, b: ab_glyph::Rect) -> Key {
        let offset = glyph.position - b.min;
        Key {
            id: glyph.id.0,
            sx: glyph.scale.x.to_bits(),
            sy: glyph.scale.y.to_bits(),
            dx: offset.x.to_bits(),
            dy: offset.y.to_bits(),
            w: b.width() as u32,
            h: b.height() as u32,
        }
    }
}

impl Raster {
    /// The coverage ab_glyph gives each pixel of the glyph's box (`key`'s).
    fn of(outlined: &OutlinedGlyph, key: Key) -> Raster {
        let mut alpha = vec![0.0; (key.w * key.h) as usize];
        outlined.draw(|gx, gy, cov| alpha[(gy * key.w + gx) as usize] = cov);
        Raster { w: key.w, alpha }
    }
}

/// Blends `ink` over the pixels under the raster placed at `at`, each by its
/// coverage, leaving them opaque.
fn blend(pixmap: &mut Pixmap, raster: &Raster, at: (i32, i32), ink: tiny_skia::ColorU8) {
    let (w, h) = (pixmap.width() as i32, pixmap.height() as i32);
    let pixels = pixmap.pixels_mut();
    let opacity = ink.alpha() as f32;
    for (i, &cov) in raster.alpha.iter().enumerate() {
        let (gx, gy) = ((i as u32 % raster.w) as i32, (i as u32 / raster.w) as i32);
        let (px, py) = (at.0 + gx, at.1 + gy);
        if px < 0 || py < 0 || px >= w || py >= h {
            continue;
        }
        let a = cov.clamp(0.0, 1.0) * opacity / 255.0;
        let at = (py * w + px) as usize;
        let dst = pixels[at];
        // No ink on an opaque pixel leaves it as it is.
        if a == 0.0 && dst.alpha() == 255 {
            continue;
        }
        let dst = dst.demultiply();
        let mix = |s: u8, d: u8| round(s as f32 * a + d as f32 * (1.0 - a));
        pixels[at] = tiny_skia::ColorU8::from_rgba(
            mix(ink.red(), dst.red()),
            mix(ink.green(), dst.green()),
            mix(ink.blue(), dst.blue()),
            255,
        )
        .premultiply();
    }
}

/// `v.round() as u8` for v in 0..=255.x, without the call to `roundf` that
/// `f32::round` is on the baseline x86-64 target: the fraction left by
/// truncation is exact in that range, so half rounds up as `round` does.
fn round(v: f32) -> u8 {
    let t = v as u32;
    let up = v - t as f32 >= 0.5;
    (t + up as u32).min(255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_matches_f32_round() {
        let mut v = 0.0f32;
        while v <= 256.0 {
            assert_eq!(round(v), v.round() as u8, "{v}");
            v = f32::from_bits(v.to_bits() + 97);
        }
        for v in [
            0.5, 1.5, 2.5, 254.5, 0.49999997, 127.49999, 255.0, 255.00002,
        ] {
            assert_eq!(round(v), v.round() as u8, "{v}");
        }
    }
}
