//! PNG risk maps: the city map and one map per district (an atlas).
//!
//! Drawing happens in the metric CRS (no longitude stretching) with
//! tiny-skia; text is rasterised with ab_glyph from a real CJK font (Noto
//! Sans CJK SC from Debian's `fonts-noto-cjk` by default). Every map has a
//! neat frame, a title, the four-colour legend with counts, a scale bar of a
//! round length, a north arrow, and the source and data-date line. Labels go
//! through a collision check: a label that would overlap another label, the
//! legend or the title, or leave the frame, is moved or dropped, the lower
//! priority first. Styling comes from `styles/` (palette and map style).
//! Maps are rendered in parallel and byte-identically from run to run.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use geo::{BoundingRect, InteriorPoint, MultiPolygon};
use rayon::prelude::*;
use thiserror::Error;
use tiny_skia::{Color, FillRule, PathBuilder, Pixmap, Transform};

use crate::model::Grade;
use crate::styles::{self, MapStyle};

pub mod base;
mod canvas;
pub mod change;
pub mod coverage;
pub mod dangers;
mod glyphs;
mod isobands;
mod layout;
mod legend;
pub mod parks;
mod pdf;

use canvas::{Canvas, Clip};
use layout::{Corner, Placement};
use legend::{Entry, Legend};

/// Why the maps could not be rendered.
#[derive(Debug, Error)]
pub enum RenderError {
    /// The font file does not exist.
    #[error("no CJK font at {path}: install one with `apt-get install fonts-noto-cjk`, or name a .ttf/.otf/.ttc file with maps.font in the project file")]
    FontMissing {
        /// The font path looked for.
        path: PathBuf,
    },
    /// The font file cannot be parsed or has no Chinese glyphs.
    #[error("{path}: not a usable font: {reason}")]
    FontInvalid {
        /// The font file.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// The font could not be read or a map file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A map's PDF could not be made.
    #[error("{path}: the PDF could not be made: {reason}")]
    Pdf {
        /// The PDF file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The page size in pixels cannot be allocated as an image.
    #[error("cannot draw a {width}×{height} px map")]
    Size {
        /// Page width in pixels.
        width: u32,
        /// Page height in pixels.
        height: u32,
    },
}

/// The default font: Noto Sans CJK SC from Debian's fonts-noto-cjk.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

impl MapStyle {
    /// The compiled-in style with the page size and DPI of the options.
    pub fn new(opts: &MapOptions) -> MapStyle {
        let mut s = crate::styles::map().clone();
        s.page.width_mm = opts.width_mm;
        s.page.height_mm = opts.height_mm;
        s.page.dpi = opts.dpi;
        s.page.vector = opts.pdf;
        s
    }
}

/// Whether to make the enterprise maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnterpriseMaps {
    /// Always, however many there are.
    Always,
    /// Never.
    Never,
    /// Only when there are at most [`crate::ingest::config::MAX_AUTO_ENTERPRISE_MAPS`].
    Auto,
}

/// What to render: map size and resolution, font, and which enterprise maps.
#[derive(Debug, Clone, PartialEq)]
pub struct MapOptions {
    /// Page width in millimetres.
    pub width_mm: f64,
    /// Page height in millimetres.
    pub height_mm: f64,
    /// Resolution in dots per inch.
    pub dpi: f64,
    /// Font file with Chinese glyphs; [`DEFAULT_FONT`] when `None`.
    pub font: Option<PathBuf>,
    /// Whether to make the enterprise maps.
    pub enterprise_maps: EnterpriseMaps,
    /// An enterprise map for every enterprise, not only red and orange ones.
    pub all_enterprises: bool,
    /// Each map also as a vector PDF beside its PNG.
    pub pdf: bool,
}

impl Default for MapOptions {
    /// A4 landscape at 150 dpi.
    fn default() -> Self {
        MapOptions {
            width_mm: 297.0,
            height_mm: 210.0,
            dpi: 150.0,
            font: None,
            enterprise_maps: EnterpriseMaps::Auto,
            all_enterprises: false,
            pdf: false,
        }
    }
}

/// Loads the label font; in a collection, the Simplified Chinese face.
pub fn load_font(path: Option<&Path>) -> Result<FontVec, RenderError> {
    load_fonts(path, false).map(|(font, _)| font)
}

/// The label font for the pixels and, when `pdf`, the same face for the
/// PDFs to embed.
pub(super) fn load_fonts(
    path: Option<&Path>,
    pdf: bool,
) -> Result<(FontVec, Option<krilla::text::Font>), RenderError> {
    let path = path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FONT));
    if !path.exists() {
        return Err(RenderError::FontMissing { path });
    }
    let data = std::fs::read(&path).map_err(|source| RenderError::Io {
        path: path.clone(),
        source,
    })?;
    let faces = ttf_parser::fonts_in_collection(&data).unwrap_or(1);
    let sc = (0..faces).find(|&i| {
        ttf_parser::Face::parse(&data, i).is_ok_and(|f| {
            f.names().into_iter().any(|n| {
                n.to_string()
                    .is_some_and(|s| s.contains("CJK SC") || s.contains("SC Regular"))
            })
        })
    });
    let index = sc.unwrap_or(0);
    let embedded = match pdf {
        true => Some(
            krilla::text::Font::new(data.clone().into(), index).ok_or_else(|| {
                RenderError::FontInvalid {
                    path: path.clone(),
                    reason: "it cannot be embedded in a PDF".into(),
                }
            })?,
        ),
        false => None,
    };
    let font =
        FontVec::try_from_vec_and_index(data, index).map_err(|e| RenderError::FontInvalid {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    if font.glyph_id('图').0 == 0 {
        return Err(RenderError::FontInvalid {
            path,
            reason: "it has no Chinese glyphs".into(),
        });
    }
    Ok((font, embedded))
}

fn colour(hex: &str, alpha: f64) -> Color {
    let (r, g, b) = styles::rgb(hex).unwrap_or((0, 0, 0));
    Color::from_rgba8(r, g, b, (alpha.clamp(0.0, 1.0) * 255.0).round() as u8)
}

fn grade_colour(g: Grade, alpha: f64) -> Color {
    colour(&styles::grade(g).fill, alpha)
}

/// A pixel rectangle (left, top, right, bottom).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    l: f32,
    t: f32,
    r: f32,
    b: f32,
}

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.l < o.r && o.l < self.r && self.t < o.b && o.t < self.b
    }

    fn holds(&self, x: f32, y: f32) -> bool {
        x >= self.l && x <= self.r && y >= self.t && y <= self.b
    }

    fn inside(&self, o: &Rect) -> bool {
        self.l >= o.l && self.r <= o.r && self.t >= o.t && self.b <= o.b
    }
}

/// Metric → pixel placement of a map's content inside its frame.
#[derive(Debug, Clone, Copy)]
struct View {
    /// Pixels per metre.
    scale: f64,
    /// Metric coordinates of the frame's top-left pixel.
    x0: f64,
    y0: f64,
    frame: Rect,
}

impl View {
    /// Fits a metric envelope (with a 4 % pad) into the frame, north up.
    fn fit(min: [f64; 2], max: [f64; 2], frame: Rect) -> View {
        let (w, h) = (
            (max[0] - min[0]).max(1.0) * 1.08,
            (max[1] - min[1]).max(1.0) * 1.08,
        );
        let (fw, fh) = ((frame.r - frame.l) as f64, (frame.b - frame.t) as f64);
        let scale = (fw / w).min(fh / h);
        let (cx, cy) = ((min[0] + max[0]) / 2.0, (min[1] + max[1]) / 2.0);
        View {
            scale,
            x0: cx - fw / 2.0 / scale,
            y0: cy + fh / 2.0 / scale,
            frame,
        }
    }

    /// Fits into `body` but draws anywhere in `frame` (the body is the part
    /// of the frame no furniture covers).
    fn fit_within(min: [f64; 2], max: [f64; 2], body: Rect, frame: Rect) -> View {
        let v = View::fit(min, max, body);
        View {
            x0: v.x0 - (body.l - frame.l) as f64 / v.scale,
            y0: v.y0 + (body.t - frame.t) as f64 / v.scale,
            scale: v.scale,
            frame,
        }
    }

    fn px(&self, x: f64, y: f64) -> (f32, f32) {
        (
            self.frame.l + ((x - self.x0) * self.scale) as f32,
            self.frame.t + ((self.y0 - y) * self.scale) as f32,
        )
    }

    fn metric(&self, px: f32, py: f32) -> (f64, f64) {
        (
            self.x0 + (px - self.frame.l) as f64 / self.scale,
            self.y0 - (py - self.frame.t) as f64 / self.scale,
        )
    }
}

/// One page being drawn.
struct Page<'f> {
    canvas: Canvas,
    style: MapStyle,
    font: &'f FontVec,
    px_per_mm: f64,
    frame: Rect,
    /// Boxes labels must not cover (other labels, legend, title …).
    taken: Vec<Rect>,
    /// The texts of the labels placed, so a place named like a unit
    /// already labelled is not named twice.
    labelled: std::collections::HashSet<String>,
    /// The mask of the frame it was made for, kept between drawings: a
    /// page-sized mask made per polygon was a good part of a map's time.
    clip_cache: Option<Clip>,
    /// The scale (1:N) that decides which base layers a `max_scale` leaves
    /// out, settled with the legend; 0 until then (all of them left out).
    base_denominator: f64,
    /// The glyphs drawn so far, outlined and rasterised: a page draws the
    /// same few hundred characters thousands of times.
    glyphs: glyphs::GlyphCache,
    /// Where the furniture goes, once the layout is planned.
    placement: Option<Placement>,
    /// What `maps.json` says of the map: its title, scale, furniture boxes
    /// and legend entries, recorded as they are drawn.
    info: MapInfo,
}

/// What `maps/maps.json` records of a map: its title, its scale, where its
/// furniture is (px: left, top, right, bottom) and its legend's entries with
/// the colour each shows on the map.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MapInfo {
    /// The map's file, relative to the output folder.
    pub file: String,
    /// Its vector PDF for print, when made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdf: Option<String>,
    /// The title.
    pub title: String,
    /// The scale's denominator on the printed page (1:N), rounded.
    pub scale: Option<u64>,
    /// Where the map lies, as GDAL's geotransform of the PNG in the
    /// metric CRS (`maps.json`'s `crs`): the x of the image's left edge,
    /// metres per pixel, 0, the y of its top edge, 0, −metres per pixel.
    pub geotransform: Option<[f64; 6]>,
    /// Each furniture box by name.
    pub furniture: std::collections::BTreeMap<String, [i32; 4]>,
    /// The legend's entries.
    pub legend: Vec<LegendItem>,
    /// The legend's notes: what is left out, per-unit counts.
    pub legend_notes: Vec<String>,
}

/// A legend entry in `maps.json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LegendItem {
    /// Its text.
    pub text: String,
    /// The colour its symbol shows on the map (#RRGGBB), where it has one.
    pub colour: Option<String>,
}

/// A rendered map: its PNG and what is recorded of it.
pub struct Drawn {
    /// The PNG file's bytes.
    pub png: Vec<u8>,
    /// The drawing as vector operations, when the style asks for them.
    list: Option<canvas::DisplayList>,
    /// What `maps.json` says of it.
    pub info: MapInfo,
}

