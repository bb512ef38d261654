//! The emergency resources' maps (应急资源分布与覆盖图): the city's and one
//! per district. The fire and rescue stations' reach is shaded (their
//! route reach over the detour factor, as a straight-line radius); every
//! resource is a circle in its kind's colour; each high-risk place is a
//! ring, green where every required kind is within reach and black where
//! one is not, drawn on top. The legend counts the resources by kind and
//! the places covered or not; on the city map it lists each district's
//! coverage, the least covered first. A city map whose places or
//! resources are too many for its scale counts them instead (each unit's
//! coverage then written under its name).

use std::collections::HashMap;

use geo::MultiPolygon;
use tiny_skia::{FillRule, PathBuilder};

use super::legend::{Entry, Legend};
use super::{
    base, bounds, city_inset, colour, draw_city_inset, draw_frame_and_footer, draw_furniture,
    draw_inset, draw_outlines, draw_plain_district, inset_size, label_units, label_units_counted,
    legend_unit_lines, plan_map, symbol_budget, title, Drawn, MapData, MapUnit, Page, RenderError,
    View,
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
    /// The [`Symbols`] the map draws (the others are too many for its
    /// scale and only counted).
    drawn: Vec<Symbols>,
}

/// The coverage maps' kinds of symbol. A map too small for them all draws
/// those that fit, tried in [`Symbols::IMPORTANCE`] order (the places not
/// covered are the map's message; the resources, far fewer, usually fit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Symbols {
    Resources,
    Uncovered,
    Covered,
}

impl Symbols {
    /// The kinds, the most important first.
    const IMPORTANCE: [Symbols; 3] = [Symbols::Uncovered, Symbols::Resources, Symbols::Covered];
}

