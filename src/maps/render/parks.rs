//! One map per chemical park (化工园区安全风险分布图): the park filled by its
//! grade and outlined over the exposure grid, the districts around it, the
//! enterprises and major hazard sources in view with their influence
//! circles, the enterprise legend, and a box of the park's findings.

use geo::{BoundingRect, InteriorPoint, MultiPolygon};

use super::{
    bounds, colour, draw_frame_and_footer, draw_furniture, draw_grid, draw_influence_zones,
    draw_outlines, draw_points, grade_colour, title, MapData, MapHazard, MapPoint, MapUnit, Page,
    Rect, RenderError, View,
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

/// The box of the park's findings, upper left.
fn draw_findings(page: &mut Page, park: &MapPark) {
    let size = page.pt(page.style.text.legend_pt);
    let line = size * 1.6;
    let pad = page.mm(3.0);
    let width = park
        .lines
        .iter()
        .map(|t| page.measure(t, size).0)
        .fold(page.measure(&park.name, size).0, f32::max)
        + 2.0 * pad;
    let r = Rect {
        l: page.frame.l + page.mm(4.0),
        t: page.frame.t + page.mm(4.0),
        r: page.frame.l + page.mm(4.0) + width,
        b: page.frame.t + page.mm(4.0) + 2.0 * pad + line * (park.lines.len() + 1) as f32,
    };
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
}

/// One park's map; the view takes in `around_m` around it.
pub fn park_map(
    data: &MapData,
    park: &MapPark,
    around_m: f64,
    style: &MapStyle,
    font: &ab_glyph::FontVec,
) -> Result<Vec<u8>, RenderError> {
    let mut page = Page::new(style, font)?;
    let env = padded(&park.boundary, around_m);
    let view = View::fit_within(env.0, env.1, super::body_rect(&page), page.frame);
    // What lies in the frame: drawn, and counted in the legend.
    let shown = |xy: [f64; 2]| {
        let (x, y) = view.px(xy[0], xy[1]);
        page.frame.holds(x, y)
    };
    let points: Vec<&MapPoint> = data.enterprises.iter().filter(|p| shown(p.xy)).collect();
    let hazards: Vec<&MapHazard> = data
        .hazards
        .iter()
        .filter(|h| h.grade.is_some() && shown(h.xy))
        .collect();
    draw_grid(&mut page, &view, &data.grid);
    let units: Vec<&MapUnit> = data.units.iter().collect();
    draw_outlines(&mut page, &view, &units, None);
    let parks = page.style.parks.clone();
    page.polygon(
        &view,
        &park.boundary,
        Some(grade_colour(park.grade, style.units.fill_alpha)),
        Some((colour(&parks.outline, 1.0), page.mm(parks.outline_mm))),
    );
    draw_influence_zones(&mut page, &view, &hazards);
    draw_points(&mut page, &view, &points, &hazards);
    let name = format!("{}{}", data.area_name, park.name);
    draw_furniture(
        &mut page,
        &view,
        &points,
        hazards.len(),
        &title(data, &name, "安全风险分布图"),
    );
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
    draw_frame_and_footer(&mut page, data);
    Ok(page.encode())
}
