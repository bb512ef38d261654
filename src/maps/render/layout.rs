//! A map's layout: the scale and where the legend, scale bar, north arrow
//! and inset (or a map's own note box) go. The mapped area is fitted as
//! large as the page allows with the furniture in the corners that hide the
//! least of it; only when every corner would hide more than
//! [`MAX_HIDDEN`] of it is the map made smaller to leave the legend a
//! column or a band of its own.

use geo::MultiPolygon;
use tiny_skia::{FillRule, Mask, Transform};

use super::{Page, Rect, View};

/// The share of the mapped area furniture may cover.
pub const MAX_HIDDEN: f64 = 0.02;

/// A corner of the map area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

impl Corner {
    const ALL: [Corner; 4] = [
        Corner::TopLeft,
        Corner::TopRight,
        Corner::BottomLeft,
        Corner::BottomRight,
    ];

    /// A `w` × `h` box in this corner of `within`, `margin` px in.
    pub fn place(self, within: Rect, (w, h): (f32, f32), margin: f32) -> Rect {
        let l = match self {
            Corner::TopLeft | Corner::BottomLeft => within.l + margin,
            _ => within.r - margin - w,
        };
        let t = match self {
            Corner::TopLeft | Corner::TopRight => within.t + margin,
            _ => within.b - margin - h,
        };
        Rect {
            l,
            t,
            r: l + w,
            b: t + h,
        }
    }

    /// A `w` × `h` box with this corner where `r`'s is.
    pub fn anchor(self, r: Rect, size: (f32, f32)) -> Rect {
        self.place(r, size, 0.0)
    }
}

/// Where a map's furniture goes (set on the page by [`plan`]).
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub legend: Rect,
    pub legend_corner: Corner,
    pub scale_bar: Rect,
    pub scale_corner: Corner,
    pub north: Rect,
    /// The inset or the map's note box.
    pub extra: Option<Rect>,
}

/// The furniture to place, each as width × height in px.
pub struct Furniture {
    pub legend: (f32, f32),
    /// An inset or a note box; upper left by preference.
    pub extra: Option<(f32, f32)>,
}

/// The north arrow's box, px.
pub fn north_size(page: &Page) -> (f32, f32) {
    (page.mm(11.0), page.mm(19.0))
}

/// The scale bar's box at its widest (a fifth of the frame and its labels), px.
fn scale_bar_size(page: &Page) -> (f32, f32) {
    let small = page.pt(page.style.text.small_pt);
    (
        (page.frame.r - page.frame.l) / 5.0 + page.mm(12.0),
        page.mm(1.6) + small * 1.6 + page.mm(6.0),
    )
}

/// Where a map goes on its page: `body`, the part of the frame it is
/// fitted into; `room`, the part whose corners take the furniture;
/// `title`, the title's box, which the top corners keep clear of.
#[derive(Debug, Clone, Copy)]
pub struct Space {
    pub body: Rect,
    pub room: Rect,
    pub title: Rect,
}

/// Fits the envelope `min`–`max` into the body (or a part of it) and
/// places the furniture where it hides least of `area`; sets the placement
/// on the page and gives the view.
pub fn plan(
    page: &mut Page,
    area: &[&MultiPolygon<f64>],
    (min, max): ([f64; 2], [f64; 2]),
    space: Space,
    furniture: &Furniture,
) -> View {
    let body = space.body;
    let margin = page.mm(4.0);
    let (lw, lh) = furniture.legend;
    let bodies = [
        body,
        Rect {
            l: body.l + lw + margin,
            ..body
        },
        Rect {
            r: body.r - lw - margin,
            ..body
        },
        Rect {
            b: body.b - lh - margin,
            ..body
        },
    ];
    let mut best: Option<(bool, f64, f64, View, Placement)> = None;
    for b in bodies
        .into_iter()
        .filter(|b| b.r - b.l > 50.0 && b.b - b.t > 50.0)
    {
        let view = View::fit_within(min, max, b, page.frame);
        let mask = Coverage::new(&area_mask(page, &view, area));
        let total = mask.count(page.frame).max(1) as f64;
        let Some((hidden, placement)) = place(page, &mask, furniture, space) else {
            continue;
        };
        let share = hidden as f64 / total;
        let ok = share <= MAX_HIDDEN;
        // Within the limit the larger scale wins; over it, the less hidden.
        let better = match &best {
            None => true,
            Some((bok, bscale, bshare, _, _)) => match (ok, bok) {
                (true, false) => true,
                (false, true) => false,
                (true, true) => view.scale > *bscale * 1.0001,
                (false, false) => share < *bshare,
            },
        };
        if better {
            best = Some((ok, view.scale, share, view, placement));
        }
    }
    let (view, placement) = match best {
        Some((_, _, _, v, p)) => (v, p),
        None => {
            let v = View::fit_within(min, max, body, page.frame);
            (v, default_placement(page, furniture, space))
        }
    };
    page.placement = Some(placement);
    view
}