impl<'f> Page<'f> {
    fn new(style: &MapStyle, font: &'f FontVec) -> Result<Page<'f>, RenderError> {
        let px_per_mm = style.page.dpi / 25.4;
        let (w, h) = (
            (style.page.width_mm * px_per_mm).round() as u32,
            (style.page.height_mm * px_per_mm).round() as u32,
        );
        let mut pixmap = Pixmap::new(w, h).ok_or(RenderError::Size {
            width: w,
            height: h,
        })?;
        pixmap.fill(colour(&style.page.background, 1.0));
        let m = (style.page.margin_mm * px_per_mm) as f32;
        let frame = Rect {
            l: m,
            t: m,
            r: w as f32 - m,
            b: h as f32 - m,
        };
        Ok(Page {
            canvas: Canvas::new(pixmap, style.page.vector),
            style: style.clone(),
            font,
            px_per_mm,
            frame,
            taken: Vec::new(),
            labelled: Default::default(),
            clip_cache: None,
            base_denominator: 0.0,
            glyphs: Default::default(),
            placement: None,
            info: MapInfo::default(),
        })
    }

    fn mm(&self, v: f64) -> f32 {
        (v * self.px_per_mm) as f32
    }

    fn pt(&self, v: f64) -> f32 {
        (v / 72.0 * 25.4 * self.px_per_mm) as f32
    }

    /// The mask of the current frame (made once per frame, see `keep_clip`).
    fn clip(&mut self) -> Option<Clip> {
        match self.clip_cache.take() {
            Some(clip) if clip.rect == self.frame => return Some(clip),
            _ => {}
        }
        let (w, h) = (self.canvas.pixmap.width(), self.canvas.pixmap.height());
        let mut mask = tiny_skia::Mask::new(w, h)?;
        let r = tiny_skia::Rect::from_ltrb(self.frame.l, self.frame.t, self.frame.r, self.frame.b)?;
        mask.fill_path(
            &PathBuilder::from_rect(r),
            FillRule::Winding,
            false,
            Transform::identity(),
        );
        Some(Clip {
            mask,
            rect: self.frame,
        })
    }

    /// Keeps the frame's mask for the next drawing.
    fn keep_clip(&mut self, clip: Option<Clip>) {
        self.clip_cache = clip;
    }

    /// Fills and/or outlines a metric multipolygon, clipped to the frame.
    fn polygon(
        &mut self,
        view: &View,
        mp: &MultiPolygon<f64>,
        fill: Option<Color>,
        stroke: Option<(Color, f32)>,
    ) {
        let Some(path) = polygons_path(view, &[mp]) else {
            return;
        };
        // A polygon wholly outside the frame (its outline and anti-aliasing
        // included) would change no pixel: skip it.
        let reach = stroke.map_or(0.0, |(_, w)| w) + 2.0;
        let b = path.bounds();
        let f = self.frame;
        if b.right() + reach < f.l
            || b.left() - reach > f.r
            || b.bottom() + reach < f.t
            || b.top() - reach > f.b
        {
            return;
        }
        // A unit around a district map reaches far beyond its frame: its
        // rings are cut to the frame (grown by the outline's reach), so the
        // rasteriser works through only what can show.
        let keep = Rect {
            l: f.l - reach,
            t: f.t - reach,
            r: f.r + reach,
            b: f.b + reach,
        };
        let bounds = Rect {
            l: b.left(),
            t: b.top(),
            r: b.right(),
            b: b.bottom(),
        };
        let cut;
        let (fill_path, stroke_path) = if bounds.inside(&keep) {
            (Some(&path), Some(&path))
        } else {
            cut = cut_to(&path, keep);
            (cut.0.as_ref(), cut.1.as_ref())
        };
        let clip = self.clip();
        if let (Some(c), Some(path)) = (fill, fill_path) {
            self.canvas.fill(path, c, FillRule::EvenOdd, clip.as_ref());
        }
        if let (Some((c, w)), Some(path)) = (stroke, stroke_path) {
            self.canvas.stroke(path, c, w, None, clip.as_ref());
        }
        self.keep_clip(clip);
    }

    fn triangle(&mut self, x: f32, y: f32, size: f32, fill: Color, outline: Color) {
        self.triangle_pointing(x, y, size, 1.0, (fill, outline));
    }

    /// A triangle pointing up (`up` 1) or down (−1).
    fn triangle_pointing(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        up: f32,
        (fill, outline): (Color, Color),
    ) {
        let mut pb = PathBuilder::new();
        pb.move_to(x, y - size * 0.6 * up);
        pb.line_to(x + size * 0.52, y + size * 0.4 * up);
        pb.line_to(x - size * 0.52, y + size * 0.4 * up);
        pb.close();
        if let Some(path) = pb.finish() {
            self.canvas.fill(&path, fill, FillRule::Winding, None);
            self.canvas.stroke(&path, outline, 1.0, None, None);
        }
    }

    fn rect(&mut self, r: Rect, fill: Option<Color>, stroke: Option<(Color, f32)>) {
        let Some(rr) = tiny_skia::Rect::from_ltrb(r.l, r.t, r.r, r.b) else {
            return;
        };
        if let Some(c) = fill {
            self.canvas.fill_rect(rr, c);
        }
        if let Some((c, w)) = stroke {
            let path = PathBuilder::from_rect(rr);
            self.canvas.stroke(&path, c, w, None, None);
        }
    }

    /// Width and height in pixels of a line of text.
    fn measure(&self, text: &str, size_px: f32) -> (f32, f32) {
        let f = self.font.as_scaled(PxScale::from(size_px));
        let mut w = 0.0;
        let mut prev = None;
        for c in text.chars() {
            let id = f.glyph_id(c);
            if let Some(p) = prev {
                w += f.kern(p, id);
            }
            w += f.h_advance(id);
            prev = Some(id);
        }
        (w, f.ascent() - f.descent())
    }

    /// Draws text with its top-left at (x, y), with an optional halo.
    fn text(
        &mut self,
        text: &str,
        x: f32,
        y: f32,
        size_px: f32,
        fill: Color,
        halo: Option<Color>,
    ) -> Rect {
        let (w, h) = self.measure(text, size_px);
        if self.canvas.recording() {
            let (glyphs, em) = self.pdf_glyphs(text, size_px);
            let baseline = y + self.font.as_scaled(PxScale::from(size_px)).ascent();
            self.canvas.keep(|| canvas::Op::Text {
                text: text.to_string(),
                glyphs,
                x,
                baseline,
                size: em,
                colour: fill,
                halo,
            });
        }
        if let Some(hc) = halo {
            for (dx, dy) in [
                (-1.0, 0.0),
                (1.0, 0.0),
                (0.0, -1.0),
                (0.0, 1.0),
                (-1.0, -1.0),
                (1.0, 1.0),
                (-1.0, 1.0),
                (1.0, -1.0),
            ] {
                self.glyphs(text, x + dx, y + dy, size_px, hc);
            }
        }
        self.glyphs(text, x, y, size_px, fill);
        Rect {
            l: x,
            t: y,
            r: x + w,
            b: y + h,
        }
    }

    /// A line of text's glyphs for the PDF, with their advances (as
    /// [`Page::glyphs`] places them), and the font's em size (ab_glyph's
    /// scale is the ascent-to-descent height).
    fn pdf_glyphs(&self, text: &str, size_px: f32) -> (Vec<canvas::Glyph>, f32) {
        let f = self.font.as_scaled(PxScale::from(size_px));
        let mut glyphs: Vec<canvas::Glyph> = Vec::new();
        for (i, ch) in text.char_indices() {
            let id = f.glyph_id(ch);
            if let Some(last) = glyphs.last_mut() {
                last.advance += f.kern(ab_glyph::GlyphId(last.id), id);
            }
            glyphs.push(canvas::Glyph {
                id: id.0,
                advance: f.h_advance(id),
                bytes: i..i + ch.len_utf8(),
            });
        }
        let em = size_px * self.font.units_per_em().unwrap_or(1000.0) / self.font.height_unscaled();
        (glyphs, em)
    }

    fn glyphs(&mut self, text: &str, x: f32, y: f32, size_px: f32, c: Color) {
        let pixmap = &mut self.canvas.pixmap;
        self.glyphs
            .draw(pixmap, self.font, text, (x, y), size_px, c);
    }

    /// Places a label near (x, y) — centred on it when `gap` is 0, else to
    /// the right, left, above or below — where it overlaps nothing placed
    /// before and stays in the frame; `false` when there is no room (the
    /// label is dropped).
    fn label(&mut self, text: &str, x: f32, y: f32, size_px: f32, gap: f32) -> bool {
        let ink = colour(&self.style.text.colour, 1.0);
        self.label_in(text, x, y, size_px, gap, ink)
    }

    /// [`Page::label`] in the colour `ink`.
    fn label_in(&mut self, text: &str, x: f32, y: f32, size_px: f32, gap: f32, ink: Color) -> bool {
        let (w, h) = self.measure(text, size_px);
        let mut candidates = vec![
            (x + gap, y - h / 2.0),
            (x - gap - w, y - h / 2.0),
            (x - w / 2.0, y - gap - h),
            (x - w / 2.0, y + gap),
        ];
        if gap == 0.0 {
            candidates.insert(0, (x - w / 2.0, y - h / 2.0));
        }
        for (lx, ly) in candidates {
            let r = Rect {
                l: lx - 1.0,
                t: ly - 1.0,
                r: lx + w + 1.0,
                b: ly + h + 1.0,
            };
            if r.inside(&self.frame) && !self.taken.iter().any(|t| t.overlaps(&r)) {
                let halo = colour(&self.style.text.halo, 1.0);
                self.text(text, lx, ly, size_px, ink, Some(halo));
                self.taken.push(r);
                self.labelled.insert(text.to_string());
                return true;
            }
        }
        false
    }

    /// Records a furniture box in the map's information.
    fn furniture(&mut self, name: &str, r: Rect) {
        let px = [r.l, r.t, r.r, r.b].map(|v| v.round() as i32);
        self.info.furniture.insert(name.to_string(), px);
    }

    /// The PNG and the map's information.
    fn encode(self) -> Drawn {
        let (pixmap, list) = self.canvas.finish();
        let png = pixmap
            .encode_png()
            .expect("PNG encoding of an in-memory pixmap");
        Drawn {
            png,
            list,
            info: self.info,
        }
    }
}

/// A path of closed rings cut to `keep`: for a fill, each ring clipped to
/// it (Sutherland–Hodgman, which leaves what lies inside as it was); for
/// an outline, the runs of each ring's segments that reach it.
fn cut_to(
    path: &tiny_skia::Path,
    keep: Rect,
) -> (Option<tiny_skia::Path>, Option<tiny_skia::Path>) {
    let mut rings: Vec<Vec<(f32, f32)>> = Vec::new();
    for seg in path.segments() {
        match seg {
            tiny_skia::PathSegment::MoveTo(p) => rings.push(vec![(p.x, p.y)]),
            tiny_skia::PathSegment::LineTo(p) => {
                if let Some(r) = rings.last_mut() {
                    r.push((p.x, p.y));
                }
            }
            _ => {}
        }
    }
    let (mut fills, mut lines) = (PathBuilder::new(), PathBuilder::new());
    let add = |pb: &mut PathBuilder, run: &[(f32, f32)]| {
        for (i, &(x, y)) in run.iter().enumerate() {
            if i == 0 {
                pb.move_to(x, y);
            } else {
                pb.line_to(x, y);
            }
        }
    };
    for mut ring in rings {
        // A ring with a vertex beyond `keep` is opened there, so that no
        // cut falls where its outline turns a corner on the page.
        let Some(out) = ring.iter().position(|&(x, y)| !keep.holds(x, y)) else {
            add(&mut fills, &ring);
            fills.close();
            add(&mut lines, &ring);
            lines.close();
            continue;
        };
        let clipped = pdf::clip_ring(&ring, keep);
        if clipped.len() >= 3 {
            add(&mut fills, &clipped);
            fills.close();
        }
        ring.rotate_left(out);
        ring.push(ring[0]);
        for part in pdf::split_line(&ring, keep) {
            add(&mut lines, &part);
        }
    }
    (fills.finish(), lines.finish())
}

/// The rings of `polygons` as one pixel path in this view (for an even-odd
/// fill); `None` when there is nothing to draw.
fn polygons_path(view: &View, polygons: &[&MultiPolygon<f64>]) -> Option<tiny_skia::Path> {
    let mut pb = PathBuilder::new();
    for poly in polygons.iter().flat_map(|mp| &mp.0) {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            trace(&mut pb, view, ring.coords());
            pb.close();
        }
    }
    pb.finish()
}

/// Adds a run of metric coordinates to a pixel path as one subpath.
fn trace<'c>(pb: &mut PathBuilder, view: &View, coords: impl Iterator<Item = &'c geo::Coord<f64>>) {
    for (i, c) in coords.enumerate() {
        let (x, y) = view.px(c.x, c.y);
        if i == 0 {
            pb.move_to(x, y);
        } else {
            pb.line_to(x, y);
        }
    }
}

/// The exposure grid's cell grades (0 = E is 0, 1 blue … 4 red), row-major.
pub struct GradeGrid {
    /// The grid's geometry in the metric CRS.
    pub spec: crate::analysis::exposure::GridSpec,
    /// One grade code per cell, `spec.rows` × `spec.cols`, north row first.
    pub codes: Vec<u8>,
}

/// A unit to draw, in metric coordinates.
pub struct MapUnit {
    /// Administrative code.
    pub code: String,
    /// Unit name, used as its label.
    pub name: String,
    /// Boundary in metres, in the metric CRS.
    pub boundary: MultiPolygon<f64>,
    /// Area grade by the area rule (`exposure.area_shares`); `None` when the grid has no statistics for it.
    pub grade: Option<Grade>,
}

/// An enterprise to draw, in metric coordinates.
pub struct MapPoint {
    /// Enterprise id.
    pub id: String,
    /// Location as easting/northing in metres, in the metric CRS.
    pub xy: [f64; 2],
    /// Its four-colour grade.
    pub grade: Grade,
    /// Enterprise name, used as its label.
    pub name: String,
    /// Its district's code.
    pub unit: Option<String>,
    /// Why it has its grade (for the enterprise map's table).
    pub reasons: String,
}

/// A hazard source to draw, with its influence radius.
pub struct MapHazard {
    /// Hazard unit id.
    pub id: String,
    /// Id of the owning enterprise.
    pub enterprise: String,
    /// Location as easting/northing in metres, in the metric CRS.
    pub xy: [f64; 2],
    /// Influence radius in metres, in the metric CRS.
    pub radius_m: f64,
    /// Its district's code (else its town's).
    pub unit: Option<String>,
    /// S = Σ qᵢ/Qᵢ; 0 when not assessed.
    pub s: f64,
    /// R = α Σ βᵢ qᵢ/Qᵢ; 0 when not assessed.
    pub r: f64,
    /// Major-hazard grade 1–4; `None` when not a major hazard source.
    pub grade: Option<u8>,
}

/// A vulnerable target to draw.
pub struct MapTarget {
    /// Location as easting/northing in metres, in the metric CRS.
    pub xy: [f64; 2],
    /// Kind as written in the input (学校, 医院, 居民区 …).
    pub kind: String,
    /// Target name.
    pub name: String,
}

/// Everything the maps show.
pub struct MapData {
    /// Study area name at the start of the titles; empty when the project gives none.
    pub area_name: String,
    /// The data year, in the titles.
    pub year: i32,
    /// The date the data describes, printed as 数据截至 ….
    pub data_date: String,
    /// The data-source line printed at the foot of each map.
    pub source: String,
    /// The city unit, outlined on the city map, when the boundaries include one.
    pub city: Option<MapUnit>,
    /// The districts (the finest units when the boundaries have none).
    pub units: Vec<MapUnit>,
    /// Towns, where the boundaries give them.
    pub towns: Vec<MapUnit>,
    /// Every accepted enterprise.
    pub enterprises: Vec<MapPoint>,
    /// All hazard sources; the city and district maps show the major ones.
    pub hazards: Vec<MapHazard>,
    /// Every accepted vulnerable target.
    pub targets: Vec<MapTarget>,
    /// Every accepted hidden danger.
    pub dangers: Vec<dangers::MapDanger>,
    /// The emergency resources and the high-risk places' coverage, when
    /// the project gives resources.
    pub coverage: Option<coverage::CoverageData>,
    /// The chemical parks, each with its findings.
    pub parks: Vec<parks::MapPark>,
    /// The ring around a park its map takes in, metres (`[parks] around_m`).
    pub park_around_m: f64,
    /// The exposure grid's cell grades.
    pub grid: GradeGrid,
    /// The E values that grade the cells (for the legend).
    pub grid_thresholds: crate::ingest::config::Thresholds,
    /// The base layers drawn under the risk data.
    pub base: base::BaseMap,
    /// The EPSG code of the metric CRS the maps are drawn in.
    pub epsg: u32,
    /// The exposure's sources, for the enterprise maps' exact surface;
    /// `None` when no enterprise map is made.
    pub exposure: Option<ExposureField>,
    /// The units simplified for the district maps' locator insets (see
    /// [`MapData::inset_unit`]), with the scale they were simplified for.
    pub inset_units: std::sync::OnceLock<(f64, Vec<MultiPolygon<f64>>)>,
}

