//! The emergency resources' maps (应急资源分布与覆盖图): the city's and one
//! per district. The fire and rescue stations' reach is shaded (their
//! route reach over the detour factor, as a straight-line radius); every
//! resource is a circle in its kind's colour; each high-risk place is a
//! ring, green where every required kind is within reach and black where
//! one is not, drawn on top. The legend counts the resources by kind and
//! the places covered or not; on the city map it lists each district's
//! coverage, the least covered first.

use geo::MultiPolygon;
use tiny_skia::{FillRule, PathBuilder, Transform};

use super::{
    body_rect, bounds, colour, draw_frame_and_footer, draw_inset, draw_north_arrow, draw_outlines,
    draw_plain_district, draw_scale_bar, draw_title, label_units, legend_box, legend_unit_lines,
    pen, solid, title, MapData, MapUnit, Page, RenderError, View,
};
use crate::model::ResourceKind;
use crate::styles::MapStyle;

/// An emergency resource to draw.
pub struct MapResource {
    /// Easting/northing in the metric CRS.
    pub xy: [f64; 2],
    /// What kind of resource it is.
    pub kind: ResourceKind,
    /// Its district's code (else its town's).
    pub unit: Option<String>,
}

/// A high-risk place (major hazard source, red or orange enterprise) to draw.
pub struct MapPlace {
    /// Easting/northing in the metric CRS.
    pub xy: [f64; 2],
    /// Every required kind of resource is within reach.
    pub covered: bool,
    /// Its district's code (else its town's).
    pub unit: Option<String>,
}

/// What the coverage maps show besides the units.
pub struct CoverageData {
    /// Every accepted resource.
    pub resources: Vec<MapResource>,
    /// Every high-risk place.
    pub places: Vec<MapPlace>,
    /// A fire and rescue station's reach as a straight-line radius, metres.
    pub fire_reach_m: f64,
    /// Its reach by route, metres, for the legend.
    pub fire_route_m: f64,
}

/// The resources and places of one map.
pub struct Shown<'d> {
    resources: Vec<&'d MapResource>,
    places: Vec<&'d MapPlace>,
}