/// A box of `size` in `corner` of the room, below the title where it
/// would meet it.
fn in_corner(page: &Page, corner: Corner, size: (f32, f32), space: Space) -> Rect {
    let margin = page.mm(4.0);
    let r = corner.place(space.room, size, margin);
    if r.overlaps(&space.title) {
        let below = Rect {
            t: space.title.b,
            ..space.room
        };
        corner.place(below, size, margin)
    } else {
        r
    }
}

/// The conventional corners: legend lower left, scale bar lower right,
/// north arrow upper right, inset upper left.
const DEFAULT: [Corner; 4] = [
    Corner::BottomLeft,
    Corner::BottomRight,
    Corner::TopRight,
    Corner::TopLeft,
];

fn default_placement(page: &Page, f: &Furniture, title: Space) -> Placement {
    Placement {
        legend: in_corner(page, DEFAULT[0], f.legend, title),
        legend_corner: DEFAULT[0],
        scale_bar: in_corner(page, DEFAULT[1], scale_bar_size(page), title),
        scale_corner: DEFAULT[1],
        north: in_corner(page, DEFAULT[2], north_size(page), title),
        extra: f.extra.map(|s| in_corner(page, DEFAULT[3], s, title)),
    }
}

/// The best assignment of the furniture to distinct corners: the fewest
/// pixels of the area hidden, the conventional corners breaking ties;
/// `None` when every assignment has two boxes overlapping.
fn place(page: &Page, mask: &Coverage, f: &Furniture, title: Space) -> Option<(u64, Placement)> {
    let sizes = [
        Some(f.legend),
        Some(scale_bar_size(page)),
        Some(north_size(page)),
        f.extra,
    ];
    let mut best: Option<(u64, u64, Placement)> = None;
    for perm in permutations() {
        let boxes: Vec<Option<Rect>> = sizes
            .iter()
            .zip(perm)
            .map(|(s, c)| s.map(|s| in_corner(page, c, s, title)))
            .collect();
        let placed: Vec<Rect> = boxes.iter().flatten().copied().collect();
        let clash = placed
            .iter()
            .enumerate()
            .any(|(i, a)| placed[i + 1..].iter().any(|b| a.overlaps(b)));
        if clash {
            continue;
        }
        let hidden: u64 = placed.iter().map(|r| mask.count(*r)).sum();
        let moved = perm
            .iter()
            .zip(DEFAULT)
            .zip(&sizes)
            .filter(|((c, d), s)| s.is_some() && *c != d)
            .count() as u64;
        if best
            .as_ref()
            .is_none_or(|(h, m, _)| (hidden, moved) < (*h, *m))
        {
            best = Some((
                hidden,
                moved,
                Placement {
                    legend: boxes[0].expect("a legend"),
                    legend_corner: perm[0],
                    scale_bar: boxes[1].expect("a scale bar"),
                    scale_corner: perm[1],
                    north: boxes[2].expect("a north arrow"),
                    extra: boxes[3],
                },
            ));
        }
    }
    best.map(|(h, _, p)| (h, p))
}

/// Every order of the four corners.
fn permutations() -> Vec<[Corner; 4]> {
    let mut out = Vec::with_capacity(24);
    for a in Corner::ALL {
        for b in Corner::ALL.into_iter().filter(|b| *b != a) {
            for c in Corner::ALL.into_iter().filter(|c| *c != a && *c != b) {
                let d = Corner::ALL
                    .into_iter()
                    .find(|d| *d != a && *d != b && *d != c)
                    .expect("a fourth corner");
                out.push([a, b, c, d]);
            }
        }
    }
    out
}

