//! A map's display list as a vector PDF for print: paths as paths, text as
//! text in the label font (embedded, subset to the glyphs used, with their
//! Unicode so it can be searched and copied), rasters (the grid's cells,
//! tiles) as images. The page is the paper asked for, the drawing scaled
//! to fill it: the A-series share one shape, so an A4 layout fills A3.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Size, Transform};
use krilla::image::Image;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, LineJoin, Stroke, StrokeDash};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{metadata::Metadata, Document};

use super::canvas::{DisplayList, Glyph, Op};
use super::Rect;

/// ISO 216 paper, landscape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Paper {
    A3,
    A4,
}

impl Paper {
    /// Width and height in millimetres.
    pub(super) fn mm(self) -> (f32, f32) {
        match self {
            Paper::A3 => (420.0, 297.0),
            Paper::A4 => (297.0, 210.0),
        }
    }
}

/// PostScript points per millimetre.
const PT_PER_MM: f32 = 72.0 / 25.4;

/// The PDF of `list` on `paper`, titled `title`, its text in `font`.
pub(super) fn write(
    list: &DisplayList,
    paper: Paper,
    font: &Font,
    title: &str,
) -> Result<Vec<u8>, String> {
    let (w_mm, h_mm) = paper.mm();
    let (w, h) = (w_mm * PT_PER_MM, h_mm * PT_PER_MM);
    let k = (w / list.width as f32).min(h / list.height as f32);
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .creator("riskatlas".to_string()),
    );
    let settings = PageSettings::from_wh(w, h).ok_or("the paper has no size")?;
    let mut page = doc.start_page_with(settings);
    let mut s = page.surface();
    s.push_transform(&Transform::from_row(k, 0.0, 0.0, k, 0.0, 0.0));
    let whole = Rect {
        l: 0.0,
        t: 0.0,
        r: list.width as f32,
        b: list.height as f32,
    };
    let mut symbols = Symbols::default();
    for op in &list.ops {
        draw(&mut s, op, font, whole, &mut symbols);
    }
    s.pop();
    s.finish();
    page.finish();
    doc.finish().map_err(|e| format!("{e:?}"))
}

/// Draws one operation; paths are cut to their clip (or the page, `whole`)
/// with a margin beyond their line's width.
fn draw(s: &mut Surface, op: &Op, font: &Font, whole: Rect, symbols: &mut Symbols) {
    let keep = |clip: &Option<Rect>, reach: f32| {
        let r = clip.unwrap_or(whole);
        Rect {
            l: r.l - reach,
            t: r.t - reach,
            r: r.r + reach,
            b: r.b + reach,
        }
    };
    match op {
        Op::Fill {
            path,
            colour,
            even_odd,
            clip,
        } => clipped(s, *clip, |s| {
            s.set_stroke(None);
            s.set_fill(Some(fill(*colour, *even_odd)));
            if let Some(p) = convert(path, keep(clip, 2.0), true) {
                s.draw_path(&p);
            }
        }),
        Op::Stroke {
            path,
            colour,
            width,
            dash,
            clip,
        } => clipped(s, *clip, |s| {
            s.set_fill(None);
            s.set_stroke(Some(Stroke {
                dash: dash.map(|d| StrokeDash {
                    array: d.to_vec(),
                    offset: 0.0,
                }),
                ..stroke(*colour, *width)
            }));
            if let Some(p) = convert(path, keep(clip, width + 2.0), false) {
                s.draw_path(&p);
            }
        }),
        Op::Text {
            text,
            glyphs,
            x,
            baseline,
            size,
            colour,
            halo,
        } => {
            let run = krilla_glyphs(glyphs, *size);
            let at = Point::from_xy(*x, *baseline);
            if let Some(c) = halo {
                s.set_fill(None);
                s.set_stroke(Some(Stroke {
                    line_join: LineJoin::Round,
                    ..stroke(*c, 2.0)
                }));
                s.draw_glyphs(at, &run, font.clone(), text, *size, false);
            }
            s.set_stroke(None);
            s.set_fill(Some(fill(*colour, false)));
            s.draw_glyphs(at, &run, font.clone(), text, *size, false);
        }
        Op::Image {
            to,
            width,
            height,
            rgba,
            multiply,
            clip,
        } => clipped(s, *clip, |s| {
            let Some(size) = Size::from_wh(to.r - to.l, to.b - to.t) else {
                return;
            };
            s.push_transform(&Transform::from_translate(to.l, to.t));
            if *multiply {
                s.push_blend_mode(krilla::blend::BlendMode::Multiply);
            }
            let mut rgba = rgba.clone();
            bleed(&mut rgba, *width as usize);
            s.draw_image(Image::from_rgba8(rgba, *width, *height), size);
            if *multiply {
                s.pop();
            }
            s.pop();
        }),
        Op::Circle {
            x,
            y,
            r,
            fill,
            stroke,
        } => symbols.circle(s, (*x, *y), *r, *fill, *stroke),
    }
}