impl MapData {
    /// Unit boundary `m` simplified to a quarter pixel at an inset's
    /// `scale` (px per metre): every district map's inset has the same
    /// scale, so the units are simplified once, by the first; any other
    /// polygon or scale is simplified anew.
    fn inset_unit<'d>(
        &'d self,
        m: &'d MultiPolygon<f64>,
        scale: f64,
    ) -> Cow<'d, MultiPolygon<f64>> {
        let (at, units) = self.inset_units.get_or_init(|| {
            let units = self
                .units
                .iter()
                .map(|u| locator_simplified(&u.boundary, scale))
                .collect();
            (scale, units)
        });
        match self.units.iter().position(|u| std::ptr::eq(&u.boundary, m)) {
            Some(i) if *at == scale => Cow::Borrowed(&units[i]),
            _ => Cow::Owned(locator_simplified(m, scale)),
        }
    }
}

/// A polygon simplified for a locator inset at `scale` (px per metre): at
/// that scale a province's boundaries have many vertices per pixel, and a
/// quarter of a pixel is as fine as it shows.
fn locator_simplified(m: &MultiPolygon<f64>, scale: f64) -> MultiPolygon<f64> {
    geo::Simplify::simplify(m, 0.25 / scale)
}

/// What E is made of: the sources and how their terms add up.
pub struct ExposureField {
    /// The grid's sources.
    pub sources: Vec<crate::analysis::exposure::Source>,
    /// The kernel of each source's term.
    pub kernel: crate::ingest::config::Kernel,
    /// How the terms combine.
    pub mode: crate::ingest::config::Mode,
}

/// The page pixels between two exact samples of E on an enterprise map;
/// between them E is interpolated bilinearly (it is smooth at that scale:
/// a sample every 4 px is some 10 m on the ground).
const SURFACE_STEP_PX: f32 = 4.0;

/// Paints the exposure as it is at each point of the frame, not per grid
/// cell: E computed exactly every [`SURFACE_STEP_PX`] (as the grid computes
/// its cell centres), interpolated to each pixel, graded by the thresholds
/// and painted in the grid's colours. The PDF gets the same bands as paths
/// ([`surface_bands`]), which print crisp at any size. Gives the grade
/// codes painted, for the legend.
fn draw_surface(
    page: &mut Page,
    view: &View,
    index: &crate::analysis::exposure::SourceIndex,
    field: &ExposureField,
    t: &crate::ingest::config::Thresholds,
) -> [bool; 8] {
    use crate::analysis::exposure::{GridSpec, Window};
    let f = page.frame;
    let step = SURFACE_STEP_PX;
    let (west, north) = view.metric(f.l, f.t);
    let cell = step as f64 / view.scale;
    let cols = ((f.r - f.l) / step).ceil() as usize + 2;
    let rows = ((f.b - f.t) / step).ceil() as usize + 2;
    // Sample (r, c) is at the frame's corner plus (c, r) steps.
    let spec = GridSpec {
        x0: west - cell / 2.0,
        y0: north + cell / 2.0,
        cell,
        cols,
        rows,
    };
    let window = Window {
        row0: 0,
        col0: 0,
        rows,
        cols,
    };
    let e = index.block(&spec, window, field.kernel, field.mode);
    let alpha = page.style.grid.alpha as f32;
    let inks: Vec<Option<tiny_skia::ColorU8>> = grade_colours()
        .into_iter()
        .map(|c| c.map(|(r, g, b)| tint(r, g, b, alpha)))
        .collect();
    let (l, top) = (f.l.max(0.0) as usize, f.t.max(0.0) as usize);
    let (w, h) = (f.r as usize - l, f.b as usize - top);
    let mut seen = [false; 8];
    let width = page.canvas.pixmap.width() as usize;
    let pixels = page.canvas.pixmap.pixels_mut();
    for y in 0..h {
        let fy = ((top + y) as f32 + 0.5 - f.t) / step;
        let (r0, ty) = (fy.floor().max(0.0) as usize, fy - fy.floor());
        for x in 0..w {
            let fx = ((l + x) as f32 + 0.5 - f.l) / step;
            let (c0, tx) = (fx.floor().max(0.0) as usize, fx - fx.floor());
            let at = |r: usize, c: usize| e[r.min(rows - 1) * cols + c.min(cols - 1)];
            let corners = [
                at(r0, c0),
                at(r0, c0 + 1),
                at(r0 + 1, c0),
                at(r0 + 1, c0 + 1),
            ];
            let value = if corners.iter().all(|&v| v > 0.0) || corners.iter().all(|&v| v == 0.0) {
                let (tx, ty) = (tx as f64, ty as f64);
                let upper = corners[0] * (1.0 - tx) + corners[1] * tx;
                let lower = corners[2] * (1.0 - tx) + corners[3] * tx;
                upper * (1.0 - ty) + lower * ty
            } else {
                // The edge of the sources' reach (E > 0 inside, 0 out),
                // where E is not smooth: computed exactly at the pixel.
                let (mx, my) = view.metric((l + x) as f32 + 0.5, (top + y) as f32 + 0.5);
                index.at([mx, my], field.kernel, field.mode).0
            };
            let code = t.grade(value).map_or(0, Grade::grid_code);
            let Some(Some(ink)) = inks.get(code as usize) else {
                continue;
            };
            seen[code as usize] = true;
            pixels[(top + y) * width + l + x] = ink.premultiply();
        }
    }
    if page.canvas.recording() {
        let lattice = isobands::Lattice {
            values: &e,
            rows,
            cols,
        };
        let exact = |p: [f64; 2]| {
            let (mx, my) = view.metric(f.l + p[0] as f32 * step, f.t + p[1] as f32 * step);
            index.at([mx, my], field.kernel, field.mode).0
        };
        for (code, path) in surface_bands(&lattice, t, exact) {
            let Some(Some(ink)) = inks.get(code as usize) else {
                continue;
            };
            let colour = Color::from_rgba8(ink.red(), ink.green(), ink.blue(), 255);
            let Some(path) = path.transform(Transform::from_row(step, 0.0, 0.0, step, f.l, f.t))
            else {
                continue;
            };
            page.canvas.keep(|| canvas::Op::Fill {
                path,
                colour,
                even_odd: false,
                clip: Some(f),
            });
        }
    }
    seen
}