/// The page's pixels inside `area` in this view, as a mask.
pub fn area_mask(page: &Page, view: &View, area: &[&MultiPolygon<f64>]) -> Mask {
    let (w, h) = (page.canvas.pixmap.width(), page.canvas.pixmap.height());
    let mut mask = Mask::new(w, h).expect("a page-sized mask");
    if let Some(path) = super::polygons_path(view, area) {
        mask.fill_path(&path, FillRule::EvenOdd, false, Transform::identity());
    }
    mask
}

/// A mask's set pixels counted above and to the left of each pixel (a
/// summed-area table): the layout asks how much of the area each of
/// hundreds of boxes covers, and each answer is then four lookups instead
/// of a scan of the box.
pub struct Coverage {
    w: usize,
    h: usize,
    /// `(w + 1) × (h + 1)`: `sums[y * (w + 1) + x]` counts the set pixels
    /// left of column x and above row y.
    sums: Vec<u32>,
}

impl Coverage {
    /// The table of `mask`.
    pub fn new(mask: &Mask) -> Coverage {
        let (w, h) = (mask.width() as usize, mask.height() as usize);
        let stride = w + 1;
        let mut sums = vec![0u32; stride * (h + 1)];
        // Row by row, each from the one above (a table per map page, four
        // pages a map: slices rather than indexing, for speed).
        for (y, row) in mask.data().chunks_exact(w).enumerate() {
            let (above, below) = sums.split_at_mut((y + 1) * stride);
            let prev = &above[y * stride + 1..];
            let mut run = 0u32;
            for ((cell, &up), &v) in below[1..stride].iter_mut().zip(prev).zip(row) {
                run += u32::from(v > 0);
                *cell = up + run;
            }
        }
        Coverage { w, h, sums }
    }

    /// How many of the mask's pixels inside `r` are set.
    pub fn count(&self, r: Rect) -> u64 {
        let (w, h) = (self.w as i64, self.h as i64);
        let x0 = (r.l.floor() as i64).clamp(0, w) as usize;
        let x1 = (r.r.ceil() as i64).clamp(x0 as i64, w) as usize;
        let y0 = (r.t.floor() as i64).clamp(0, h) as usize;
        let y1 = (r.b.ceil() as i64).clamp(y0 as i64, h) as usize;
        let at = |x: usize, y: usize| u64::from(self.sums[y * (self.w + 1) + x]);
        at(x1, y1) + at(x0, y0) - at(x0, y1) - at(x1, y0)
    }
}

#[cfg(test)]
mod tests {
    use geo::{Area, BooleanOps, Coord, LineString, Polygon};

    use super::*;
    use crate::maps::render::{load_font, MapOptions};
    use crate::styles::MapStyle;