/// The circles drawn so far, each kind (radius, fill, outline) once as a
/// graphic placed wherever one stands: a district of a province has tens of
/// thousands of enterprise symbols of a few kinds.
#[derive(Default)]
struct Symbols {
    drawn: std::collections::HashMap<[u32; 5], krilla::graphic::Graphic>,
}

impl Symbols {
    fn circle(
        &mut self,
        s: &mut Surface,
        (x, y): (f32, f32),
        r: f32,
        fill: Option<tiny_skia::Color>,
        outline: Option<(tiny_skia::Color, f32)>,
    ) {
        let rgba = |c: tiny_skia::Color| {
            let c = c.to_color_u8();
            u32::from_be_bytes([c.red(), c.green(), c.blue(), c.alpha()])
        };
        let key = [
            r.to_bits(),
            fill.map_or(0, rgba),
            outline.map_or(0, |(c, _)| rgba(c)),
            outline.map_or(0, |(_, w)| w.to_bits()),
            u32::from(fill.is_some()) | u32::from(outline.is_some()) << 1,
        ];
        let graphic = match self.drawn.get(&key) {
            Some(g) => g.clone(),
            None => {
                let mut builder = s.stream_builder();
                let mut g = builder.surface();
                let around = Rect {
                    l: -r - 1.0,
                    t: -r - 1.0,
                    r: r + 1.0,
                    b: r + 1.0,
                };
                let circle = tiny_skia::PathBuilder::from_circle(0.0, 0.0, r);
                if let Some(path) = circle.and_then(|c| convert(&c, around, true)) {
                    if let Some(c) = fill {
                        g.set_stroke(None);
                        g.set_fill(Some(self::fill(c, false)));
                        g.draw_path(&path);
                    }
                    if let Some((c, w)) = outline {
                        g.set_fill(None);
                        g.set_stroke(Some(stroke(c, w)));
                        g.draw_path(&path);
                    }
                }
                g.finish();
                let graphic = krilla::graphic::Graphic::new(builder.finish(), false);
                self.drawn.insert(key, graphic.clone());
                graphic
            }
        };
        s.push_transform(&Transform::from_translate(x, y));
        s.draw_graphic(graphic);
        s.pop();
    }
}

/// Gives each transparent pixel the colour of the nearest opaque one in
/// its row (it stays transparent): a viewer that smooths a scaled image
/// mixes colour and alpha apart, and transparent black would darken the
/// edges of the cells.
fn bleed(rgba: &mut [u8], width: usize) {
    for row in rgba.chunks_mut(width.max(1) * 4) {
        let mut last: Option<[u8; 3]> = None;
        for pass in 0..2 {
            let n = row.len() / 4;
            for k in 0..n {
                let i = if pass == 0 { k } else { n - 1 - k } * 4;
                if row[i + 3] > 0 {
                    last = Some([row[i], row[i + 1], row[i + 2]]);
                } else if let Some(c) = last {
                    if pass == 0 || row[i..i + 3] == [0, 0, 0] {
                        row[i..i + 3].copy_from_slice(&c);
                    }
                }
            }
            last = None;
        }
    }
}

/// Runs `draw` clipped to `clip` where there is one.
fn clipped(s: &mut Surface, clip: Option<Rect>, draw: impl FnOnce(&mut Surface)) {
    let path = clip.and_then(|r| {
        let mut pb = PathBuilder::new();
        pb.push_rect(krilla::geom::Rect::from_ltrb(r.l, r.t, r.r, r.b)?);
        pb.finish()
    });
    if let Some(p) = &path {
        s.push_clip_path(p, &FillRule::NonZero);
    }
    draw(s);
    if path.is_some() {
        s.pop();
    }
}

fn paint_of(c: tiny_skia::Color) -> (krilla::paint::Paint, NormalizedF32) {
    let u = c.to_color_u8();
    let opacity = NormalizedF32::new(c.alpha()).unwrap_or(NormalizedF32::ONE);
    (
        rgb::Color::new(u.red(), u.green(), u.blue()).into(),
        opacity,
    )
}

fn fill(c: tiny_skia::Color, even_odd: bool) -> Fill {
    let (paint, opacity) = paint_of(c);
    Fill {
        paint,
        opacity,
        rule: if even_odd {
            FillRule::EvenOdd
        } else {
            FillRule::NonZero
        },
    }
}