/// The exposure bands of a lattice of E (in lattice units), lowest grade
/// first, each as one path of where E reaches its grade (so painted in
/// turn they show each point's grade). Between two samples both within
/// the sources' reach the level is found linearly, as the pixels are
/// interpolated; across the edge of the reach (E drops to 0) it is found
/// from `exact` E, as the pixels are there.
fn surface_bands(
    lattice: &isobands::Lattice,
    t: &crate::ingest::config::Thresholds,
    exact: impl Fn([f64; 2]) -> f64,
) -> Vec<(u8, tiny_skia::Path)> {
    let levels = [
        (Grade::Blue, 0.0),
        (Grade::Yellow, t.yellow),
        (Grade::Orange, t.orange),
        (Grade::Red, t.red),
    ];
    let mut out = Vec::new();
    for (grade, level) in levels {
        let inside = |v: f64| if level > 0.0 { v >= level } else { v > 0.0 };
        let cross = |a: [f64; 2], b: [f64; 2], va: f64, vb: f64| {
            if va > 0.0 && vb > 0.0 {
                return (level - va) / (vb - va);
            }
            // Halve the edge towards where `inside` changes.
            let (mut lo, mut hi, side) = (0.0, 1.0, inside(va));
            for _ in 0..12 {
                let mid = (lo + hi) / 2.0;
                let p = [a[0] + (b[0] - a[0]) * mid, a[1] + (b[1] - a[1]) * mid];
                if inside(exact(p)) == side {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            (lo + hi) / 2.0
        };
        let mut pb = PathBuilder::new();
        for ring in isobands::band(lattice, inside, cross) {
            let mut points = ring.iter().map(|p| (p[0] as f32, p[1] as f32));
            let Some((x, y)) = points.next() else {
                continue;
            };
            pb.move_to(x, y);
            points.for_each(|(x, y)| pb.line_to(x, y));
            pb.close();
        }
        out.extend(pb.finish().map(|p| (grade.grid_code(), p)));
    }
    out
}

/// Paints the grid's cells over the frame, one pixel at a time.
fn draw_grid(page: &mut Page, view: &View, grid: &GradeGrid) {
    paint_cells(page, view, grid, &grade_colours());
}

/// The palette colour of each grid code (none for 0, E = 0).
fn grade_colours() -> Vec<Option<(u8, u8, u8)>> {
    (0..5u8)
        .map(|c| Grade::from_grid_code(c).and_then(|g| styles::rgb(&styles::grade(g).fill)))
        .collect()
}

/// A colour at `alpha` over white paper: how a translucent fill looks
/// where nothing else is under it.
fn tint(r: u8, g: u8, b: u8, alpha: f32) -> tiny_skia::ColorU8 {
    let mix = |s: u8| (s as f32 * alpha + 255.0 * (1.0 - alpha)).round() as u8;
    tiny_skia::ColorU8::from_rgba(mix(r), mix(g), mix(b), 255)
}

/// [`tint`] of a palette colour, as a colour to draw with.
fn tint_of(hex: &str, alpha: f64) -> Color {
    let (r, g, b) = styles::rgb(hex).unwrap_or((0, 0, 0));
    let c = tint(r, g, b, alpha as f32);
    Color::from_rgba8(c.red(), c.green(), c.blue(), 255)
}

/// The codes (0–7) of the grid's cells within an envelope.
fn grid_codes_in(grid: &GradeGrid, min: [f64; 2], max: [f64; 2]) -> [bool; 8] {
    let s = grid.spec;
    let span = |lo: f64, hi: f64, n: usize| {
        let a = (lo / s.cell).floor().clamp(0.0, n as f64) as usize;
        let b = (hi / s.cell).ceil().clamp(0.0, n as f64) as usize;
        a..b
    };
    let cols = span(min[0] - s.x0, max[0] - s.x0, s.cols);
    let mut seen = [false; 8];
    for row in span(s.y0 - max[1], s.y0 - min[1], s.rows) {
        for &c in &grid.codes[row * s.cols + cols.start..row * s.cols + cols.end] {
            seen[(c as usize).min(7)] = true;
        }
    }
    seen
}

/// Paints each cell of `grid` in the colour of its code (none: left
/// unpainted) at the grid's opacity over white, hiding what is under it,
/// so every cell shows exactly its legend colour. Where a pixel spans two
/// cells or more across (a province on one page), the grid is generalised:
/// each square of 1 mm on paper takes the code most of its cells have
/// (ties to the higher code), as GDAL's `mode` resampling does — one
/// cell's code per pixel, or even per pixel the mode of its own cells, is
/// noise at that scale.
fn paint_cells(page: &mut Page, view: &View, grid: &GradeGrid, colours: &[Option<(u8, u8, u8)>]) {
    let alpha = page.style.grid.alpha as f32;
    let frame = page.frame;
    let s = grid.spec;
    let wide = 1.0 / view.scale >= 2.0 * s.cell;
    let block = if wide {
        page.mm(1.0).round().max(1.0) as usize
    } else {
        1
    };
    // The cells under the pixels [p, p + block): a range of columns (or
    // rows) — the one under the first pixel's centre at large scale.
    let cells = |a: f64, b: f64, origin: f64, sign: f64, n: usize| {
        let k = |v: f64| ((v - origin) * sign / s.cell).floor().clamp(0.0, n as f64) as usize;
        if wide {
            let (p, q) = (k(a), k(b));
            return p.min(q)..p.max(q);
        }
        let c = ((a + b) / 2.0 - origin) * sign / s.cell;
        if c < 0.0 || c >= n as f64 {
            return 0..0;
        }
        c as usize..c as usize + 1
    };
    // The view is axis-aligned: a block's grid columns depend on its x
    // alone and its rows on its y alone, so each is worked out once.
    let xs: Vec<usize> = (frame.l as usize..frame.r as usize)
        .step_by(block)
        .collect();
    let ys: Vec<usize> = (frame.t as usize..frame.b as usize)
        .step_by(block)
        .collect();
    let cols: Vec<std::ops::Range<usize>> = xs
        .iter()
        .map(|&px| {
            let (a, b) = (
                view.metric(px as f32, 0.0).0,
                view.metric((px + block) as f32, 0.0).0,
            );
            cells(a, b, s.x0, 1.0, s.cols)
        })
        .collect();
    let inks: Vec<Option<tiny_skia::ColorU8>> = colours
        .iter()
        .map(|c| c.map(|(r, g, b)| tint(r, g, b, alpha)))
        .collect();
    // At small scale the PDF takes the blocks as they are painted.
    let mut blocks = (wide && page.canvas.recording()).then(|| vec![None; xs.len() * ys.len()]);
    let w = page.canvas.pixmap.width() as usize;
    let pixels = page.canvas.pixmap.pixels_mut();
    for (j, &py) in ys.iter().enumerate() {
        let (a, b) = (
            view.metric(0.0, py as f32).1,
            view.metric(0.0, (py + block) as f32).1,
        );
        let rows = cells(a, b, s.y0, -1.0, s.rows);
        if rows.is_empty() {
            continue;
        }
        for (i, (&px, cols)) in xs.iter().zip(&cols).enumerate() {
            let code = match (rows.len(), cols.len()) {
                (_, 0) => continue,
                (1, 1) => grid.codes[rows.start * s.cols + cols.start],
                _ => mode(rows.clone().flat_map(|r| {
                    grid.codes[r * s.cols + cols.start..r * s.cols + cols.end]
                        .iter()
                        .copied()
                })),
            };
            let Some(&Some(ink)) = inks.get(code as usize) else {
                continue;
            };
            if let Some(kept) = &mut blocks {
                kept[j * xs.len() + i] = Some(ink);
            }
            let ink = ink.premultiply();
            for y in py..(py + block).min(frame.b as usize) {
                for x in px..(px + block).min(frame.r as usize) {
                    pixels[y * w + x] = ink;
                }
            }
        }
    }
    if let Some(kept) = blocks {
        let step = block as f32;
        let origin = (frame.l.floor().max(0.0), frame.t.floor().max(0.0));
        keep_cell_paths(page, &kept, xs.len(), origin, (step, step));
    } else if page.canvas.recording() {
        keep_cells(page, view, grid, &inks);
    }
}

/// Keeps the grid's cells in the frame for the PDF, at large scale, where
/// a cell spans many page pixels: as rectangles, printed sharp.
fn keep_cells(page: &mut Page, view: &View, grid: &GradeGrid, inks: &[Option<tiny_skia::ColorU8>]) {
    let (s, f) = (grid.spec, page.frame);
    let (west, north) = view.metric(f.l, f.t);
    let (east, south) = view.metric(f.r, f.b);
    let span = |a: f64, b: f64, n: usize| {
        let k = |v: f64| (v / s.cell).floor().clamp(0.0, n as f64) as usize;
        (k(a), (k(b) + 1).min(n))
    };
    let (c0, c1) = span(west - s.x0, east - s.x0, s.cols);
    let (r0, r1) = span(s.y0 - north, s.y0 - south, s.rows);
    if c1 <= c0 || r1 <= r0 {
        return;
    }
    let kept: Vec<Option<tiny_skia::ColorU8>> = (r0..r1)
        .flat_map(|r| (c0..c1).map(move |c| (r, c)))
        .map(|(r, c)| {
            inks.get(grid.codes[r * s.cols + c] as usize)
                .copied()
                .flatten()
        })
        .collect();
    let origin = view.px(s.x0 + c0 as f64 * s.cell, s.y0 - r0 as f64 * s.cell);
    let step = (s.cell * view.scale) as f32;
    keep_cell_paths(page, &kept, c1 - c0, origin, (step, step));
}

/// A cell at least this many page pixels across goes to the PDF as a
/// rectangle; smaller ones (a district of a province, where a map holds
/// hundreds of thousands) as an image of one pixel per cell.
const CELL_PATH_MIN_PX: f32 = 4.0;

/// Keeps a raster of cells (`width` a row, row-major, each `step` px from
/// `origin`) for the PDF, clipped to the frame: as one path per colour, each
/// row's runs of a colour merged into one rectangle, where cells are large
/// on the page; else as an image of one pixel per cell.
fn keep_cell_paths(
    page: &mut Page,
    cells: &[Option<tiny_skia::ColorU8>],
    width: usize,
    origin: (f32, f32),
    step: (f32, f32),
) {
    let frame = page.frame;
    if step.0.min(step.1) < CELL_PATH_MIN_PX {
        let height = cells.len() / width.max(1);
        let rgba = cells
            .iter()
            .flat_map(|c| c.map_or([0; 4], |c| [c.red(), c.green(), c.blue(), 255]))
            .collect();
        page.canvas.keep(|| canvas::Op::Image {
            to: Rect {
                l: origin.0,
                t: origin.1,
                r: origin.0 + width as f32 * step.0,
                b: origin.1 + height as f32 * step.1,
            },
            width: width as u32,
            height: height as u32,
            rgba,
            multiply: false,
            clip: Some(frame),
        });
        return;
    }
    let mut paths: std::collections::BTreeMap<[u8; 3], PathBuilder> = Default::default();
    for (j, row) in cells.chunks(width).enumerate() {
        let mut i = 0;
        while i < row.len() {
            let Some(ink) = row[i] else {
                i += 1;
                continue;
            };
            let end = (i..row.len())
                .find(|&k| row[k] != Some(ink))
                .unwrap_or(row.len());
            let (x, y) = (origin.0 + i as f32 * step.0, origin.1 + j as f32 * step.1);
            let r = tiny_skia::Rect::from_xywh(x, y, (end - i) as f32 * step.0, step.1);
            if let Some(r) = r {
                paths
                    .entry([ink.red(), ink.green(), ink.blue()])
                    .or_default()
                    .push_rect(r);
            }
            i = end;
        }
    }
    for ([r, g, b], pb) in paths {
        if let Some(path) = pb.finish() {
            page.canvas.keep(|| canvas::Op::Fill {
                path,
                colour: Color::from_rgba8(r, g, b, 255),
                even_odd: false,
                clip: Some(frame),
            });
        }
    }
}

/// The most frequent of `codes` (below 16), the higher on a tie.
fn mode(codes: impl Iterator<Item = u8>) -> u8 {
    let mut n = [0u32; 16];
    for c in codes {
        n[(c & 15) as usize] += 1;
    }
    // `max_by_key` keeps the last of equals: the higher code.
    (0..16u8)
        .filter(|c| n[*c as usize] > 0)
        .max_by_key(|c| n[*c as usize])
        .unwrap_or(0)
}

/// Title centred at the top of the frame, in a white box.
/// The part of the frame the map body is fitted into: below the title band
/// and right of the legend column, so neither hides the area mapped.
fn body_rect(page: &Page) -> Rect {
    let title_band = page.mm(3.0) + page.pt(page.style.text.title_pt) * 1.5 + page.mm(4.0);
    let legend_column = page.mm(4.0) + page.pt(page.style.text.legend_pt) * 22.0;
    Rect {
        l: page.frame.l + legend_column,
        t: page.frame.t + title_band,
        r: page.frame.r - page.mm(6.0),
        b: page.frame.b - page.mm(4.0),
    }
}

fn draw_title(page: &mut Page, title: &str) {
    let size = page.pt(page.style.text.title_pt);
    let r = title_rect(page, title);
    let paper = &page.style.furniture;
    page.rect(r, Some(colour(&paper.box_, paper.title_alpha)), None);
    let ink = colour(&page.style.text.colour, 1.0);
    let pad = page.mm(2.0);
    let mut y = r.t + pad;
    for line in title_lines(page, title) {
        let (w, h) = page.measure(&line, size);
        let x = (r.l + r.r) / 2.0 - w / 2.0;
        page.text(&line, x, y, size, ink, None);
        y += h * 1.15;
    }
    page.taken.push(r);
    page.info.title = title.to_string();
    page.furniture("title", r);
}

/// The title in lines no wider than 70 % of the frame (clear of the north
/// arrow): a long one breaks before its year (the area's name, then
/// 2026年…), and a part still too wide wherever it must.
fn title_lines(page: &Page, title: &str) -> Vec<String> {
    let size = page.pt(page.style.text.title_pt);
    let width = (page.frame.r - page.frame.l) * 0.7;
    if page.measure(title, size).0 <= width {
        return vec![title.to_string()];
    }
    let year = title
        .char_indices()
        .find(|(i, _)| {
            let rest = &title[*i..];
            rest.len() > 5
                && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit)
                && rest[4..].starts_with('年')
        })
        .map(|(i, _)| i)
        .filter(|i| *i > 0);
    let parts = match year {
        Some(i) => vec![&title[..i], &title[i..]],
        None => vec![title],
    };
    parts
        .into_iter()
        .flat_map(|p| wrap(page, p, size, width))
        .collect()
}

/// The title's box: its lines centred at the top of the frame.
fn title_rect(page: &Page, title: &str) -> Rect {
    let size = page.pt(page.style.text.title_pt);
    let lines = title_lines(page, title);
    let w = lines
        .iter()
        .map(|l| page.measure(l, size).0)
        .fold(0.0, f32::max);
    let h: f32 = lines
        .iter()
        .map(|l| page.measure(l, size).1 * 1.15)
        .sum::<f32>()
        - page.measure(&lines[0], size).1 * 0.15;
    let x = (page.frame.l + page.frame.r) / 2.0 - w / 2.0;
    let y = page.frame.t + page.mm(3.0);
    let pad = page.mm(2.0);
    Rect {
        l: x - pad,
        t: y - pad,
        r: x + w + pad,
        b: y + h + pad,
    }
}

/// What a risk map shows, for its legend.
struct RiskShown<'a> {
    points: &'a [&'a MapPoint],
    hazards: &'a [&'a MapHazard],
    /// Influence zones are drawn.
    zones: bool,
    /// The area grades filled: every unit's on the city map, the
    /// district's own (and its grey neighbours) on a district map.
    areas: Areas<'a>,
    /// The cell codes the map shows (see [`grid_codes_in`]).
    cells: [bool; 8],
}

/// The units a risk map fills by their area grade.
enum Areas<'a> {
    /// Every unit at the units' opacity.
    All(&'a [MapUnit]),
    /// One district at a lighter opacity, its neighbours grey.
    District(&'a MapUnit),
    /// None.
    None,
}

/// An enterprise's symbol in the legend: its dot, no smaller than a
/// third of the text.
fn enterprise_symbol(g: Grade) -> legend::Painter {
    Box::new(move |page: &mut Page, x, y, size| {
        let r = (page.mm(page.style.points.enterprise_mm) / 2.0).max(size * 0.3);
        let halo = colour(&page.style.text.halo, 1.0);
        page.canvas
            .circle(x, y, r, Some(grade_colour(g, 1.0)), Some((halo, 0.6)));
    })
}

/// The major hazard source's triangle.
fn hazard_symbol() -> legend::Painter {
    Box::new(|page: &mut Page, x, y, size| {
        let outline = colour(&page.style.points.major_hazard_outline, 1.0);
        page.triangle(x, y, size * 1.1, grade_colour(Grade::Red, 1.0), outline);
    })
}

/// The influence zone's ring.
fn zone_symbol() -> legend::Painter {
    Box::new(|page: &mut Page, x, y, size| {
        let p = page.style.points.clone();
        page.canvas.circle(
            x,
            y,
            size * 0.5,
            None,
            Some((
                colour(&p.influence_outline, 0.8),
                page.mm(p.influence_mm) * 2.0,
            )),
        );
    })
}

/// `label（colour）`: 重大风险（红）.
fn grade_name(g: Grade) -> String {
    format!("{}（{}）", styles::label(g), styles::grade(g).colour_name)
}

/// The risk maps' legend: enterprises by grade, major hazard sources and
/// their zones, the area fills and the grid's grades, each where the map
/// shows it.
fn risk_legend(page: &Page, shown: &RiskShown, t: &crate::ingest::config::Thresholds) -> Legend {
    let mut legend = Legend::default();
    let counts = counts(shown.points);
    legend.section(
        "企业风险等级",
        Grade::DESCENDING
            .iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(g, n)| Entry {
                paint: enterprise_symbol(*g),
                text: format!("{}企业 {n} 家", grade_name(*g)),
                colour: Some(grade_colour(*g, 1.0)),
            })
            .collect(),
    );
    let mut hazards = Vec::new();
    if !shown.hazards.is_empty() {
        hazards.push(Entry {
            paint: hazard_symbol(),
            text: format!("重大危险源 {} 处", shown.hazards.len()),
            colour: Some(grade_colour(Grade::Red, 1.0)),
        });
    }
    if shown.zones {
        hazards.push(Entry {
            paint: zone_symbol(),
            text: "影响范围".to_string(),
            colour: None,
        });
    }
    // An enterprise's map circles its hazard units even when none is major.
    let heading = if shown.hazards.is_empty() {
        "危险源单元"
    } else {
        "重大危险源"
    };
    legend.section(heading, hazards);
    let fill = page.style.units.fill_alpha;
    let area = |g: Grade, alpha: f64, text: String| {
        let fill = tint_of(&styles::grade(g).fill, alpha);
        Entry {
            paint: legend::fill_swatch(fill),
            text,
            colour: Some(fill),
        }
    };
    let areas = match shown.areas {
        Areas::All(units) => Grade::DESCENDING
            .iter()
            .filter_map(|g| {
                let n = units.iter().filter(|u| u.grade == Some(*g)).count();
                (n > 0).then(|| area(*g, fill, format!("{}区域 {n} 个", grade_name(*g))))
            })
            .collect(),
        Areas::District(u) => {
            let grey = tint_of(&page.style.units.neighbour_fill, 0.85);
            u.grade
                .map(|g| area(g, fill * 0.6, format!("本区 {}", grade_name(g))))
                .into_iter()
                .chain(std::iter::once(Entry {
                    paint: legend::fill_swatch(grey),
                    text: "相邻区县".to_string(),
                    colour: Some(grey),
                }))
                .collect()
        }
        Areas::None => Vec::new(),
    };
    legend.section("区域风险等级", areas);
    let alpha = page.style.grid.alpha;
    legend.section(
        "网格风险暴露等级",
        (1..=4u8)
            .rev()
            .filter(|c| shown.cells[*c as usize])
            .filter_map(Grade::from_grid_code)
            .map(|g| area(g, alpha, format!("{}  {}", styles::label(g), e_range(g, t))))
            .collect(),
    );
    legend
}