impl<'d> Shown<'d> {
    /// Those in unit `code`, or all of them.
    pub fn within(c: &'d CoverageData, code: Option<&str>) -> Shown<'d> {
        let here = |u: &Option<String>| code.is_none_or(|c| u.as_deref() == Some(c));
        Shown {
            resources: c.resources.iter().filter(|r| here(&r.unit)).collect(),
            places: c.places.iter().filter(|p| here(&p.unit)).collect(),
        }
    }
}

/// The fire stations' reach, then the resources, then the places, the
/// uncovered ones last, on top. Resources outside the unit are drawn too:
/// a neighbour's station covers across the boundary.
fn draw_coverage(page: &mut Page, view: &View, c: &CoverageData, shown: &Shown) {
    let r = page.style.resources.clone();
    draw_reach(page, view, c);
    let size = page.mm(r.size_mm) / 2.0;
    let halo = colour(&page.style.text.halo, 1.0);
    for s in &c.resources {
        let (x, y) = view.px(s.xy[0], s.xy[1]);
        if page.frame.holds(x, y) {
            page.circle(
                x,
                y,
                size,
                Some(colour(r.colour(s.kind), 1.0)),
                Some((halo, 0.8)),
            );
        }
    }
    let ring = page.mm(r.place_mm) / 2.0;
    let width = page.mm(r.ring_mm);
    for covered in [true, false] {
        let c = colour(if covered { &r.covered } else { &r.uncovered }, 1.0);
        for p in shown.places.iter().filter(|p| p.covered == covered) {
            let (x, y) = view.px(p.xy[0], p.xy[1]);
            if page.frame.holds(x, y) {
                page.circle(x, y, ring, None, Some((c, width)));
            }
        }
    }
}

/// The fire stations' reach as one shaded area (overlaps not darker),
/// clipped to the frame.
fn draw_reach(page: &mut Page, view: &View, c: &CoverageData) {
    let radius = (c.fire_reach_m * view.scale) as f32;
    let mut pb = PathBuilder::new();
    for s in c
        .resources
        .iter()
        .filter(|s| s.kind == ResourceKind::FireStation)
    {
        let (x, y) = view.px(s.xy[0], s.xy[1]);
        pb.push_circle(x, y, radius);
    }
    let Some(path) = pb.finish() else {
        return;
    };
    let fire = page.style.resources.fire_station.clone();
    let mask = page.clip();
    page.pixmap.fill_path(
        &path,
        &solid(colour(&fire, 0.08)),
        FillRule::Winding,
        Transform::identity(),
        mask.as_ref(),
    );
    page.pixmap.stroke_path(
        &path,
        &solid(colour(&fire, 0.3)),
        &pen(1.0),
        Transform::identity(),
        mask.as_ref(),
    );
    page.keep_clip(mask);
}

/// Each unit's covered places over its places, the least covered first.
fn unit_shares(c: &CoverageData, units: &[&MapUnit]) -> Vec<(String, usize, usize)> {
    let mut rows: Vec<(String, usize, usize)> = units
        .iter()
        .map(|u| {
            let here = c
                .places
                .iter()
                .filter(|p| p.unit.as_deref() == Some(u.code.as_str()));
            let (n, covered) = here.fold((0, 0), |(n, k), p| (n + 1, k + usize::from(p.covered)));
            (u.name.clone(), covered, n)
        })
        .filter(|(_, _, n)| *n > 0)
        .collect();
    rows.sort_by(|a, b| (a.1 * b.2).cmp(&(b.1 * a.2)).then(a.0.cmp(&b.0)));
    rows
}

/// A share as text: `72.5%`.
fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "—".to_string()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// What a legend row shows before its text.
enum Swatch {
    /// A resource of this kind.
    Resource(ResourceKind),
    /// A place's ring, covered or not.
    Ring(bool),
    /// The stations' reach.
    Reach,
}

/// The legend, lower left: the resources by kind, the places covered or
/// not, the stations' reach, and (on the city map) each district's share.
fn draw_coverage_legend(page: &mut Page, c: &CoverageData, shown: &Shown, units: &[&MapUnit]) {
    let size = page.pt(page.style.text.legend_pt);
    let small = page.pt(page.style.text.small_pt);
    let line = size * 1.7;
    let pad = page.mm(3.0);
    let mut rows: Vec<(Swatch, String)> = ResourceKind::ALL
        .iter()
        .map(|k| {
            let n = shown.resources.iter().filter(|r| r.kind == *k).count();
            (Swatch::Resource(*k), format!("{} {} 处", k.label_zh(), n))
        })
        .collect();
    let covered = shown.places.iter().filter(|p| p.covered).count();
    let all = shown.places.len();
    rows.push((
        Swatch::Ring(true),
        format!("高风险对象 已覆盖 {covered} 处"),
    ));
    rows.push((
        Swatch::Ring(false),
        format!("高风险对象 未全部覆盖 {} 处", all - covered),
    ));
    rows.push((
        Swatch::Reach,
        format!(
            "消防救援站覆盖范围（路程 {:.1} km）",
            c.fire_route_m / 1000.0
        ),
    ));
    let note = format!(
        "高风险对象：重大危险源、红橙企业；覆盖率 {}",
        percent(covered, all)
    );
    let shares = unit_shares(c, units);
    let fixed = line * (rows.len() as f32 + 1.0) + small * 1.6 + 2.0 * pad;
    let unit_lines = legend_unit_lines(
        page,
        (fixed, small),
        "各区县覆盖率（已覆盖/高风险对象）",
        &shares,
        |(name, k, n)| format!("{name}  {}（{k}/{n}）", percent(*k, *n)),
        |rest| {
            let (k, n) = rest.iter().fold((0, 0), |(k, n), r| (k + r.1, n + r.2));
            format!("其余 {} 个区县  {}（{k}/{n}）", rest.len(), percent(k, n))
        },
    );
    let width = rows
        .iter()
        .map(|(_, t)| page.measure(t, size).0 + size * 2.2)
        .chain(unit_lines.iter().map(|t| page.measure(t, small).0))
        .fold(page.measure(&note, small).0, f32::max)
        + 2.0 * pad;
    let extra = if unit_lines.is_empty() {
        0.0
    } else {
        small + unit_lines.len() as f32 * small * 1.45
    };
    let height = fixed + extra;
    let r = legend_box(page, (width, height), pad, size);
    let ink = colour(&page.style.text.colour, 1.0);
    let style = page.style.resources.clone();
    let halo = colour(&page.style.text.halo, 1.0);
    for (i, (swatch, text)) in rows.iter().enumerate() {
        let y = r.t + pad + line * (i as f32 + 1.0);
        let (sx, sy) = (r.l + pad + size * 0.6, y + size * 0.6);
        match swatch {
            Swatch::Resource(k) => {
                let c = colour(style.colour(*k), 1.0);
                page.circle(sx, sy, size * 0.45, Some(c), Some((halo, 0.8)));
            }
            Swatch::Ring(covered) => {
                let c = colour(
                    if *covered {
                        &style.covered
                    } else {
                        &style.uncovered
                    },
                    1.0,
                );
                page.circle(sx, sy, size * 0.45, None, Some((c, page.mm(style.ring_mm))));
            }
            Swatch::Reach => {
                let fire = &style.fire_station;
                page.circle(
                    sx,
                    sy,
                    size * 0.55,
                    Some(colour(fire, 0.08)),
                    Some((colour(fire, 0.3), 1.0)),
                );
            }
        }
        page.text(text, r.l + pad + size * 1.8, y, size, ink, None);
    }
    let mut y = r.t + pad + line * (rows.len() as f32 + 1.0);
    page.text(&note, r.l + pad, y, small, ink, None);
    y += small * 2.6;
    for t in &unit_lines {
        page.text(t, r.l + pad, y, small, ink, None);
        y += small * 1.45;
    }
    page.taken.push(r);
}

/// The city's resources and coverage map.
pub fn city_coverage_map(
    data: &MapData,
    c: &CoverageData,
    style: &MapStyle,
    font: &ab_glyph::FontVec,
) -> Result<Vec<u8>, RenderError> {
    let mut page = Page::new(style, font)?;
    let units: Vec<&MapUnit> = data.units.iter().collect();
    let outlines: Vec<&MultiPolygon<f64>> = units.iter().map(|u| &u.boundary).collect();
    let (min, max) = bounds(&outlines);
    let view = View::fit_within(min, max, body_rect(&page), page.frame);
    let shown = Shown::within(c, None);
    let city = data.city.as_ref().map(|u| &u.boundary);
    draw_outlines(&mut page, &view, &units, city);
    draw_coverage(&mut page, &view, c, &shown);
    let name = title(data, &data.area_name, "应急资源分布与覆盖图");
    draw_title(&mut page, &name);
    draw_north_arrow(&mut page);
    draw_coverage_legend(&mut page, c, &shown, &units);
    draw_scale_bar(&mut page, &view);
    let label = page.pt(style.text.label_pt) * 1.25;
    label_units(&mut page, &view, &units, label);
    draw_frame_and_footer(&mut page, data);
    Ok(page.encode())
}

/// One district's resources and coverage map, with an inset locating it.
pub fn district_coverage_map(
    data: &MapData,
    c: &CoverageData,
    unit: &MapUnit,
    style: &MapStyle,
    font: &ab_glyph::FontVec,
) -> Result<Vec<u8>, RenderError> {
    let mut page = Page::new(style, font)?;
    let (min, max) = bounds(&[&unit.boundary]);
    let view = View::fit_within(min, max, body_rect(&page), page.frame);
    let shown = Shown::within(c, Some(&unit.code));
    let towns = draw_plain_district(&mut page, &view, data, unit);
    draw_coverage(&mut page, &view, c, &shown);
    let name = format!("{}{}", data.area_name, unit.name);
    draw_title(&mut page, &title(data, &name, "应急资源分布与覆盖图"));
    draw_north_arrow(&mut page);
    draw_coverage_legend(&mut page, c, &shown, &[]);
    draw_inset(&mut page, data, unit);
    draw_scale_bar(&mut page, &view);
    let label = page.pt(style.text.label_pt) * 1.3;
    label_units(&mut page, &view, &[unit], label);
    let small = page.pt(style.text.small_pt) * 1.1;
    label_units(&mut page, &view, &towns, small);
    draw_frame_and_footer(&mut page, data);
    Ok(page.encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn districts_are_listed_least_covered_first() {
        let place = |unit: &str, covered| MapPlace {
            xy: [0.0, 0.0],
            covered,
            unit: Some(unit.to_string()),
        };
        let c = CoverageData {
            resources: Vec::new(),
            places: vec![
                place("A", true),
                place("A", false),
                place("B", false),
                place("B", false),
                place("B", true),
                place("C", true),
            ],
            fire_reach_m: 1.0,
            fire_route_m: 1.3,
        };
        let unit = |code: &str| MapUnit {
            code: code.to_string(),
            name: format!("{code}区"),
            boundary: MultiPolygon(vec![]),
            grade: None,
        };
        let units = [unit("A"), unit("B"), unit("C"), unit("D")];
        let refs: Vec<&MapUnit> = units.iter().collect();
        assert_eq!(
            unit_shares(&c, &refs),
            [
                ("B区".to_string(), 1, 3),
                ("A区".to_string(), 1, 2),
                ("C区".to_string(), 1, 1)
            ]
        );
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(0, 0), "—");
    }
}
