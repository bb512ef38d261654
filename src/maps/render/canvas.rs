//! The page's drawing surface: the pixels of the PNG and, when the map is
//! also wanted as a PDF, the same drawing kept as a display list of vector
//! operations (paths, text, images) for `pdf.rs` to write. Every drawing
//! goes through here, so the two never differ in what they show.

use tiny_skia::{
    Color, FillRule, Mask, Paint, PathBuilder, Pixmap, PixmapPaint, PremultipliedColorU8, Stroke,
    StrokeDash, Transform,
};

use super::Rect;

/// A clip to a rectangle: its mask for the pixels and the rectangle for
/// the display list.
pub(super) struct Clip {
    pub(super) mask: Mask,
    pub(super) rect: Rect,
}

/// One glyph of a line of text: the font's glyph id, its advance in pixels
/// (kerning included) and the bytes of the text it shows.
#[derive(Debug, Clone)]
pub(super) struct Glyph {
    pub(super) id: u16,
    pub(super) advance: f32,
    pub(super) bytes: std::ops::Range<usize>,
}

/// A drawing operation, in page pixels (origin top left, y down).
pub(super) enum Op {
    /// A filled path (even-odd or non-zero), clipped to a rectangle.
    Fill {
        path: tiny_skia::Path,
        colour: Color,
        even_odd: bool,
        clip: Option<Rect>,
    },
    /// A stroked path with butt caps and miter joins, optionally dashed.
    Stroke {
        path: tiny_skia::Path,
        colour: Color,
        width: f32,
        dash: Option<[f32; 2]>,
        clip: Option<Rect>,
    },
    /// A circle (a point's symbol): filled and/or outlined. One op, not a
    /// fill and a stroke, so the PDF can draw each kind of symbol once and
    /// place it wherever it stands.
    Circle {
        x: f32,
        y: f32,
        r: f32,
        fill: Option<Color>,
        stroke: Option<(Color, f32)>,
    },
    /// A line of text at its baseline, with an optional halo around it.
    Text {
        text: String,
        glyphs: Vec<Glyph>,
        x: f32,
        baseline: f32,
        size: f32,
        colour: Color,
        halo: Option<Color>,
    },
    /// A raster (the grid's cells, tiles) of `width` × `height`
    /// straight-alpha RGBA pixels stretched over `to` (so a cell can be one
    /// pixel, printed sharp at any size), multiplied with what is under it
    /// or drawn over it, clipped to a rectangle.
    Image {
        to: Rect,
        width: u32,
        height: u32,
        rgba: Vec<u8>,
        multiply: bool,
        clip: Option<Rect>,
    },
}

/// A page's drawing as vector operations, with the page's size in pixels.
pub(super) struct DisplayList {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) ops: Vec<Op>,
}

/// The pixels and, when recording, the display list.
pub(super) struct Canvas {
    pub(super) pixmap: Pixmap,
    ops: Option<Vec<Op>>,
}

/// A solid, anti-aliased paint.
fn solid(c: Color) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(c);
    p.anti_alias = true;
    p
}

impl Canvas {
    /// A canvas over `pixmap`; `record` keeps the display list too.
    pub(super) fn new(pixmap: Pixmap, record: bool) -> Canvas {
        Canvas {
            pixmap,
            ops: record.then(Vec::new),
        }
    }

    /// Whether the drawing is also kept as a display list.
    pub(super) fn recording(&self) -> bool {
        self.ops.is_some()
    }

    fn push(&mut self, op: impl FnOnce() -> Op) {
        if let Some(ops) = &mut self.ops {
            ops.push(op());
        }
    }

    /// Whether a path `reach` px around `path` shows on the page (within
    /// `clip`): a path wholly outside (a base layer's road far from a
    /// district) would only make the PDF larger.
    fn shows(&self, path: &tiny_skia::Path, reach: f32, clip: Option<&Clip>) -> bool {
        let b = path.bounds();
        let (w, h) = (self.pixmap.width() as f32, self.pixmap.height() as f32);
        let r = clip.map_or(
            Rect {
                l: 0.0,
                t: 0.0,
                r: w,
                b: h,
            },
            |c| c.rect,
        );
        b.right() + reach >= r.l
            && b.left() - reach <= r.r
            && b.bottom() + reach >= r.t
            && b.top() - reach <= r.b
    }

    /// Fills `path` in `colour`.
    pub(super) fn fill(
        &mut self,
        path: &tiny_skia::Path,
        colour: Color,
        rule: FillRule,
        clip: Option<&Clip>,
    ) {
        self.paint_fill(path, colour, rule, clip);
        if !self.shows(path, 1.0, clip) {
            return;
        }
        self.push(|| Op::Fill {
            path: path.clone(),
            colour,
            even_odd: rule == FillRule::EvenOdd,
            clip: clip.map(|c| c.rect),
        });
    }