/// The E values of a cell grade, as the legend writes them.
fn e_range(g: Grade, t: &crate::ingest::config::Thresholds) -> String {
    match g {
        Grade::Red => format!("E ≥ {}", t.red),
        Grade::Orange => format!("{} ≤ E < {}", t.orange, t.red),
        Grade::Yellow => format!("{} ≤ E < {}", t.yellow, t.orange),
        Grade::Blue => format!("0 < E < {}", t.yellow),
    }
}

/// The part of the frame a map is fitted into: below the title band.
fn map_body(page: &Page) -> Rect {
    let title_band = page.mm(3.0) + page.pt(page.style.text.title_pt) * 1.5 + page.mm(4.0);
    Rect {
        l: page.frame.l + page.mm(2.0),
        t: page.frame.t + title_band,
        r: page.frame.r - page.mm(2.0),
        b: page.frame.b - page.mm(2.0),
    }
}

/// The tallest a legend may be on this page, px.
fn legend_max_height(page: &Page) -> f32 {
    let b = map_body(page);
    b.b - b.t - page.mm(8.0)
}

/// Lays the map out (see [`layout::plan`]): `area` fitted to the page with
/// the legend, scale bar, north arrow and `extra` box (an inset or a note)
/// where they hide least of it.
fn plan_map(
    page: &mut Page,
    area: &[&MultiPolygon<f64>],
    envelope: ([f64; 2], [f64; 2]),
    title: &str,
    legend: &Legend,
    extra: Option<(f32, f32)>,
) -> View {
    let right = page.frame.r;
    plan_map_left_of(page, right, area, envelope, title, legend, extra)
}

/// [`plan_map`] in the part of the frame left of `right` px (a table's
/// column is right of it).
fn plan_map_left_of(
    page: &mut Page,
    right: f32,
    area: &[&MultiPolygon<f64>],
    envelope: ([f64; 2], [f64; 2]),
    title: &str,
    legend: &Legend,
    extra: Option<(f32, f32)>,
) -> View {
    let furniture = layout::Furniture {
        legend: legend.size(page, legend_max_height(page)),
        extra,
    };
    let space = layout::Space {
        body: Rect {
            r: right.min(map_body(page).r),
            ..map_body(page)
        },
        room: Rect {
            r: right,
            ..page.frame
        },
        title: title_rect(page, title),
    };
    layout::plan(page, area, envelope, space, &furniture)
}

/// Draws the legend where the layout put it.
fn draw_placed_legend(page: &mut Page, legend: &Legend) {
    let max = legend_max_height(page);
    let size = legend.size(page, max);
    // Anchored at its corner: a legend redrawn with other counts keeps it.
    let r = match page.placement {
        Some(p) => p.legend_corner.anchor(p.legend, size),
        None => Corner::BottomLeft.place(page.frame, size, page.mm(4.0)),
    };
    legend.draw(page, r, max);
}

/// The list of units under a legend's `fixed` px of entries: `heading`,
/// then as many `rows` as fit in `small`-px lines (written by `line`), the
/// rest summed in a last line by `rest`; nothing when none fits.
fn legend_unit_lines<T>(
    page: &Page,
    (fixed, small): (f32, f32),
    heading: &str,
    rows: &[T],
    line: impl Fn(&T) -> String,
    rest: impl Fn(&[T]) -> String,
) -> Vec<String> {
    let room = page.frame.b - page.frame.t - page.mm(60.0);
    let fit = (((room - fixed - small * 2.0) / (small * 1.45))
        .floor()
        .max(0.0) as usize)
        .min(rows.len());
    if fit == 0 {
        return Vec::new();
    }
    let cut = if fit < rows.len() { fit - 1 } else { fit };
    let mut lines = vec![heading.to_string()];
    lines.extend(rows[..cut].iter().map(line));
    if cut < rows.len() {
        lines.push(rest(&rows[cut..]));
    }
    lines
}

/// The largest round length (1, 2 or 5 × 10ⁿ m) not over `metres`.
pub fn round_length(metres: f64) -> f64 {
    let p = 10f64.powf(metres.log10().floor());
    [10.0, 5.0, 2.0, 1.0]
        .into_iter()
        .map(|k| k * p)
        .find(|l| *l <= metres)
        .unwrap_or(p)
}

fn length_text(m: f64) -> String {
    if m >= 1000.0 {
        format!("{} km", m / 1000.0)
    } else {
        format!("{m} m")
    }
}

/// Scale bar in the lower-right corner: four alternating segments.
fn draw_scale_bar(page: &mut Page, view: &View) {
    let frame_m = (page.frame.r - page.frame.l) as f64 / view.scale;
    let length = round_length(frame_m / 5.0);
    let px = (length * view.scale) as f32;
    let h = page.mm(1.6);
    let size = page.pt(page.style.text.small_pt);
    let box_size = (px + page.mm(9.0), h + size * 1.6 + page.mm(4.0));
    let bg = match page.placement {
        Some(p) => p.scale_corner.anchor(p.scale_bar, box_size),
        None => Corner::BottomRight.place(page.frame, box_size, page.mm(4.0)),
    };
    let (left, bottom) = (bg.l + page.mm(3.0), bg.b - page.mm(2.0));
    page.info.scale = Some((page.px_per_mm * 1000.0 / view.scale).round() as u64);
    let (x0, y0) = view.metric(0.0, 0.0);
    let m = 1.0 / view.scale;
    page.info.geotransform = Some([x0, m, 0.0, y0, 0.0, -m]);
    let paper = &page.style.furniture;
    page.rect(bg, Some(colour(&paper.box_, paper.scale_alpha)), None);
    let ink = colour(&page.style.frame.colour, 1.0);
    for i in 0..4 {
        let seg = Rect {
            l: left + px * i as f32 / 4.0,
            t: bottom - h,
            r: left + px * (i + 1) as f32 / 4.0,
            b: bottom,
        };
        page.rect(
            seg,
            Some(if i % 2 == 0 {
                ink
            } else {
                colour(&page.style.furniture.box_, 1.0)
            }),
            Some((ink, 1.0)),
        );
    }
    for (frac, text) in [
        (0.0, "0".to_string()),
        (0.5, length_text(length / 2.0)),
        (1.0, length_text(length)),
    ] {
        let (w, _) = page.measure(&text, size);
        page.text(
            &text,
            left + px * frac - w / 2.0,
            bottom - h - size * 1.5,
            size,
            ink,
            None,
        );
    }
    page.taken.push(bg);
    page.furniture("scale_bar", bg);
}

/// North arrow in the upper-right corner.
fn draw_north_arrow(page: &mut Page) {
    let size = page.mm(9.0);
    let at = page.placement.map_or_else(
        || Corner::TopRight.place(page.frame, layout::north_size(page), page.mm(4.0)),
        |p| p.north,
    );
    let (cx, top) = ((at.l + at.r) / 2.0, at.t + page.mm(2.0));
    let ink = colour(&page.style.frame.colour, 1.0);
    let label = page.pt(page.style.text.label_pt) * 1.2;
    let (w, h) = page.measure("N", label);
    page.text("N", cx - w / 2.0, top, label, ink, None);
    let tip = top + h + page.mm(0.5);
    let mut left = PathBuilder::new();
    left.move_to(cx, tip);
    left.line_to(cx - size * 0.32, tip + size);
    left.line_to(cx, tip + size * 0.72);
    left.close();
    let mut right = PathBuilder::new();
    right.move_to(cx, tip);
    right.line_to(cx + size * 0.32, tip + size);
    right.line_to(cx, tip + size * 0.72);
    right.close();
    if let (Some(l), Some(r)) = (left.finish(), right.finish()) {
        page.canvas.fill(&l, ink, FillRule::Winding, None);
        let paper = colour(&page.style.furniture.box_, 1.0);
        page.canvas.fill(&r, paper, FillRule::Winding, None);
        page.canvas.stroke(&r, ink, 1.0, None, None);
    }
    page.taken.push(at);
    page.furniture("north_arrow", at);
}

/// The neat frame (a thick inner line and a thin outer one) and the source
/// line (with the base layers' credit, when they have one) and the data
/// date under it.
fn draw_frame_and_footer(page: &mut Page, data: &MapData) {
    let source = match &data.base.attribution {
        Some(credit) => format!("{}　{credit}", data.source),
        None => data.source.clone(),
    };
    draw_frame_and_footer_lines(page, &source, &data.data_date);
}

/// [`draw_frame_and_footer`] with the source line and the data date given.
fn draw_frame_and_footer_lines(page: &mut Page, source: &str, data_date: &str) {
    let ink = colour(&page.style.frame.colour, 1.0);
    let f = page.frame;
    page.rect(f, None, Some((ink, page.mm(page.style.frame.width_mm))));
    let o = page.mm(1.2);
    page.rect(
        Rect {
            l: f.l - o,
            t: f.t - o,
            r: f.r + o,
            b: f.b + o,
        },
        None,
        Some((ink, 1.0)),
    );
    let size = page.pt(page.style.text.small_pt);
    let y = f.b + page.mm(2.2);
    let right = format!("数据截至 {data_date}　制图：riskatlas");
    let (w, _) = page.measure(&right, size);
    page.text(&right, f.r - w, y, size, ink, None);
    for (i, line) in footer_lines(page, source, size, f.r - f.l - w - page.mm(4.0))
        .iter()
        .enumerate()
    {
        page.text(line, f.l, y + i as f32 * size * 1.3, size, ink, None);
    }
}

/// The source line as it fits left of the date: whole, else a line per
/// part (the source, the base data's credit), each wrapped if need be.
fn footer_lines(page: &Page, source: &str, size: f32, width: f32) -> Vec<String> {
    if page.measure(source, size).0 <= width {
        return vec![source.to_string()];
    }
    source
        .split('　')
        .flat_map(|part| wrap(page, part, size, width))
        .collect()
}

fn bounds(mps: &[&MultiPolygon<f64>]) -> ([f64; 2], [f64; 2]) {
    let mut min = [f64::INFINITY; 2];
    let mut max = [f64::NEG_INFINITY; 2];
    for r in mps.iter().filter_map(|m| m.bounding_rect()) {
        min = [min[0].min(r.min().x), min[1].min(r.min().y)];
        max = [max[0].max(r.max().x), max[1].max(r.max().y)];
    }
    (min, max)
}

/// The share of the mapped area the symbols drawn may cover together:
/// beyond it they hide one another and the area grades and grid under them
/// (a province's million enterprises are a blanket at 1:3,000,000).
const MAX_SYMBOL_COVER: f64 = 0.5;

/// What a risk map draws of its enterprises and major hazard sources at its
/// scale (scale-dependent generalisation).
struct Thinned<'a> {
    /// The enterprises drawn: the grades, highest first, whose symbols
    /// together cover at most [`MAX_SYMBOL_COVER`] of the area.
    points: Vec<&'a MapPoint>,
    /// The major hazard sources, when theirs do.
    hazards: Vec<&'a MapHazard>,
    /// What is left out, for the legend's notes.
    notes: Vec<String>,
}

/// Thins the symbols of a map of `areas` (metric polygons framed by
/// `env`) to what its scale can show; the legend's notes say what is left
/// out and how many.
fn thin<'a>(
    page: &Page,
    areas: &[&MultiPolygon<f64>],
    env: ([f64; 2], [f64; 2]),
    points: &[&'a MapPoint],
    hazards: &[&'a MapHazard],
) -> Thinned<'a> {
    let dot =
        std::f64::consts::PI * (page.mm(page.style.points.enterprise_mm) as f64 / 2.0).powi(2);
    let triangle = (page.mm(page.style.points.major_hazard_mm) as f64).powi(2) * 0.43;
    let n = counts(points);
    let drawn = classes_that_fit(page, areas, env, &n.map(|c| (c, dot)));
    let kept = &Grade::DESCENDING[..drawn];
    let mut notes: Vec<String> = Grade::DESCENDING[drawn..]
        .iter()
        .zip(&n[drawn..])
        .filter(|(_, k)| **k > 0)
        .map(|(g, k)| format!("　{}企业 {k} 家", grade_name(*g)))
        .collect();
    let hazards_fit = classes_that_fit(page, areas, env, &[(hazards.len(), triangle)]) == 1;
    if !hazards_fit && !hazards.is_empty() {
        notes.push(format!(
            "　重大危险源 {} 处（见网格风险暴露等级）",
            hazards.len()
        ));
    }
    if !notes.is_empty() {
        notes.insert(0, "本比例尺下未逐一绘出：".to_string());
    }
    Thinned {
        points: points
            .iter()
            .copied()
            .filter(|p| kept.contains(&p.grade))
            .collect(),
        hazards: if hazards_fit {
            hazards.to_vec()
        } else {
            Vec::new()
        },
        notes,
    }
}

/// How many of `classes` of symbols (each a number of symbols and one's
/// area in px², the most important first) a map of `areas` framed by `env`
/// draws: those that together cover at most [`MAX_SYMBOL_COVER`] of the
/// areas on the page.
fn classes_that_fit(
    page: &Page,
    areas: &[&MultiPolygon<f64>],
    env: ([f64; 2], [f64; 2]),
    classes: &[(usize, f64)],
) -> usize {
    let budget = symbol_budget(page, areas, env);
    let mut cover = 0.0;
    classes
        .iter()
        .take_while(|(n, each)| {
            cover += *n as f64 * each;
            cover <= budget
        })
        .count()
}

/// The px² of page the symbols of a map of `areas` framed by `env` may
/// cover together: [`MAX_SYMBOL_COVER`] of the areas on the page.
fn symbol_budget(page: &Page, areas: &[&MultiPolygon<f64>], env: ([f64; 2], [f64; 2])) -> f64 {
    use geo::Area;
    let px_per_m = View::fit(env.0, env.1, map_body(page)).scale;
    let area_px: f64 = areas.iter().map(|m| m.unsigned_area()).sum::<f64>() * px_per_m * px_per_m;
    MAX_SYMBOL_COVER * area_px
}