/// A stroke as tiny-skia's default: butt caps, miter joins, limit 4.
fn stroke(c: tiny_skia::Color, width: f32) -> Stroke {
    let (paint, opacity) = paint_of(c);
    Stroke {
        paint,
        opacity,
        width,
        miter_limit: 4.0,
        ..Default::default()
    }
}

/// A pixel path as a PDF path, cut to `keep`: a river or a boundary
/// crossing an enterprise's page runs for metres of paper beyond it, and
/// only the part on the page is written. Rings are clipped to the
/// rectangle (Sutherland–Hodgman, which keeps what is inside unchanged),
/// lines split where they leave it; subpaths with curves (circles) are
/// written whole.
fn convert(path: &tiny_skia::Path, keep: Rect, closed: bool) -> Option<krilla::geom::Path> {
    use tiny_skia::PathSegment as S;
    let mut pb = PathBuilder::new();
    let mut run: Vec<(f32, f32)> = Vec::new();
    let mut curves: Vec<S> = Vec::new();
    let mut shut = false;
    let inside = |p: &(f32, f32)| p.0 >= keep.l && p.0 <= keep.r && p.1 >= keep.t && p.1 <= keep.b;
    let flush =
        |pb: &mut PathBuilder, run: &mut Vec<(f32, f32)>, curves: &mut Vec<S>, shut: bool| {
            if !curves.is_empty() {
                // A subpath with curves (a circle) wholly off the page is
                // left out; one that reaches it is written whole.
                if !curves_touch(curves, keep) {
                    curves.clear();
                }
                for seg in curves.drain(..) {
                    match seg {
                        S::MoveTo(p) => pb.move_to(p.x, p.y),
                        S::LineTo(p) => pb.line_to(p.x, p.y),
                        S::QuadTo(a, p) => pb.quad_to(a.x, a.y, p.x, p.y),
                        S::CubicTo(a, b, p) => pb.cubic_to(a.x, a.y, b.x, b.y, p.x, p.y),
                        S::Close => pb.close(),
                    }
                }
            } else if closed {
                thin(run);
                add_ring(pb, &clip_ring(run, keep));
            } else if shut && run.iter().all(inside) {
                thin(run);
                add_ring(pb, run);
            } else {
                if shut && !run.is_empty() {
                    run.push(run[0]);
                }
                thin(run);
                for part in split_line(run, keep) {
                    add_line(pb, &part);
                }
            }
            run.clear();
        };
    for seg in path.segments() {
        match seg {
            S::MoveTo(p) => {
                flush(&mut pb, &mut run, &mut curves, shut);
                shut = false;
                run.push((p.x, p.y));
            }
            S::LineTo(p) if curves.is_empty() => run.push((p.x, p.y)),
            S::Close if curves.is_empty() => shut = true,
            other => {
                if curves.is_empty() {
                    if let Some(&(x, y)) = run.first() {
                        curves.push(S::MoveTo(tiny_skia::Point::from_xy(x, y)));
                    }
                    curves.extend(
                        run.drain(1..)
                            .map(|(x, y)| S::LineTo(tiny_skia::Point::from_xy(x, y))),
                    );
                }
                curves.push(other);
            }
        }
    }
    flush(&mut pb, &mut run, &mut curves, shut);
    pb.finish()
}

/// Simplifies a run of vertices (Douglas–Peucker) to within 0.15 page
/// pixel (0.025 mm on paper at 150 dpi): a province's boundary at city or
/// district scale has dozens of vertices per pixel, which would only make
/// the PDF large and slow to write; none of them shows at print.
fn thin(run: &mut Vec<(f32, f32)>) {
    const TOLERANCE_PX: f32 = 0.15;
    if run.len() < 3 {
        return;
    }
    let mut keep = vec![false; run.len()];
    let (first, last) = (0, run.len() - 1);
    keep[first] = true;
    keep[last] = true;
    let mut stack = vec![(first, last)];
    while let Some((a, b)) = stack.pop() {
        let (pa, pb) = (run[a], run[b]);
        let (dx, dy) = (pb.0 - pa.0, pb.1 - pa.1);
        let len = dx.hypot(dy);
        let mut far = (0.0f32, a);
        for (k, p) in run.iter().enumerate().take(b).skip(a + 1) {
            let d = if len > 0.0 {
                ((p.0 - pa.0) * dy - (p.1 - pa.1) * dx).abs() / len
            } else {
                (p.0 - pa.0).hypot(p.1 - pa.1)
            };
            if d > far.0 {
                far = (d, k);
            }
        }
        if far.0 > TOLERANCE_PX {
            keep[far.1] = true;
            stack.push((a, far.1));
            stack.push((far.1, b));
        }
    }
    let mut k = keep.iter();
    run.retain(|_| *k.next().unwrap_or(&false));
}

