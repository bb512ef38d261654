//! The style's sprite: the markers MapLibre cannot draw as circles
//! (triangles, squares, diamonds), drawn from the same symbols as the QGIS
//! styles, at 1× and 2× for high-density screens.

use std::io::Write;
use std::path::Path;

use serde_json::json;
use tiny_skia::{Color, FillRule, Paint, PathBuilder, Pixmap, Stroke, Transform};

use crate::output::qgis::symbology::{Rgba, Shape, Symbol};
use crate::output::web::style;
use crate::output::write::{atomic_write, write_text, WriteError};
use crate::styles;

/// Writes `sprite.png`/`sprite.json` and their `@2x` versions into `dir`.
pub fn write(dir: &Path) -> Result<(), WriteError> {
    let icons = style::icons();
    for (ratio, suffix) in [(1.0, ""), (2.0, "@2x")] {
        let (png, index) = sheet(&icons, ratio);
        atomic_write(&dir.join(format!("sprite{suffix}.png")), |w| {
            w.write_all(&png)
        })?;
        let mut text = serde_json::to_string_pretty(&index).expect("JSON values serialise");
        text.push('\n');
        write_text(&dir.join(format!("sprite{suffix}.json")), &text)?;
    }
    Ok(())
}

/// The icons side by side in one image, and the index MapLibre reads.
fn sheet(icons: &[(String, Symbol)], ratio: f64) -> (Vec<u8>, serde_json::Value) {
    let px = |mm: f64| mm * styles::map().web.px_per_mm * ratio;
    let sizes: Vec<u32> = icons
        .iter()
        .map(|(_, s)| match s {
            Symbol::Marker {
                size_mm, outline, ..
            } => (px(*size_mm) + 2.0 * px(outline.width_mm) + 2.0 * ratio).ceil() as u32,
            Symbol::Fill { .. } => 1,
        })
        .collect();
    let width = sizes.iter().sum::<u32>().max(1);
    let height = sizes.iter().copied().max().unwrap_or(1);
    let mut pixmap = Pixmap::new(width, height).expect("a sprite of a few icons");
    let mut index = serde_json::Map::new();
    let mut x = 0;
    for ((name, symbol), size) in icons.iter().zip(&sizes) {
        if let Symbol::Marker {
            shape,
            size_mm,
            fill,
            outline,
        } = symbol
        {
            let centre = (x as f32 + *size as f32 / 2.0, *size as f32 / 2.0);
            let d = px(*size_mm) as f32;
            draw_marker(
                &mut pixmap,
                *shape,
                centre,
                d,
                *fill,
                outline.colour,
                px(outline.width_mm) as f32,
            );
        }
        index.insert(
            name.clone(),
            json!({ "x": x, "y": 0, "width": size, "height": size, "pixelRatio": ratio as u32 }),
        );
        x += size;
    }
    let png = pixmap.encode_png().expect("a sprite encodes as PNG");
    (png, serde_json::Value::Object(index))
}

fn paint(c: Rgba) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(Color::from_rgba8(c.0, c.1, c.2, c.3));
    p.anti_alias = true;
    p
}

/// One marker of diameter `d` pixels centred at `c`.
fn draw_marker(
    pixmap: &mut Pixmap,
    shape: Shape,
    (cx, cy): (f32, f32),
    d: f32,
    fill: Option<Rgba>,
    outline: Rgba,
    outline_px: f32,
) {
    let r = d / 2.0;
    let corners: Vec<(f32, f32)> = match shape {
        Shape::Triangle => vec![
            (cx, cy - r),
            (cx + r * 0.866, cy + r * 0.5),
            (cx - r * 0.866, cy + r * 0.5),
        ],
        Shape::Square => vec![
            (cx - r * 0.8, cy - r * 0.8),
            (cx + r * 0.8, cy - r * 0.8),
            (cx + r * 0.8, cy + r * 0.8),
            (cx - r * 0.8, cy + r * 0.8),
        ],
        Shape::Diamond => vec![(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)],
        Shape::Circle => Vec::new(),
    };
    let mut pb = PathBuilder::new();
    if corners.is_empty() {
        pb.push_circle(cx, cy, r);
    } else {
        pb.move_to(corners[0].0, corners[0].1);
        for p in &corners[1..] {
            pb.line_to(p.0, p.1);
        }
        pb.close();
    }
    let Some(path) = pb.finish() else { return };
    if let Some(f) = fill {
        pixmap.fill_path(
            &path,
            &paint(f),
            FillRule::Winding,
            Transform::identity(),
            None,
        );
    }
    let stroke = Stroke {
        width: outline_px.max(0.5),
        ..Stroke::default()
    };
    pixmap.stroke_path(&path, &paint(outline), &stroke, Transform::identity(), None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sheet_has_every_icon_and_draws_it() {
        let icons = style::icons();
        let (png, index) = sheet(&icons, 2.0);
        assert_eq!(index.as_object().unwrap().len(), icons.len());
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        // Some pixel of the sheet is opaque: the icons are drawn.
        assert!(buf[..info.buffer_size()].chunks(4).any(|p| p[3] == 255));
    }
}