fn counts(points: &[&MapPoint]) -> [usize; 4] {
    let mut c = [0; 4];
    for p in points {
        c[Grade::DESCENDING
            .iter()
            .position(|g| *g == p.grade)
            .expect("a grade")] += 1;
    }
    c
}

/// Enterprises, low grades first so red and orange are drawn on top.
fn draw_points(page: &mut Page, view: &View, points: &[&MapPoint], hazards: &[&MapHazard]) {
    let r = page.mm(page.style.points.enterprise_mm) / 2.0;
    let halo = colour(&page.style.text.halo, 1.0);
    for g in [Grade::Blue, Grade::Yellow, Grade::Orange, Grade::Red] {
        for p in points.iter().filter(|p| p.grade == g) {
            let (x, y) = view.px(p.xy[0], p.xy[1]);
            if page.frame.holds(x, y) {
                page.canvas
                    .circle(x, y, r, Some(grade_colour(g, 1.0)), Some((halo, 0.6)));
            }
        }
    }
    let size = page.mm(page.style.points.major_hazard_mm);
    let outline = colour(&page.style.points.major_hazard_outline, 1.0);
    for h in hazards {
        let (x, y) = view.px(h.xy[0], h.xy[1]);
        if page.frame.holds(x, y) {
            page.triangle(x, y, size, grade_colour(Grade::Red, 1.0), outline);
        }
    }
}

/// `<area>` `<year>`年 `<map name>`.
fn title(data: &MapData, area: &str, map: &str) -> String {
    format!("{area}{}年{map}", data.year)
}

/// The city map: districts filled by area grade under the exposure grid,
/// district names, enterprises by grade, major hazard sources.
pub fn city_map(data: &MapData, style: &MapStyle, font: &FontVec) -> Result<Drawn, RenderError> {
    let mut page = Page::new(style, font)?;
    let outlines: Vec<&MultiPolygon<f64>> = data.units.iter().map(|u| &u.boundary).collect();
    let (min, max) = bounds(&outlines);
    let all: Vec<&MapPoint> = data.enterprises.iter().collect();
    let majors: Vec<&MapHazard> = data.hazards.iter().filter(|h| h.grade.is_some()).collect();
    let Thinned {
        points: all,
        hazards,
        notes,
    } = thin(&page, &outlines, (min, max), &all, &majors);
    let title_text = title(data, &data.area_name, "安全风险分布电子图");
    let shown = RiskShown {
        points: &all,
        hazards: &hazards,
        zones: false,
        areas: Areas::All(&data.units),
        cells: grid_codes_in(&data.grid, min, max),
    };
    let mut legend = risk_legend(&page, &shown, &data.grid_thresholds);
    base::settle_scale(&mut page, min, max);
    legend.section("底图", base::legend_entries(&page, &data.base, min, max));
    legend.notes.extend(notes);
    let inset = city_inset(&page, data);
    let view = plan_map(
        &mut page,
        &outlines,
        (min, max),
        &title_text,
        &legend,
        inset,
    );
    for u in &data.units {
        let fill = u
            .grade
            .map(|g| tint_of(&styles::grade(g).fill, style.units.fill_alpha));
        page.polygon(&view, &u.boundary, fill, None);
    }
    base::draw_areas(&mut page, &view, &data.base);
    draw_grid(&mut page, &view, &data.grid);
    base::draw_lines(&mut page, &view, &data.base);
    let units: Vec<&MapUnit> = data.units.iter().collect();
    draw_outlines(
        &mut page,
        &view,
        &units,
        data.city.as_ref().map(|c| &c.boundary),
    );
    draw_points(&mut page, &view, &all, &hazards);
    draw_furniture(&mut page, &view, &legend, &title_text);
    draw_city_inset(&mut page, data);
    let size = page.pt(style.text.label_pt) * 1.25;
    // Red enterprises too many to draw are counted under each unit's name.
    let reds = red_per_unit(data, &all);
    label_units_counted(&mut page, &view, &units, size, reds.as_ref());
    base::label_places(&mut page, &view, &data.base);
    draw_frame_and_footer(&mut page, data);
    Ok(page.encode())
}

/// Draws title, north arrow, legend and scale bar over the map body; their
/// boxes are then off limits to labels.
fn draw_furniture(page: &mut Page, view: &View, legend: &Legend, title_text: &str) {
    draw_title(page, title_text);
    draw_north_arrow(page);
    draw_placed_legend(page, legend);
    draw_scale_bar(page, view);
}

/// One district's map: the district over the grid, its neighbours greyed,
/// influence zones, enterprises labelled by name where space allows, and an
/// inset locating it in the city.
fn district_map(
    data: &MapData,
    unit: &MapUnit,
    within: &InUnit,
    style: &MapStyle,
    font: &FontVec,
) -> Result<Drawn, RenderError> {
    let mut page = Page::new(style, font)?;
    let (min, max) = bounds(&[&unit.boundary]);
    let Thinned {
        points,
        hazards,
        notes,
    } = thin(
        &page,
        &[&unit.boundary],
        (min, max),
        &within.points,
        &within.hazards,
    );
    let (points, hazards) = (points.as_slice(), hazards.as_slice());
    let title_text = title(
        data,
        &format!("{}{}", data.area_name, unit.name),
        "安全风险分布图",
    );
    let shown = RiskShown {
        points,
        hazards,
        zones: !hazards.is_empty(),
        areas: Areas::District(unit),
        cells: grid_codes_in(&data.grid, min, max),
    };
    let mut legend = risk_legend(&page, &shown, &data.grid_thresholds);
    base::settle_scale(&mut page, min, max);
    legend.section("底图", base::legend_entries(&page, &data.base, min, max));
    legend.notes.extend(notes);
    let inset = Some(inset_size(&page));
    let view = plan_map(
        &mut page,
        &[&unit.boundary],
        (min, max),
        &title_text,
        &legend,
        inset,
    );
    let towns = draw_district_units(&mut page, &view, data, unit);
    draw_influence_zones(&mut page, &view, hazards);
    draw_points(&mut page, &view, points, hazards);
    draw_furniture(&mut page, &view, &legend, &title_text);
    draw_inset(&mut page, data, unit);
    label_district(&mut page, &view, unit, points, &towns);
    base::label_places(&mut page, &view, &data.base);
    draw_frame_and_footer(&mut page, data);
    Ok(page.encode())
}

/// The district in its area grade under the grid, its neighbours in grey
/// over it, and its towns (where given; their codes extend the district's) in thin
/// outlines. Returns the towns.
fn draw_district_units<'d>(
    page: &mut Page,
    view: &View,
    data: &'d MapData,
    unit: &MapUnit,
) -> Vec<&'d MapUnit> {
    let style = page.style.units.clone();
    let fill = unit
        .grade
        .map(|g| tint_of(&styles::grade(g).fill, style.fill_alpha * 0.6));
    page.polygon(view, &unit.boundary, fill, None);
    base::draw_areas(page, view, &data.base);
    draw_grid(page, view, &data.grid);
    base::draw_lines(page, view, &data.base);
    draw_neighbours(page, view, data, unit);
    let outline = colour(&style.outline, 1.0);
    page.polygon(
        view,
        &unit.boundary,
        None,
        Some((outline, page.mm(style.city_outline_mm))),
    );
    let towns = towns_of(data, unit);
    for t in &towns {
        page.polygon(
            view,
            &t.boundary,
            None,
            Some((outline, page.mm(style.outline_mm) * 0.6)),
        );
    }
    towns
}

/// The influence circle of each major hazard source, to scale.
/// Outlined only: a tint inside would change the colours of the grid
/// under it into ones the legend does not show.
fn draw_influence_zones(page: &mut Page, view: &View, hazards: &[&MapHazard]) {
    let points = page.style.points.clone();
    let zone = colour(&points.influence_outline, 0.8);
    for h in hazards {
        let (x, y) = view.px(h.xy[0], h.xy[1]);
        page.canvas.circle(
            x,
            y,
            (h.radius_m * view.scale) as f32,
            None,
            Some((zone, page.mm(points.influence_mm))),
        );
    }
}

/// The district's name, then enterprise names (the highest grades first,
/// where there is room), then its towns' names.
fn label_district(
    page: &mut Page,
    view: &View,
    unit: &MapUnit,
    points: &[&MapPoint],
    towns: &[&MapUnit],
) {
    let text = page.style.text.clone();
    let size = page.pt(text.label_pt) * 1.3;
    if let Some(p) = unit.boundary.interior_point() {
        let (x, y) = view.px(p.x(), p.y());
        page.label(&unit.name, x, y, size, 0.0);
    }
    let label = page.pt(text.small_pt);
    let gap = page.mm(page.style.points.enterprise_mm);
    let mut ordered = points.to_vec();
    ordered.sort_by(|a, b| b.grade.cmp(&a.grade).then(a.name.cmp(&b.name)));
    for p in ordered.into_iter().filter(|p| p.grade >= Grade::Yellow) {
        let (x, y) = view.px(p.xy[0], p.xy[1]);
        page.label(&p.name, x, y, label, gap);
    }
    for t in towns {
        if let Some(p) = t.boundary.interior_point() {
            let (x, y) = view.px(p.x(), p.y());
            page.label(&t.name, x, y, label * 1.1, 0.0);
        }
    }
}

/// Splits text into lines no wider than `width` px.
fn wrap(page: &Page, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = vec![String::new()];
    for c in text.chars() {
        let line = lines.last_mut().expect("non-empty");
        line.push(c);
        if page.measure(line, size).0 > width {
            line.pop();
            lines.push(c.to_string());
        }
    }
    lines
}

/// One enterprise's map: its site, its hazard sources with their influence
/// circles, the vulnerable targets around it labelled with kind and distance,
/// and a table of its major hazard sources and grade reasons.
pub fn enterprise_map(
    data: &MapData,
    e: &MapPoint,
    surface: Option<&crate::analysis::exposure::SourceIndex>,
    style: &MapStyle,
    font: &FontVec,
) -> Result<Drawn, RenderError> {
    let mut page = Page::new(style, font)?;
    let own: Vec<&MapHazard> = data
        .hazards
        .iter()
        .filter(|h| h.enterprise == e.id)
        .collect();
    let reach = own.iter().map(|h| h.radius_m).fold(1000.0, f64::max) * 1.15;
    let (min, max) = (
        [e.xy[0] - reach, e.xy[1] - reach],
        [e.xy[0] + reach, e.xy[1] + reach],
    );
    let view = View::fit_within(min, max, body_rect(&page), page.frame);
    // What the frame shows is drawn and counted in the legend.
    let frame = page.frame;
    let within = |xy: [f64; 2]| {
        let (x, y) = view.px(xy[0], xy[1]);
        frame.holds(x, y)
    };
    // At this scale the exposure surface covers the land around the site:
    // the surroundings are left out (drawn, they would show nowhere).
    base::draw_local_areas(&mut page, &view, &data.base);
    let cells = match (surface, &data.exposure) {
        (Some(index), Some(field)) => {
            draw_surface(&mut page, &view, index, field, &data.grid_thresholds)
        }
        _ => {
            draw_grid(&mut page, &view, &data.grid);
            grid_codes_in(&data.grid, min, max)
        }
    };
    base::draw_lines(&mut page, &view, &data.base);
    let outline = colour(&style.units.outline, 1.0);
    for u in &data.units {
        page.polygon(
            &view,
            &u.boundary,
            None,
            Some((outline, page.mm(style.units.outline_mm))),
        );
    }
    let zone = colour(&style.points.influence_outline, 0.9);
    for h in &own {
        let (x, y) = view.px(h.xy[0], h.xy[1]);
        page.canvas.circle(
            x,
            y,
            (h.radius_m * view.scale) as f32,
            None,
            Some((zone, page.mm(style.points.influence_mm) * 2.0)),
        );
    }
    let others: Vec<&MapPoint> = data
        .enterprises
        .iter()
        .filter(|p| p.id != e.id && within(p.xy))
        .collect();
    let majors: Vec<&MapHazard> = own.iter().copied().filter(|h| h.grade.is_some()).collect();
    draw_points(&mut page, &view, &others, &majors);
    let title_text = title(data, &e.name, "企业安全风险图");
    let points: Vec<&MapPoint> = others.iter().copied().chain(std::iter::once(e)).collect();
    let shown = RiskShown {
        points: &points,
        hazards: &majors,
        zones: !own.is_empty(),
        areas: Areas::None,
        cells,
    };
    let mut legend = risk_legend(&page, &shown, &data.grid_thresholds);
    let near = targets_near(&data.targets, e.xy, reach);
    if !near.is_empty() {
        let green = colour(&style.points.target, 1.0);
        legend.section(
            "脆弱性目标",
            vec![Entry {
                paint: target_symbol(),
                text: format!("{} km 内脆弱性目标 {} 处", reach / 1000.0, near.len()),
                colour: Some(green),
            }],
        );
    }
    let (left, bottom) = view.metric(frame.l, frame.b);
    let (right, top) = view.metric(frame.r, frame.t);
    legend.section(
        "底图",
        base::local_legend_entries(&page, &data.base, [left, bottom], [right, top]),
    );
    draw_furniture(&mut page, &view, &legend, &title_text);
    draw_site(&mut page, &view, e);
    draw_targets_near(&mut page, &view, &near);
    label_neighbours(&mut page, &view, e, &others);
    base::label_local_places(&mut page, &view, &data.base);
    draw_enterprise_table(&mut page, e, &own);
    draw_frame_and_footer(&mut page, data);
    Ok(page.encode())
}