impl<'d> Shown<'d> {
    /// Those in unit `code`, or all of them, every one drawn.
    pub fn within(c: &'d CoverageData, code: Option<&str>) -> Shown<'d> {
        let here = |u: &Option<String>| code.is_none_or(|c| u.as_deref() == Some(c));
        Shown {
            resources: c.resources.iter().filter(|r| here(&r.unit)).collect(),
            places: c.places.iter().filter(|p| here(&p.unit)).collect(),
            drawn: Symbols::IMPORTANCE.to_vec(),
        }
    }

    /// Whether the map draws `s`.
    fn draws(&self, s: Symbols) -> bool {
        self.drawn.contains(&s)
    }

    /// How many of `s` there are.
    fn count(&self, s: Symbols) -> usize {
        match s {
            Symbols::Resources => self.resources.len(),
            Symbols::Uncovered => self.places.iter().filter(|p| !p.covered).count(),
            Symbols::Covered => self.places.iter().filter(|p| p.covered).count(),
        }
    }

    /// Only the symbols the city map of `areas` framed by `env` has room
    /// for at its scale (see [`symbol_budget`]), the most important first;
    /// a kind too many to fit is left out and the next tried.
    fn thinned(self, page: &Page, areas: &[&MultiPolygon<f64>], env: ([f64; 2], [f64; 2])) -> Self {
        let r = &page.style.resources;
        let disc = |mm: f64| (page.mm(mm) as f64 / 2.0).powi(2) * std::f64::consts::PI;
        let mut room = symbol_budget(page, areas, env);
        let mut drawn = Vec::new();
        for s in Symbols::IMPORTANCE {
            let each = disc(if s == Symbols::Resources {
                r.size_mm
            } else {
                r.place_mm
            });
            let cover = self.count(s) as f64 * each;
            if cover <= room {
                room -= cover;
                drawn.push(s);
            }
        }
        Shown { drawn, ..self }
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
    let resources = if shown.draws(Symbols::Resources) {
        &c.resources[..]
    } else {
        &[]
    };
    for s in resources {
        let (x, y) = view.px(s.xy[0], s.xy[1]);
        if page.frame.holds(x, y) {
            page.canvas.circle(
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
        let symbol = if covered {
            Symbols::Covered
        } else {
            Symbols::Uncovered
        };
        if !shown.draws(symbol) {
            continue;
        }
        let c = colour(if covered { &r.covered } else { &r.uncovered }, 1.0);
        for p in shown.places.iter().filter(|p| p.covered == covered) {
            let (x, y) = view.px(p.xy[0], p.xy[1]);
            if page.frame.holds(x, y) {
                page.canvas.circle(x, y, ring, None, Some((c, width)));
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
    let clip = page.clip();
    let (fill, ring) = (colour(&fire, 0.08), colour(&fire, 0.3));
    page.canvas
        .fill(&path, fill, FillRule::Winding, clip.as_ref());
    page.canvas.stroke(&path, ring, 1.0, None, clip.as_ref());
    page.keep_clip(clip);
}

/// Each unit's covered places over its places, the least covered first.
fn unit_shares(c: &CoverageData, units: &[&MapUnit]) -> Vec<(String, usize, usize)> {
    let mut rows: Vec<(String, usize, usize)> = units
        .iter()
        .map(|u| {
            let (covered, n) = places_in(c, u);
            (u.name.clone(), covered, n)
        })
        .filter(|(_, _, n)| *n > 0)
        .collect();
    rows.sort_by(|a, b| (a.1 * b.2).cmp(&(b.1 * a.2)).then(a.0.cmp(&b.0)));
    rows
}

/// A unit's covered places and its places.
fn places_in(c: &CoverageData, u: &MapUnit) -> (usize, usize) {
    c.places
        .iter()
        .filter(|p| p.unit.as_deref() == Some(u.code.as_str()))
        .fold((0, 0), |(k, n), p| (k + usize::from(p.covered), n + 1))
}

/// A share as text: `72.5%`.
fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "—".to_string()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// The legend: the resources by kind, the places covered or not, the
/// stations' reach, and (on the city map) each district's share.
fn coverage_legend(page: &Page, c: &CoverageData, shown: &Shown, units: &[&MapUnit]) -> Legend {
    let style = page.style.resources.clone();
    let resources = ResourceKind::ALL
        .iter()
        .filter_map(|k| {
            let n = shown.resources.iter().filter(|r| r.kind == *k).count();
            let fill = colour(style.colour(*k), 1.0);
            (n > 0 && shown.draws(Symbols::Resources)).then(|| Entry {
                paint: Box::new(move |page: &mut Page, x, y, size| {
                    let halo = colour(&page.style.text.halo, 1.0);
                    page.canvas
                        .circle(x, y, size * 0.45, Some(fill), Some((halo, 0.8)));
                }),
                text: format!("{} {} 处", k.label_zh(), n),
                colour: Some(fill),
            })
        })
        .collect();
    let covered = shown.places.iter().filter(|p| p.covered).count();
    let all = shown.places.len();
    let ring = |hex: &str, text: String| {
        let c = colour(hex, 1.0);
        let width = page.mm(style.ring_mm);
        Entry {
            paint: Box::new(move |page: &mut Page, x, y, size| {
                page.canvas
                    .circle(x, y, size * 0.45, None, Some((c, width)));
            }),
            text,
            colour: Some(c),
        }
    };
    let mut places = Vec::new();
    if covered > 0 && shown.draws(Symbols::Covered) {
        places.push(ring(&style.covered, format!("已覆盖 {covered} 处")));
    }
    if all > covered && shown.draws(Symbols::Uncovered) {
        places.push(ring(
            &style.uncovered,
            format!("未全部覆盖 {} 处", all - covered),
        ));
    }
    let fire = style.fire_station.clone();
    let reach = Entry {
        paint: Box::new(move |page: &mut Page, x, y, size| {
            page.canvas.circle(
                x,
                y,
                size * 0.55,
                Some(colour(&fire, 0.08)),
                Some((colour(&fire, 0.3), 1.0)),
            );
        }),
        text: format!(
            "消防救援站覆盖范围（路程 {:.1} km）",
            c.fire_route_m / 1000.0
        ),
        colour: None,
    };
    let mut legend = Legend::default();
    legend.section("应急资源", resources);
    legend.section("高风险对象（重大危险源、红橙企业）", places);
    legend.section("覆盖范围", vec![reach]);
    let left_out: Vec<String> = Symbols::IMPORTANCE
        .into_iter()
        .filter(|s| !shown.draws(*s) && shown.count(*s) > 0)
        .map(|s| {
            let what = match s {
                Symbols::Resources => "应急资源",
                Symbols::Uncovered => "未全部覆盖的高风险对象",
                Symbols::Covered => "已覆盖的高风险对象",
            };
            format!("　{what} {} 处", shown.count(s))
        })
        .collect();
    if !left_out.is_empty() {
        legend.notes.push("本比例尺下未逐一绘出：".to_string());
        legend.notes.extend(left_out);
    }
    legend
        .notes
        .push(format!("覆盖率 {}", percent(covered, all)));
    let small = page.pt(page.style.text.small_pt);
    let fixed = legend.size(page, f32::INFINITY).1;
    let shares = unit_shares(c, units);
    legend.notes.extend(legend_unit_lines(
        page,
        (fixed, small),
        "各区县覆盖率（已覆盖/高风险对象）",
        &shares,
        |(name, k, n)| format!("{name}  {}（{k}/{n}）", percent(*k, *n)),
        |rest| {
            let (k, n) = rest.iter().fold((0, 0), |(k, n), r| (k + r.1, n + r.2));
            format!("其余 {} 个区县  {}（{k}/{n}）", rest.len(), percent(k, n))
        },
    ));
    legend
}

/// The city's resources and coverage map.
pub fn city_coverage_map(
    data: &MapData,
    c: &CoverageData,
    style: &MapStyle,
    font: &ab_glyph::FontVec,
) -> Result<Drawn, RenderError> {
    let mut page = Page::new(style, font)?;
    let units: Vec<&MapUnit> = data.units.iter().collect();
    let outlines: Vec<&MultiPolygon<f64>> = units.iter().map(|u| &u.boundary).collect();
    let (min, max) = bounds(&outlines);
    let shown = Shown::within(c, None).thinned(&page, &outlines, (min, max));
    let name = title(data, &data.area_name, "应急资源分布与覆盖图");
    let mut legend = coverage_legend(&page, c, &shown, &units);
    base::settle_scale(&mut page, min, max);
    legend.section("底图", base::legend_entries(&page, &data.base, min, max));
    let inset = city_inset(&page, data);
    let view = plan_map(&mut page, &outlines, (min, max), &name, &legend, inset);
    let city = data.city.as_ref().map(|u| &u.boundary);
    base::draw_all(&mut page, &view, &data.base);
    draw_outlines(&mut page, &view, &units, city);
    draw_coverage(&mut page, &view, c, &shown);
    draw_furniture(&mut page, &view, &legend, &name);
    draw_city_inset(&mut page, data);
    let label = page.pt(style.text.label_pt) * 1.25;
    // Places too many to draw: each unit's coverage under its name.
    let shares = (!shown.draws(Symbols::Uncovered)).then(|| share_per_unit(c, &units));
    label_units_counted(&mut page, &view, &units, label, shares.as_ref());
    base::label_places(&mut page, &view, &data.base);
    draw_frame_and_footer(&mut page, data);
    Ok(page.encode())
}

/// Each unit's coverage, by its code, as a line under its name.
fn share_per_unit<'u>(c: &CoverageData, units: &[&'u MapUnit]) -> HashMap<&'u str, String> {
    units
        .iter()
        .filter_map(|u| {
            let (k, n) = places_in(c, u);
            (n > 0).then(|| (u.code.as_str(), format!("覆盖率 {}", percent(k, n))))
        })
        .collect()
}

/// One district's resources and coverage map, with an inset locating it.
pub fn district_coverage_map(
    data: &MapData,
    c: &CoverageData,
    unit: &MapUnit,
    style: &MapStyle,
    font: &ab_glyph::FontVec,
) -> Result<Drawn, RenderError> {
    let mut page = Page::new(style, font)?;
    let (min, max) = bounds(&[&unit.boundary]);
    let shown = Shown::within(c, Some(&unit.code));
    let name = format!("{}{}", data.area_name, unit.name);
    let name = title(data, &name, "应急资源分布与覆盖图");
    let mut legend = coverage_legend(&page, c, &shown, &[]);
    base::settle_scale(&mut page, min, max);
    legend.section("底图", base::legend_entries(&page, &data.base, min, max));
    let inset = Some(inset_size(&page));
    let view = plan_map(
        &mut page,
        &[&unit.boundary],
        (min, max),
        &name,
        &legend,
        inset,
    );
    base::draw_all(&mut page, &view, &data.base);
    let towns = draw_plain_district(&mut page, &view, data, unit);
    draw_coverage(&mut page, &view, c, &shown);
    draw_furniture(&mut page, &view, &legend, &name);
    draw_inset(&mut page, data, unit);
    let label = page.pt(style.text.label_pt) * 1.3;
    label_units(&mut page, &view, &[unit], label);
    let small = page.pt(style.text.small_pt) * 1.1;
    label_units(&mut page, &view, &towns, small);
    base::label_places(&mut page, &view, &data.base);
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