/// Whether the control points' box of a subpath meets `r` (the curve lies
/// inside its control points' hull).
fn curves_touch(segments: &[tiny_skia::PathSegment], r: Rect) -> bool {
    use tiny_skia::PathSegment as S;
    let points = segments.iter().flat_map(|s| match *s {
        S::MoveTo(p) | S::LineTo(p) => vec![p],
        S::QuadTo(a, p) => vec![a, p],
        S::CubicTo(a, b, p) => vec![a, b, p],
        S::Close => vec![],
    });
    let (mut l, mut t, mut rr, mut b) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in points {
        (l, t, rr, b) = (l.min(p.x), t.min(p.y), rr.max(p.x), b.max(p.y));
    }
    rr >= r.l && l <= r.r && b >= r.t && t <= r.b
}

fn add_ring(pb: &mut PathBuilder, ring: &[(f32, f32)]) {
    if ring.len() < 3 {
        return;
    }
    add_line(pb, ring);
    pb.close();
}

fn add_line(pb: &mut PathBuilder, line: &[(f32, f32)]) {
    for (i, &(x, y)) in line.iter().enumerate() {
        if i == 0 {
            pb.move_to(x, y);
        } else {
            pb.line_to(x, y);
        }
    }
}

/// A ring clipped to `r` (Sutherland–Hodgman against its four sides).
pub(super) fn clip_ring(ring: &[(f32, f32)], r: Rect) -> Vec<(f32, f32)> {
    type Side = (
        fn((f32, f32), Rect) -> bool,
        fn((f32, f32), (f32, f32), Rect) -> (f32, f32),
    );
    let sides: [Side; 4] = [
        (
            |p, r| p.0 >= r.l,
            |a, b, r| (r.l, a.1 + (b.1 - a.1) * (r.l - a.0) / (b.0 - a.0)),
        ),
        (
            |p, r| p.0 <= r.r,
            |a, b, r| (r.r, a.1 + (b.1 - a.1) * (r.r - a.0) / (b.0 - a.0)),
        ),
        (
            |p, r| p.1 >= r.t,
            |a, b, r| (a.0 + (b.0 - a.0) * (r.t - a.1) / (b.1 - a.1), r.t),
        ),
        (
            |p, r| p.1 <= r.b,
            |a, b, r| (a.0 + (b.0 - a.0) * (r.b - a.1) / (b.1 - a.1), r.b),
        ),
    ];
    let mut pts = ring.to_vec();
    for (inside, cross) in sides {
        if pts.is_empty() {
            break;
        }
        let mut out = Vec::with_capacity(pts.len());
        for i in 0..pts.len() {
            let (a, b) = (pts[(i + pts.len() - 1) % pts.len()], pts[i]);
            match (inside(a, r), inside(b, r)) {
                (true, true) => out.push(b),
                (true, false) => out.push(cross(a, b, r)),
                (false, true) => {
                    out.push(cross(a, b, r));
                    out.push(b);
                }
                (false, false) => {}
            }
        }
        pts = out;
    }
    pts
}

/// A line split into the runs of its segments that touch `r`.
pub(super) fn split_line(line: &[(f32, f32)], r: Rect) -> Vec<Vec<(f32, f32)>> {
    let touches = |a: (f32, f32), b: (f32, f32)| {
        a.0.max(b.0) >= r.l && a.0.min(b.0) <= r.r && a.1.max(b.1) >= r.t && a.1.min(b.1) <= r.b
    };
    let mut parts: Vec<Vec<(f32, f32)>> = Vec::new();
    let mut cur: Vec<(f32, f32)> = Vec::new();
    for w in line.windows(2) {
        if touches(w[0], w[1]) {
            if cur.is_empty() {
                cur.push(w[0]);
            }
            cur.push(w[1]);
        } else if !cur.is_empty() {
            parts.push(std::mem::take(&mut cur));
        }
    }
    if cur.len() >= 2 {
        parts.push(cur);
    }
    parts
}

/// The glyphs as the PDF's, their advances relative to the font size.
fn krilla_glyphs(glyphs: &[Glyph], size: f32) -> Vec<KrillaGlyph> {
    glyphs
        .iter()
        .map(|g| {
            KrillaGlyph::new(
                GlyphId::new(g.id as u32),
                g.advance / size,
                0.0,
                0.0,
                0.0,
                g.bytes.clone(),
                None,
            )
        })
        .collect()
}