/// Names the enterprises around the site where there is room: the
/// highest grades first, then the nearest.
fn label_neighbours(page: &mut Page, view: &View, e: &MapPoint, others: &[&MapPoint]) {
    let mut order: Vec<(usize, f64, &MapPoint)> = others
        .iter()
        .map(|p| {
            let rank = Grade::DESCENDING
                .iter()
                .position(|g| *g == p.grade)
                .unwrap_or(4);
            let d = (p.xy[0] - e.xy[0]).hypot(p.xy[1] - e.xy[1]);
            (rank, d, *p)
        })
        .collect();
    order.sort_by(|a, b| {
        (a.0, a.1)
            .partial_cmp(&(b.0, b.1))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let size = page.pt(page.style.text.small_pt);
    let gap = page.mm(page.style.points.enterprise_mm);
    for (_, _, p) in order {
        let (x, y) = view.px(p.xy[0], p.xy[1]);
        page.label(&p.name, x, y, size, gap);
    }
}

/// The enterprise map's own site: large, outlined, with its name.
fn draw_site(page: &mut Page, view: &View, e: &MapPoint) {
    let (x, y) = view.px(e.xy[0], e.xy[1]);
    let r = page.mm(2.2);
    page.canvas.circle(
        x,
        y,
        r,
        Some(grade_colour(e.grade, 1.0)),
        Some((colour(&page.style.points.subject_outline, 1.0), 1.5)),
    );
    page.taken.push(Rect {
        l: x - r,
        t: y - r,
        r: x + r,
        b: y + r,
    });
    let size = page.pt(page.style.text.label_pt) * 1.2;
    page.label(&e.name, x, y, size, r + 2.0);
}

/// The vulnerable targets within `reach` metres of `at` (metric), with
/// their distances, nearest first.
fn targets_near(targets: &[MapTarget], at: [f64; 2], reach: f64) -> Vec<(f64, &MapTarget)> {
    let mut near: Vec<(f64, &MapTarget)> = targets
        .iter()
        .map(|t| {
            (
                ((t.xy[0] - at[0]).powi(2) + (t.xy[1] - at[1]).powi(2)).sqrt(),
                t,
            )
        })
        .filter(|(d, _)| *d <= reach)
        .collect();
    near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.name.cmp(&b.1.name)));
    near
}

/// A vulnerable target's green square.
fn target_symbol() -> legend::Painter {
    Box::new(|page: &mut Page, x, y, _| {
        let s = page.mm(1.6);
        let fill = colour(&page.style.points.target, 1.0);
        let edge = colour(&page.style.points.target_outline, 1.0);
        page.rect(
            Rect {
                l: x - s,
                t: y - s,
                r: x + s,
                b: y + s,
            },
            Some(fill),
            Some((edge, 0.8)),
        );
    })
}

/// The vulnerable targets near the site: green squares, then their names,
/// kinds and distances, nearest first.
fn draw_targets_near(page: &mut Page, view: &View, near: &[(f64, &MapTarget)]) {
    let paint = target_symbol();
    let size = page.pt(page.style.text.small_pt);
    for (_, t) in near {
        let (tx, ty) = view.px(t.xy[0], t.xy[1]);
        paint(page, tx, ty, size);
    }
    for (d, t) in near {
        let (tx, ty) = view.px(t.xy[0], t.xy[1]);
        page.label(
            &format!("{}（{}）{:.0} 米", t.name, t.kind, d),
            tx,
            ty,
            size,
            page.mm(2.0),
        );
    }
}

/// The table in the upper-left corner: grade, reasons, major hazard sources.
fn draw_enterprise_table(page: &mut Page, e: &MapPoint, own: &[&MapHazard]) {
    let size = page.pt(page.style.text.legend_pt);
    let line = size * 1.45;
    let pad = page.mm(2.5);
    let width = page.pt(page.style.text.legend_pt) * 20.0;
    let mut lines: Vec<String> = vec![format!(
        "风险等级：{}（{}）",
        styles::label(e.grade),
        styles::grade(e.grade).colour_name
    )];
    if !e.reasons.is_empty() {
        lines.extend(wrap(page, &format!("定级理由：{}", e.reasons), size, width));
    }
    let majors: Vec<&&MapHazard> = own.iter().filter(|h| h.grade.is_some()).collect();
    lines.push(format!("重大危险源 {} 处", majors.len()));
    for h in majors.iter().take(8) {
        lines.push(format!(
            "{}  S={:.2}  R={:.1}  {}",
            h.id,
            h.s,
            h.r,
            crate::analysis::hazard::grade_label_zh(h.grade)
        ));
    }
    if majors.len() > 8 {
        lines.push(format!("… 另有 {} 处", majors.len() - 8));
    }
    lines.truncate(22);
    // Below the title band, in the legend's column.
    let top = body_rect(page).t;
    let r = Rect {
        l: page.frame.l + page.mm(4.0),
        t: top,
        r: page.frame.l + page.mm(4.0) + width + 2.0 * pad,
        b: top + line * lines.len() as f32 + 2.0 * pad,
    };
    page.rect(
        r,
        Some(colour(
            &page.style.furniture.box_,
            page.style.furniture.note_alpha,
        )),
        Some((colour(&page.style.frame.colour, 1.0), 1.0)),
    );
    let ink = colour(&page.style.text.colour, 1.0);
    for (i, l) in lines.iter().enumerate() {
        page.text(l, r.l + pad, r.t + pad + line * i as f32, size, ink, None);
    }
    page.taken.push(r);
}

/// A small map of the whole city in the upper-left corner, the district in red.
fn draw_inset(page: &mut Page, data: &MapData, unit: &MapUnit) {
    let others: Vec<&MultiPolygon<f64>> = data
        .units
        .iter()
        .filter(|u| u.code != unit.code)
        .map(|u| &u.boundary)
        .collect();
    draw_locator(page, &others, &[&unit.boundary], |m, scale| {
        data.inset_unit(m, scale)
    });
}

/// The city maps' inset box: there is one when the units around the city
/// (`[basemap.surroundings]`) are given, to locate it among them.
fn city_inset(page: &Page, data: &MapData) -> Option<(f32, f32)> {
    (!data.base.surroundings.is_empty()).then(|| inset_size(page))
}

/// A city map's inset: the city (all its units) among the units around
/// it; nothing without them (see [`city_inset`]).
fn draw_city_inset(page: &mut Page, data: &MapData) {
    if city_inset(page, data).is_none() {
        return;
    }
    let others: Vec<&MultiPolygon<f64>> = data.base.surroundings.iter().map(|s| &s.area).collect();
    let city: Vec<&MultiPolygon<f64>> = data.units.iter().map(|u| &u.boundary).collect();
    draw_locator(page, &others, &city, |m, scale| {
        Cow::Owned(locator_simplified(m, scale))
    });
}

/// A locator inset where the layout put it: `others` in grey and `shown`
/// in the highlight colour, all fitted into the box, each polygon as `fine`
/// simplifies it for the inset's scale (px per metre).
fn draw_locator<'d>(
    page: &mut Page,
    others: &[&'d MultiPolygon<f64>],
    shown: &[&'d MultiPolygon<f64>],
    fine: impl Fn(&'d MultiPolygon<f64>, f64) -> Cow<'d, MultiPolygon<f64>>,
) {
    let r = page
        .placement
        .and_then(|p| p.extra)
        .unwrap_or_else(|| Corner::TopLeft.place(page.frame, inset_size(page), page.mm(4.0)));
    page.rect(
        r,
        Some(colour(&page.style.furniture.box_, 1.0)),
        Some((colour(&page.style.frame.colour, 1.0), 1.0)),
    );
    let all: Vec<&MultiPolygon<f64>> = others.iter().chain(shown).copied().collect();
    let (min, max) = bounds(&all);
    let inner = Rect {
        l: r.l + 4.0,
        t: r.t + 4.0,
        r: r.r - 4.0,
        b: r.b - 4.0,
    };
    let view = View::fit(min, max, inner);
    let saved = page.frame;
    page.frame = inner;
    let outline = Some((colour(&page.style.inset.outline, 1.0), 0.8));
    for m in others {
        page.polygon(
            &view,
            &fine(m, view.scale),
            Some(colour(&page.style.inset.other_fill, 1.0)),
            outline,
        );
    }
    let highlight = grade_colour(Grade::Red, page.style.inset.highlight_alpha);
    for m in shown {
        page.polygon(&view, &fine(m, view.scale), Some(highlight), outline);
    }
    page.frame = saved;
    page.taken.push(r);
    page.furniture("inset", r);
}

/// The inset's box, px.
fn inset_size(page: &Page) -> (f32, f32) {
    (page.mm(55.0), page.mm(44.0))
}

/// The units' outlines, the city's thick.
fn draw_outlines(
    page: &mut Page,
    view: &View,
    units: &[&MapUnit],
    thick: Option<&MultiPolygon<f64>>,
) {
    let style = page.style.units.clone();
    let outline = colour(&style.outline, 1.0);
    for u in units {
        page.polygon(
            view,
            &u.boundary,
            None,
            Some((outline, page.mm(style.outline_mm))),
        );
    }
    if let Some(b) = thick {
        page.polygon(
            view,
            b,
            None,
            Some((outline, page.mm(style.city_outline_mm))),
        );
    }
}

/// Names at the units' interior points.
fn label_units(page: &mut Page, view: &View, units: &[&MapUnit], size: f32) {
    label_units_counted(page, view, units, size, None);
}

/// Each unit's name; with `counts` (by unit code: what the map has too many
/// of to draw at its scale, counted), that line in smaller type under it.
fn label_units_counted(
    page: &mut Page,
    view: &View,
    units: &[&MapUnit],
    size: f32,
    counts: Option<&HashMap<&str, String>>,
) {
    let small = page.pt(page.style.text.small_pt);
    for u in units {
        let Some(p) = u.boundary.interior_point() else {
            continue;
        };
        let (x, y) = view.px(p.x(), p.y());
        let named = page.label(&u.name, x, y, size, 0.0);
        if let Some(line) = counts.and_then(|c| c.get(u.code.as_str())) {
            if named {
                page.label(line, x, y + size * 1.25, small, 0.0);
            }
        }
    }
}

/// The units other than `unit`, filled grey: its neighbours on its map.
fn draw_neighbours(page: &mut Page, view: &View, data: &MapData, unit: &MapUnit) {
    let style = page.style.units.clone();
    let grey = colour(&style.neighbour_fill, 0.85);
    let grey_line = colour(&style.neighbour_outline, 1.0);
    for n in data.units.iter().filter(|n| n.code != unit.code) {
        page.polygon(
            view,
            &n.boundary,
            Some(grey),
            Some((grey_line, page.mm(style.outline_mm))),
        );
    }
}

/// A district's towns, where given: their codes extend the district's.
fn towns_of<'d>(data: &'d MapData, unit: &MapUnit) -> Vec<&'d MapUnit> {
    data.towns
        .iter()
        .filter(|t| t.code.len() > unit.code.len() && t.code.starts_with(&unit.code))
        .collect()
}

/// A district's neighbours in grey, its towns (where given; their codes
/// extend the district's) in outline and itself thick, with no grade fill;
/// returns the towns.
fn draw_plain_district<'d>(
    page: &mut Page,
    view: &View,
    data: &'d MapData,
    unit: &MapUnit,
) -> Vec<&'d MapUnit> {
    draw_neighbours(page, view, data, unit);
    let towns = towns_of(data, unit);
    draw_outlines(page, view, &towns, Some(&unit.boundary));
    towns
}

/// A file name from a code or id: ASCII letters, digits, `-` and `_` only,
/// at most 64 characters; anything else is replaced and, where that changed
/// the name, a hash of the original keeps names distinct.
///
/// ```
/// use riskatlas::maps::render::safe_file_stem;
/// assert_eq!(safe_file_stem("320412"), "320412");
/// assert!(!safe_file_stem("../x").contains('/'));
/// assert_ne!(safe_file_stem("a/b"), safe_file_stem("a_b"));
/// ```
pub fn safe_file_stem(id: &str) -> String {
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if clean == id && !clean.is_empty() {
        return clean;
    }
    // FNV-1a: stable across runs and platforms.
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let stem: String = clean.trim_matches('_').chars().take(47).collect();
    format!(
        "{}{}{:016x}",
        stem,
        if stem.is_empty() { "" } else { "_" },
        hash
    )
}

/// What a map job draws.
enum Job<'a> {
    City,
    District(&'a MapUnit, InUnit<'a>),
    Enterprise(&'a MapPoint),
    DangerCity,
    DangerDistrict(&'a MapUnit, Vec<&'a dangers::MapDanger>),
    CoverageCity(&'a coverage::CoverageData),
    Park(&'a parks::MapPark),
    CoverageDistrict(&'a coverage::CoverageData, &'a MapUnit),
}

/// The enterprises that get a map when enterprise maps are made: red and
/// orange ones, or all with `all_enterprises`.
fn enterprises_mapped<'d>(enterprises: &'d [MapPoint], opts: &MapOptions) -> Vec<&'d MapPoint> {
    enterprises
        .iter()
        .filter(|e| opts.all_enterprises || e.grade >= Grade::Orange)
        .collect()
}

/// Whether the enterprise maps are made: as asked, or (not asked) when
/// there are at most [`crate::ingest::config::MAX_AUTO_ENTERPRISE_MAPS`].
pub fn makes_enterprise_maps(enterprises: &[MapPoint], opts: &MapOptions) -> bool {
    match opts.enterprise_maps {
        EnterpriseMaps::Always => true,
        EnterpriseMaps::Never => false,
        EnterpriseMaps::Auto => {
            enterprises_mapped(enterprises, opts).len()
                <= crate::ingest::config::MAX_AUTO_ENTERPRISE_MAPS
        }
    }
}

impl Job<'_> {
    /// The paper of the map's PDF: A3 for the maps of the whole city (the
    /// A4 layout scaled to it), A4 for the others (enterprise maps, drawn
    /// on half a page, scaled up to it).
    fn paper(&self) -> pdf::Paper {
        match self {
            Job::City | Job::DangerCity | Job::CoverageCity(_) => pdf::Paper::A3,
            _ => pdf::Paper::A4,
        }
    }
}

