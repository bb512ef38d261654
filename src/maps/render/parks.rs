//! One map per chemical park (化工园区安全风险分布图): the park filled by its
//! grade and outlined over the exposure grid, the districts around it, the
//! enterprises and major hazard sources in view with their influence
//! circles, the enterprise legend, and a box of the park's findings.

use geo::{BoundingRect, InteriorPoint, MultiPolygon};

use super::layout::Corner;
use super::legend::{fill_swatch, Entry};
use super::{
    base, bounds, colour, draw_frame_and_footer, draw_furniture, draw_grid, draw_influence_zones,
    draw_outlines, draw_points, grade_name, grid_codes_in, plan_map, risk_legend, tint_of, title,
    Areas, Drawn, MapData, MapHazard, MapPoint, MapUnit, Page, RenderError, RiskShown,
};
use crate::model::Grade;
use crate::styles::MapStyle;

/// A chemical park to draw.
pub struct MapPark {
    /// Park code, the file name.
    pub code: String,
    /// Park name, in the title and as its label.
    pub name: String,
    /// Boundary in the metric CRS.
    pub boundary: MultiPolygon<f64>,
    /// Its grade.
    pub grade: Grade,
    /// The findings box's lines (grade, Σ R, people, cells).
    pub lines: Vec<String>,
}

/// The park's envelope widened by `pad_m` on every side.
fn padded(b: &MultiPolygon<f64>, pad_m: f64) -> ([f64; 2], [f64; 2]) {
    let (min, max) = bounds(&[b]);
    (
        [min[0] - pad_m, min[1] - pad_m],
        [max[0] + pad_m, max[1] + pad_m],
    )
}

/// The findings box's lines' size, px.
fn findings_size(page: &Page, park: &MapPark) -> (f32, f32) {
    let size = page.pt(page.style.text.legend_pt);
    let pad = page.mm(3.0);
    let width = park
        .lines
        .iter()
        .map(|t| page.measure(t, size).0)
        .fold(page.measure(&park.name, size).0, f32::max)
        + 2.0 * pad;
    (
        width,
        2.0 * pad + size * 1.6 * (park.lines.len() + 1) as f32,
    )
}

/// The box of the park's findings, where the layout put it (upper left by
/// preference).
fn draw_findings(page: &mut Page, park: &MapPark) {
    let size = page.pt(page.style.text.legend_pt);
    let line = size * 1.6;
    let pad = page.mm(3.0);
    let r = page.placement.and_then(|p| p.extra).unwrap_or_else(|| {
        Corner::TopLeft.place(page.frame, findings_size(page, park), page.mm(4.0))
    });
    let furniture = page.style.furniture.clone();
    page.rect(
        r,
        Some(colour(&furniture.box_, furniture.legend_alpha)),
        Some((colour(&page.style.frame.colour, 1.0), 1.0)),
    );
    let ink = colour(&page.style.text.colour, 1.0);
    page.text(&park.name, r.l + pad, r.t + pad, size, ink, None);
    for (i, t) in park.lines.iter().enumerate() {
        let y = r.t + pad + line * (i + 1) as f32;
        page.text(t, r.l + pad, y, size, ink, None);
    }
    page.taken.push(r);
    page.furniture("findings", r);
}

/// One park's map; the view takes in `around_m` around it.
pub fn park_map(
    data: &MapData,
    park: &MapPark,
    around_m: f64,
    style: &MapStyle,
    font: &ab_glyph::FontVec,
) -> Result<Drawn, RenderError> {
    let mut page = Page::new(style, font)?;
    let env = padded(&park.boundary, around_m);
    let name = format!("{}{}", data.area_name, park.name);
    let title_text = title(data, &name, "安全风险分布图");
    // The legend counts what the frame shows; the frame is known once the
    // map is laid out, and the layout needs the legend's size: the counts
    // are taken in the envelope first, then in the frame (the legend's
    // lines are the same either way).
    let in_env = |xy: [f64; 2]| {
        xy[0] >= env.0[0] && xy[0] <= env.1[0] && xy[1] >= env.0[1] && xy[1] <= env.1[1]
    };
    let park_entry = |page: &Page| Entry {
        paint: fill_swatch(tint_of(
            &crate::styles::grade(park.grade).fill,
            page.style.units.fill_alpha,
        )),
        text: format!("化工园区 {}", grade_name(park.grade)),
        colour: None,
    };
    let legend_of = |page: &Page, points: &[&MapPoint], hazards: &[&MapHazard]| {
        let shown = RiskShown {
            points,
            hazards,
            zones: !hazards.is_empty(),
            areas: Areas::None,
            cells: grid_codes_in(&data.grid, env.0, env.1),
        };
        let mut legend = risk_legend(page, &shown, &data.grid_thresholds);
        legend.section("化工园区", vec![park_entry(page)]);
        legend.section("底图", base::legend_entries(page, &data.base, env.0, env.1));
        legend
    };
    // The enterprises and major hazard sources where `keep` holds.
    let pick = |keep: &dyn Fn([f64; 2]) -> bool| -> (Vec<&MapPoint>, Vec<&MapHazard>) {
        let points = data.enterprises.iter().filter(|p| keep(p.xy)).collect();
        let hazards = data
            .hazards
            .iter()
            .filter(|h| h.grade.is_some() && keep(h.xy))
            .collect();
        (points, hazards)
    };
    base::settle_scale(&mut page, env.0, env.1);
    let (points, hazards) = pick(&in_env);
    let legend = legend_of(&page, &points, &hazards);
    let extra = Some(findings_size(&page, park));
    let view = plan_map(
        &mut page,
        &[&park.boundary],
        env,
        &title_text,
        &legend,
        extra,
    );
    // What lies in the frame: drawn, and counted in the legend.
    let shown = |xy: [f64; 2]| {
        let (x, y) = view.px(xy[0], xy[1]);
        page.frame.holds(x, y)
    };
    let (points, hazards) = pick(&shown);
    let legend = legend_of(&page, &points, &hazards);
    let parks = page.style.parks.clone();
    let fill = tint_of(
        &crate::styles::grade(park.grade).fill,
        style.units.fill_alpha,
    );
    page.polygon(&view, &park.boundary, Some(fill), None);
    base::draw_areas(&mut page, &view, &data.base);
    draw_grid(&mut page, &view, &data.grid);
    base::draw_lines(&mut page, &view, &data.base);
    let units: Vec<&MapUnit> = data.units.iter().collect();
    draw_outlines(&mut page, &view, &units, None);
    page.polygon(
        &view,
        &park.boundary,
        None,
        Some((colour(&parks.outline, 1.0), page.mm(parks.outline_mm))),
    );
    draw_influence_zones(&mut page, &view, &hazards);
    draw_points(&mut page, &view, &points, &hazards);
    draw_furniture(&mut page, &view, &legend, &title_text);
    draw_findings(&mut page, park);
    if let Some(p) = park
        .boundary
        .interior_point()
        .filter(|_| park.boundary.bounding_rect().is_some())
    {
        let (x, y) = view.px(p.x(), p.y());
        let size = page.pt(style.text.label_pt) * 1.3;
        page.label(&park.name, x, y, size, 0.0);
    }
    base::label_places(&mut page, &view, &data.base);
    draw_frame_and_footer(&mut page, data);
    Ok(page.encode())
}