    /// Draws a circle of radius `r` at (x, y), filled and/or outlined.
    pub(super) fn circle(
        &mut self,
        x: f32,
        y: f32,
        r: f32,
        fill: Option<Color>,
        stroke: Option<(Color, f32)>,
    ) {
        let Some(path) = PathBuilder::from_circle(x, y, r) else {
            return;
        };
        if let Some(c) = fill {
            self.paint_fill(&path, c, FillRule::Winding, None);
        }
        if let Some((c, w)) = stroke {
            self.paint_stroke(&path, c, w, None, None);
        }
        let reach = stroke.map_or(0.0, |(_, w)| w) + 1.0;
        if self.shows(&path, reach, None) {
            self.push(|| Op::Circle {
                x,
                y,
                r,
                fill,
                stroke,
            });
        }
    }

    /// Fills a rectangle in `colour`.
    pub(super) fn fill_rect(&mut self, r: tiny_skia::Rect, colour: Color) {
        self.pixmap
            .fill_rect(r, &solid(colour), Transform::identity(), None);
        self.push(|| Op::Fill {
            path: PathBuilder::from_rect(r),
            colour,
            even_odd: false,
            clip: None,
        });
    }

    /// Strokes `path` `width` px wide in `colour`, dashed `[on, off]` px
    /// where asked.
    pub(super) fn stroke(
        &mut self,
        path: &tiny_skia::Path,
        colour: Color,
        width: f32,
        dash: Option<[f32; 2]>,
        clip: Option<&Clip>,
    ) {
        self.paint_stroke(path, colour, width, dash, clip);
        if !self.shows(path, width + 1.0, clip) {
            return;
        }
        self.push(|| Op::Stroke {
            path: path.clone(),
            colour,
            width,
            dash,
            clip: clip.map(|c| c.rect),
        });
    }

    /// Fills `path` in the pixels only.
    fn paint_fill(
        &mut self,
        path: &tiny_skia::Path,
        colour: Color,
        rule: FillRule,
        clip: Option<&Clip>,
    ) {
        let mask = clip.map(|c| &c.mask);
        self.pixmap
            .fill_path(path, &solid(colour), rule, Transform::identity(), mask);
    }

    /// Strokes `path` in the pixels only.
    fn paint_stroke(
        &mut self,
        path: &tiny_skia::Path,
        colour: Color,
        width: f32,
        dash: Option<[f32; 2]>,
        clip: Option<&Clip>,
    ) {
        let stroke = Stroke {
            width,
            dash: dash.and_then(|d| StrokeDash::new(d.to_vec(), 0.0)),
            ..Default::default()
        };
        let mask = clip.map(|c| &c.mask);
        self.pixmap
            .stroke_path(path, &solid(colour), &stroke, Transform::identity(), mask);
    }

    /// Draws a raster at (x, y), multiplied with what is under it or over it.
    pub(super) fn image(&mut self, x: i32, y: i32, image: &Pixmap, multiply: bool) {
        let paint = PixmapPaint {
            blend_mode: if multiply {
                tiny_skia::BlendMode::Multiply
            } else {
                tiny_skia::BlendMode::SourceOver
            },
            ..Default::default()
        };
        self.pixmap
            .draw_pixmap(x, y, image.as_ref(), &paint, Transform::identity(), None);
        self.push(|| Op::Image {
            to: Rect {
                l: x as f32,
                t: y as f32,
                r: (x + image.width() as i32) as f32,
                b: (y + image.height() as i32) as f32,
            },
            width: image.width(),
            height: image.height(),
            rgba: straight_rgba(image.pixels()),
            multiply,
            clip: None,
        });
    }

    /// Keeps an operation drawn into the pixels by the caller (text, the
    /// grid's cells).
    pub(super) fn keep(&mut self, op: impl FnOnce() -> Op) {
        self.push(op);
    }

    /// The pixels and, when recording, the display list.
    pub(super) fn finish(self) -> (Pixmap, Option<DisplayList>) {
        let (width, height) = (self.pixmap.width(), self.pixmap.height());
        let list = self.ops.map(|ops| DisplayList { width, height, ops });
        (self.pixmap, list)
    }
}

/// Premultiplied pixels as straight-alpha RGBA bytes.
fn straight_rgba(pixels: &[PremultipliedColorU8]) -> Vec<u8> {
    pixels
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect()
}