    fn rect_polygon(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        Polygon::new(
            LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]),
            vec![],
        )
    }

    /// The share of `area` the page's furniture boxes cover, worked out on
    /// the ground (metres) with polygon overlay, not from the page's mask.
    fn hidden_share(view: &View, p: &Placement, area: &MultiPolygon<f64>) -> f64 {
        let boxes = [Some(p.legend), Some(p.scale_bar), Some(p.north), p.extra];
        let hidden: f64 = boxes
            .iter()
            .flatten()
            .map(|r| {
                let (x0, y1) = view.metric(r.l, r.t);
                let (x1, y0) = view.metric(r.r, r.b);
                let b = MultiPolygon(vec![rect_polygon(x0, y0, x1, y1)]);
                b.intersection(area).unsigned_area()
            })
            .sum();
        hidden / area.unsigned_area()
    }

    fn plan_on(area: &MultiPolygon<f64>, inset: bool) -> (View, Placement) {
        let style = MapStyle::new(&MapOptions::default());
        let font = load_font(None).expect("the default CJK font");
        let mut page = Page::new(&style, &font).unwrap();
        let b = geo::BoundingRect::bounding_rect(area).unwrap();
        let f = page.frame;
        let space = Space {
            body: Rect {
                t: f.t + page.mm(20.0),
                ..f
            },
            room: f,
            title: Rect {
                l: (f.l + f.r) / 2.0 - page.mm(40.0),
                t: f.t + page.mm(3.0),
                r: (f.l + f.r) / 2.0 + page.mm(40.0),
                b: f.t + page.mm(14.0),
            },
        };
        let legend = (page.mm(45.0), page.mm(70.0));
        let furniture = Furniture {
            legend,
            extra: inset.then(|| (page.mm(55.0), page.mm(44.0))),
        };
        let Coord { x: x0, y: y0 } = b.min();
        let Coord { x: x1, y: y1 } = b.max();
        let view = plan(&mut page, &[area], ([x0, y0], [x1, y1]), space, &furniture);
        (view, page.placement.expect("a placement"))
    }

    #[test]
    fn a_box_counts_the_same_from_the_table_as_by_a_scan() {
        let mut mask = Mask::new(300, 200).unwrap();
        let circle = tiny_skia::PathBuilder::from_circle(140.0, 90.0, 70.0).unwrap();
        mask.fill_path(&circle, FillRule::Winding, true, Transform::identity());
        let table = Coverage::new(&mask);
        let scan = |r: Rect| -> u64 {
            let (x0, x1) = (r.l.floor().clamp(0.0, 300.0), r.r.ceil().clamp(0.0, 300.0));
            let (y0, y1) = (r.t.floor().clamp(0.0, 200.0), r.b.ceil().clamp(0.0, 200.0));
            let mut n = 0;
            for y in y0 as usize..y1 as usize {
                for x in x0 as usize..x1.max(x0) as usize {
                    n += u64::from(mask.data()[y * 300 + x] > 0);
                }
            }
            n
        };
        let mut seed = 11u64;
        let mut next = |n: f32| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 40) as f32 / (1u64 << 24) as f32 * n - 20.0
        };
        for _ in 0..500 {
            let (l, t) = (next(340.0), next(240.0));
            let r = Rect {
                l,
                t,
                r: l + next(200.0).abs(),
                b: t + next(150.0).abs(),
            };
            assert_eq!(table.count(r), scan(r), "{r:?}");
        }
        let whole = Rect {
            l: 0.0,
            t: 0.0,
            r: 300.0,
            b: 200.0,
        };
        assert!(table.count(whole) > 15_000, "the circle's ~15,400 px");
    }

    #[test]
    fn the_legend_takes_the_one_empty_corner() {
        // A 150 × 100 km block with its upper-left 60 × 50 km cut away.
        let block = MultiPolygon(vec![rect_polygon(0.0, 0.0, 150e3, 100e3)]);
        let cut = MultiPolygon(vec![rect_polygon(0.0, 50e3, 60e3, 100e3)]);
        let area = block.difference(&cut);
        let (view, p) = plan_on(&area, false);
        assert_eq!(p.legend_corner, Corner::TopLeft, "{p:?}");
        let share = hidden_share(&view, &p, &area);
        assert!(share <= MAX_HIDDEN + 0.002, "furniture hides {share}");
        // With an inset as well, one of the two gets the corner and the
        // map makes room for the other: still little is hidden.
        let (view, p) = plan_on(&area, true);
        let share = hidden_share(&view, &p, &area);
        assert!(share <= MAX_HIDDEN + 0.002, "furniture hides {share}");
    }

    #[test]
    fn a_full_frame_is_shrunk_until_the_furniture_hides_little() {
        // A block the page's shape: every corner is covered at full size.
        let area = MultiPolygon(vec![rect_polygon(0.0, 0.0, 141e3, 100e3)]);
        let (view, p) = plan_on(&area, true);
        let share = hidden_share(&view, &p, &area);
        assert!(share <= MAX_HIDDEN + 0.002, "furniture hides {share}");
        let boxes = [Some(p.legend), Some(p.scale_bar), Some(p.north), p.extra];
        let boxes: Vec<Rect> = boxes.into_iter().flatten().collect();
        for (i, a) in boxes.iter().enumerate() {
            assert!(
                boxes[i + 1..].iter().all(|b| !a.overlaps(b)),
                "boxes overlap: {boxes:?}"
            );
        }
    }
}