/// The red enterprises of each unit, by code, when the map draws none of
/// them (too many for its scale); `None` when it draws them.
fn red_per_unit<'d>(data: &'d MapData, drawn: &[&MapPoint]) -> Option<HashMap<&'d str, String>> {
    if drawn.iter().any(|p| p.grade == Grade::Red) {
        return None;
    }
    let reds = data.enterprises.iter().filter(|p| p.grade == Grade::Red);
    let n = count_lines(reds.filter_map(|p| p.unit.as_deref()), |n| {
        format!("重大风险企业 {n} 家")
    });
    (!n.is_empty()).then_some(n)
}

/// How many of something each unit holds (`units`: the unit code of each
/// one), as the line `line` makes of the count, by unit code: what a map
/// writes under the names of what it has too many of to draw.
fn count_lines<'d>(
    units: impl Iterator<Item = &'d str>,
    line: impl Fn(usize) -> String,
) -> HashMap<&'d str, String> {
    let mut n: HashMap<&str, usize> = HashMap::new();
    for u in units {
        *n.entry(u).or_insert(0) += 1;
    }
    n.into_iter().map(|(u, k)| (u, line(k))).collect()
}

/// A district's enterprises and its graded (major) hazard sources, in
/// their order in the map data.
#[derive(Default)]
struct InUnit<'a> {
    points: Vec<&'a MapPoint>,
    hazards: Vec<&'a MapHazard>,
}

/// Every district's enterprises and major hazard sources, sorted out in one
/// pass over the data rather than one pass per district map.
fn by_unit(data: &MapData) -> HashMap<&str, InUnit<'_>> {
    let mut out: HashMap<&str, InUnit> = HashMap::new();
    for p in &data.enterprises {
        if let Some(u) = p.unit.as_deref() {
            out.entry(u).or_default().points.push(p);
        }
    }
    for h in data.hazards.iter().filter(|h| h.grade.is_some()) {
        if let Some(u) = h.unit.as_deref() {
            out.entry(u).or_default().hazards.push(h);
        }
    }
    out
}

/// The hidden-danger maps' jobs, into `dir`: the city's and each district's.
fn danger_jobs<'d>(data: &'d MapData, dir: &Path) -> Vec<(PathBuf, Job<'d>)> {
    let mut in_unit: HashMap<&str, Vec<&dangers::MapDanger>> = HashMap::new();
    for d in &data.dangers {
        if let Some(u) = d.unit.as_deref() {
            in_unit.entry(u).or_default().push(d);
        }
    }
    let mut jobs = vec![(dir.join("city.png"), Job::DangerCity)];
    jobs.extend(data.units.iter().map(|u| {
        let file = format!("{}.png", safe_file_stem(&u.code));
        let ds = in_unit.remove(u.code.as_str()).unwrap_or_default();
        (dir.join("district").join(file), Job::DangerDistrict(u, ds))
    }));
    jobs
}

/// Renders the city map, the district atlas and the enterprise maps (red and
/// orange enterprises, or all with `all_enterprises`; `enterprise_maps`:
/// always, never, or when not many) into `dir`, in parallel, each written as
/// soon as it is drawn; returns the files written, in a fixed order.
pub fn render_all(
    data: &MapData,
    opts: &MapOptions,
    dir: &Path,
) -> Result<Vec<PathBuf>, RenderError> {
    let (font, pdf_font) = load_fonts(opts.font.as_deref(), opts.pdf)?;
    let style = MapStyle::new(opts);
    // Enterprise maps are half the page: they show one site.
    let half = MapOptions {
        width_mm: opts.width_mm / std::f64::consts::SQRT_2,
        height_mm: opts.height_mm / std::f64::consts::SQRT_2,
        ..opts.clone()
    };
    let small = MapStyle::new(&half);
    let mut jobs: Vec<(PathBuf, Job)> = vec![(dir.join("city.png"), Job::City)];
    let mut within = by_unit(data);
    jobs.extend(data.units.iter().map(|u| {
        (
            dir.join("district")
                .join(format!("{}.png", safe_file_stem(&u.code))),
            Job::District(u, within.remove(u.code.as_str()).unwrap_or_default()),
        )
    }));
    if !data.dangers.is_empty() {
        jobs.extend(danger_jobs(data, &dir.join("hidden_dangers")));
    }
    jobs.extend(data.parks.iter().map(|p| {
        let file = format!("{}.png", safe_file_stem(&p.code));
        (dir.join("parks").join(file), Job::Park(p))
    }));
    if let Some(c) = &data.coverage {
        let dir = dir.join("coverage");
        jobs.push((dir.join("city.png"), Job::CoverageCity(c)));
        jobs.extend(data.units.iter().map(|u| {
            let file = format!("{}.png", safe_file_stem(&u.code));
            (dir.join("district").join(file), Job::CoverageDistrict(c, u))
        }));
    }
    let picked = enterprises_mapped(&data.enterprises, opts);
    let wanted = makes_enterprise_maps(&data.enterprises, opts);
    // `map_data` gives the sources exactly when enterprise maps are made.
    let surface = data
        .exposure
        .as_ref()
        .map(|f| crate::analysis::exposure::SourceIndex::new(&f.sources));
    if wanted {
        jobs.extend(picked.into_iter().map(|e| {
            (
                dir.join("enterprise")
                    .join(format!("{}.png", safe_file_stem(&e.id))),
                Job::Enterprise(e),
            )
        }));
    } else if opts.enterprise_maps == EnterpriseMaps::Auto {
        crate::note!(
            "note: {} enterprise maps were not made (more than {}); set maps.enterprise_maps = true to make them",
            picked.len(),
            crate::ingest::config::MAX_AUTO_ENTERPRISE_MAPS
        );
    }
    // One map a piece of work: maps differ in cost up to fortyfold, and a
    // thread must be able to take any map another has not begun.
    let drawn = jobs
        .par_iter()
        .with_max_len(1)
        .map(|(path, job)| {
            let drawn = match job {
                Job::City => city_map(data, &style, &font)?,
                Job::District(u, within) => district_map(data, u, within, &style, &font)?,
                Job::Enterprise(e) => enterprise_map(data, e, surface.as_ref(), &small, &font)?,
                Job::DangerCity => dangers::city_danger_map(data, &style, &font)?,
                Job::DangerDistrict(u, ds) => {
                    dangers::district_danger_map(data, u, ds, &style, &font)?
                }
                Job::CoverageCity(c) => coverage::city_coverage_map(data, c, &style, &font)?,
                Job::Park(p) => parks::park_map(data, p, data.park_around_m, &style, &font)?,
                Job::CoverageDistrict(c, u) => {
                    coverage::district_coverage_map(data, c, u, &style, &font)?
                }
            };
            let mut info = drawn.info;
            let relative = |p: &Path| {
                let p = p.strip_prefix(dir).unwrap_or(p).to_string_lossy();
                format!("maps/{}", p.replace('\\', "/"))
            };
            info.file = relative(path);
            let written = write_map(
                path,
                &drawn.png,
                drawn.list.as_ref(),
                job.paper(),
                pdf_font.as_ref(),
                &info.title,
            )?;
            info.pdf = written.get(1).map(|p| relative(p));
            Ok((written, info))
        })
        .collect::<Result<Vec<(Vec<PathBuf>, MapInfo)>, RenderError>>()?;
    let (files, infos): (Vec<Vec<PathBuf>>, Vec<MapInfo>) = drawn.into_iter().unzip();
    let mut files: Vec<PathBuf> = files.into_iter().flatten().collect();
    files.push(write_index(dir, data.epsg, &infos)?);
    Ok(files)
}

/// Writes a map's PNG and, when it was drawn for one and a font is given,
/// its PDF on `paper` beside it (same name, `.pdf`); gives the files.
fn write_map(
    path: &Path,
    png: &[u8],
    list: Option<&canvas::DisplayList>,
    paper: pdf::Paper,
    font: Option<&krilla::text::Font>,
    title: &str,
) -> Result<Vec<PathBuf>, RenderError> {
    let mut written = vec![write_file(path, png)?];
    if let (Some(list), Some(font)) = (list, font) {
        let file = path.with_extension("pdf");
        let bytes = pdf::write(list, paper, font, title).map_err(|reason| RenderError::Pdf {
            path: file.clone(),
            reason,
        })?;
        written.push(write_file(&file, &bytes)?);
    }
    Ok(written)
}

/// Writes `maps.json`: the maps' metric CRS, and each map's file, title,
/// scale, place, furniture boxes and legend entries (atomically); gives
/// its path.
fn write_index(dir: &Path, epsg: u32, infos: &[MapInfo]) -> Result<PathBuf, RenderError> {
    let path = dir.join("maps.json");
    let index = serde_json::json!({ "crs": format!("EPSG:{epsg}"), "maps": infos });
    let mut text = serde_json::to_string_pretty(&index).expect("map information serialises");
    text.push('\n');
    write_file(&path, text.as_bytes())
}

/// Writes a rendered map or the maps' index (atomically); gives its path.
fn write_file(path: &Path, bytes: &[u8]) -> Result<PathBuf, RenderError> {
    crate::output::write::atomic_write(path, |w| std::io::Write::write_all(w, bytes)).map_err(
        |e| RenderError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        },
    )?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_beyond_the_frame_is_cut_to_it() {
        let keep = Rect {
            l: 0.0,
            t: 0.0,
            r: 100.0,
            b: 100.0,
        };
        // A square from (50, 50) to (250, 250): three of its corners are
        // off the page; a small square wholly on it.
        let mut pb = PathBuilder::new();
        pb.move_to(50.0, 50.0);
        for (x, y) in [(250.0, 50.0), (250.0, 250.0), (50.0, 250.0)] {
            pb.line_to(x, y);
        }
        pb.close();
        pb.move_to(10.0, 10.0);
        for (x, y) in [(20.0, 10.0), (20.0, 20.0)] {
            pb.line_to(x, y);
        }
        pb.close();
        let (fill, lines) = cut_to(&pb.finish().unwrap(), keep);
        let points = |p: &tiny_skia::Path| -> Vec<(f32, f32)> {
            p.points().iter().map(|p| (p.x, p.y)).collect()
        };
        let fill = points(&fill.expect("a fill"));
        assert!(fill.iter().all(|&(x, y)| keep.holds(x, y)), "{fill:?}");
        assert!(fill.contains(&(50.0, 50.0)) && fill.contains(&(100.0, 100.0)));
        assert!(fill.contains(&(10.0, 10.0)), "the small square as it was");
        // The outline keeps the two sides that cross the page, unbroken at
        // the corner (50, 50), and leaves the far ones out.
        let lines = lines.expect("an outline");
        let runs: Vec<Vec<(f32, f32)>> = lines.segments().fold(Vec::new(), |mut runs, seg| {
            match seg {
                tiny_skia::PathSegment::MoveTo(p) => runs.push(vec![(p.x, p.y)]),
                tiny_skia::PathSegment::LineTo(p) => runs.last_mut().unwrap().push((p.x, p.y)),
                _ => {}
            }
            runs
        });
        let big: Vec<&Vec<(f32, f32)>> = runs
            .iter()
            .filter(|r| !r.is_empty() && r[0] != (10.0, 10.0))
            .collect();
        assert_eq!(big.len(), 1, "{runs:?}");
        assert_eq!(big[0], &vec![(50.0, 250.0), (50.0, 50.0), (250.0, 50.0)]);
    }

    #[test]
    fn a_long_title_breaks_before_its_year_and_fits() {
        let font = load_font(None).expect("the default CJK font");
        let style = MapStyle::new(&MapOptions::default());
        let page = Page::new(&style, &font).unwrap();
        let short = "常州市2026年安全风险分布电子图";
        assert_eq!(title_lines(&page, short), vec![short.to_string()]);
        let long = format!(
            "{}有限公司2026年企业安全风险图",
            "江苏常州某某新材料科技".repeat(3)
        );
        let lines = title_lines(&page, &long);
        assert_eq!(lines.concat(), long);
        assert!(
            lines.len() >= 2 && lines.last().unwrap().starts_with("2026年"),
            "{lines:?}"
        );
        let r = title_rect(&page, &long);
        let frame = page.frame.r - page.frame.l;
        assert!(r.r - r.l <= frame * 0.7 + page.mm(4.0) + 1.0, "{r:?}");
        assert!(r.l > page.frame.l && r.r < page.frame.r);
    }

    #[test]
    fn a_pixel_over_many_cells_takes_their_most_frequent_code() {
        assert_eq!(mode([1, 1, 1, 4].into_iter()), 1);
        // A tie goes to the higher (more severe) code.
        assert_eq!(mode([0, 0, 2, 2, 1].into_iter()), 2);
        assert_eq!(mode(std::iter::empty()), 0);
    }

    #[test]
    fn style_parses_and_round_lengths_are_round() {
        let _ = MapStyle::new(&MapOptions::default());
        assert_eq!(round_length(7300.0), 5000.0);
        assert_eq!(round_length(1999.0), 1000.0);
        assert_eq!(round_length(250.0), 200.0);
        assert_eq!(length_text(5000.0), "5 km");
        assert_eq!(length_text(500.0), "500 m");
    }

    #[test]
    fn hostile_ids_become_safe_distinct_names() {
        let long = "x".repeat(300);
        for id in [
            "../x",
            "a/b",
            "a\\b",
            "名字",
            long.as_str(),
            "",
            "..",
            "a b",
        ] {
            let s = safe_file_stem(id);
            assert!(!s.is_empty() && s.len() <= 64, "{id:?} → {s:?}");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{s}"
            );
        }
        assert_ne!(safe_file_stem("a/b"), safe_file_stem("a\\b"));
        assert_eq!(safe_file_stem("91320412MA0000000A"), "91320412MA0000000A");
    }

    #[test]
    fn a_missing_font_says_how_to_install_one() {
        let e = load_font(Some(Path::new("/nonexistent/font.ttc")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("fonts-noto-cjk"), "{e}");
    }
}
