//! The annual comparison's maps: the city's change map and one per
//! district. The change of each cell's grade is the background (reds
//! higher, greens lower, `styles/map.toml` [change]); enterprises graded
//! up are red triangles pointing up, those graded down green ones pointing
//! down, new ones rings and those gone crosses; a unit graded up or down is
//! outlined in red or green, with its old and new grade beside its name.

use std::path::{Path, PathBuf};

use geo::{InteriorPoint, MultiPolygon};
use rayon::prelude::*;
use tiny_skia::{Color, PathBuilder};

use super::legend::{fill_swatch, Entry, Legend};
use super::{
    bounds, colour, draw_frame_and_footer_lines, draw_furniture, grid_codes_in, load_fonts,
    paint_cells, pdf::Paper, plan_map, safe_file_stem, tint_of, write_map, Drawn, GradeGrid,
    MapOptions, Page, RenderError, View,
};
use crate::styles::{self, MapStyle};

/// How a record or unit changed, as the maps mark it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Graded higher.
    Up,
    /// Graded lower.
    Down,
    /// In the newer year only.
    New,
    /// In the older year only.
    Gone,
}

/// A changed enterprise, in metric coordinates.
pub struct ChangePoint {
    /// Easting/northing in the metric CRS.
    pub xy: [f64; 2],
    /// How it changed.
    pub mark: Mark,
    /// Its district's code (else its city's).
    pub unit: String,
}

/// A unit, in metric coordinates, with how its grade changed.
pub struct ChangeUnit {
    /// Administrative code.
    pub code: String,
    /// Name, its label.
    pub name: String,
    /// Boundary in the metric CRS.
    pub boundary: MultiPolygon<f64>,
    /// Graded up or down (new and gone units are not marked).
    pub mark: Option<Mark>,
    /// The old and new grade's colour names, e.g. `蓝→红`, when it changed.
    pub grades: String,
}

/// Everything the change maps show.
pub struct ChangeMapData {
    /// The study area's name, at the start of the titles.
    pub area_name: String,
    /// The older and the newer data year.
    pub years: (i64, i64),
    /// The newer run's data date.
    pub data_date: String,
    /// The source line at the foot of each map.
    pub source: String,
    /// The city, outlined on the city map, when the boundaries have one.
    pub city: Option<MultiPolygon<f64>>,
    /// The districts (the finest units when there are none).
    pub units: Vec<ChangeUnit>,
    /// The change of each cell: 0 no exposure either year, 1 … 7 for −3 … +3.
    pub grid: GradeGrid,
    /// The enterprises that changed.
    pub enterprises: Vec<ChangePoint>,
}

/// The grid code of a change of `step` levels (see [`ChangeMapData::grid`]).
pub fn step_code(step: i16) -> u8 {
    if (-3..=3).contains(&step) {
        (step + 4) as u8
    } else {
        0
    }
}

/// Renders the city's change map and one per district into `dir`
/// (`city.png`, `district/<code>.png`), in parallel.
pub fn render_change_maps(
    data: &ChangeMapData,
    opts: &MapOptions,
    dir: &Path,
) -> Result<Vec<PathBuf>, RenderError> {
    let (font, pdf_font) = load_fonts(opts.font.as_deref(), opts.pdf)?;
    let style = MapStyle::new(opts);
    let mut jobs: Vec<(PathBuf, Option<&ChangeUnit>)> = vec![(dir.join("city.png"), None)];
    jobs.extend(data.units.iter().map(|u| {
        let file = format!("{}.png", safe_file_stem(&u.code));
        (dir.join("district").join(file), Some(u))
    }));
    let files = jobs
        .par_iter()
        .map(|(path, unit)| {
            let drawn = change_map(data, *unit, &style, &font)?;
            // The city's map on A3, a district's on A4, as the risk maps.
            let paper = match unit {
                None => Paper::A3,
                Some(_) => Paper::A4,
            };
            let title = &drawn.info.title;
            write_map(
                path,
                &drawn.png,
                drawn.list.as_ref(),
                paper,
                pdf_font.as_ref(),
                title,
            )
        })
        .collect::<Result<Vec<Vec<PathBuf>>, RenderError>>()?;
    Ok(files.into_iter().flatten().collect())
}

/// One change map: the city's (`unit` none) or a district's.
fn change_map(
    data: &ChangeMapData,
    unit: Option<&ChangeUnit>,
    style: &MapStyle,
    font: &ab_glyph::FontVec,
) -> Result<Drawn, RenderError> {
    let mut page = Page::new(style, font)?;
    let shown: Vec<&MultiPolygon<f64>> = match unit {
        Some(u) => vec![&u.boundary],
        None => data.units.iter().map(|u| &u.boundary).collect(),
    };
    let (min, max) = bounds(&shown);
    let points: Vec<&ChangePoint> = data
        .enterprises
        .iter()
        .filter(|p| unit.is_none_or(|u| p.unit == u.code))
        .collect();
    let area = match unit {
        Some(u) => format!("{}{}", data.area_name, u.name),
        None => data.area_name.clone(),
    };
    let title_text = format!(
        "{area}{}年安全风险变化图（与{}年对比）",
        data.years.1, data.years.0
    );
    let cells = grid_codes_in(&data.grid, min, max);
    let legend = change_legend(&page, &points, cells);
    let view = plan_map(&mut page, &shown, (min, max), &title_text, &legend, None);
    let change = &style.change;
    let colours: Vec<Option<(u8, u8, u8)>> = std::iter::once(None)
        .chain((-3i16..=3).map(|s| styles::rgb(change.colour(s))))
        .collect();
    paint_cells(&mut page, &view, &data.grid, &colours);
    draw_units(&mut page, &view, data, unit);
    draw_marks(&mut page, &view, &points);
    draw_furniture(&mut page, &view, &legend, &title_text);
    label_units(&mut page, &view, data, unit);
    draw_frame_and_footer_lines(&mut page, &data.source, &data.data_date);
    Ok(page.encode())
}

/// The colour of a mark: the strongest red or green of the change scale.
fn mark_colour(style: &MapStyle, mark: Mark) -> Color {
    match mark {
        Mark::Up | Mark::New => colour(style.change.colour(3), 1.0),
        Mark::Down | Mark::Gone => colour(style.change.colour(-3), 1.0),
    }
}

/// The units' outlines; on a district's map its neighbours thin, itself
/// thick; a unit graded up or down in red or green.
fn draw_units(page: &mut Page, view: &View, data: &ChangeMapData, focus: Option<&ChangeUnit>) {
    let style = page.style.clone();
    let outline = colour(&style.units.outline, 1.0);
    for u in &data.units {
        let width = if focus.is_some_and(|f| f.code == u.code) {
            style.units.city_outline_mm
        } else {
            style.units.outline_mm
        };
        page.polygon(view, &u.boundary, None, Some((outline, page.mm(width))));
    }
    for u in &data.units {
        if let Some(mark) = u.mark {
            let c = mark_colour(&style, mark);
            page.polygon(
                view,
                &u.boundary,
                None,
                Some((c, page.mm(style.units.outline_mm * 2.5))),
            );
        }
    }
    if let (None, Some(city)) = (focus, &data.city) {
        page.polygon(
            view,
            city,
            None,
            Some((outline, page.mm(style.units.city_outline_mm))),
        );
    }
}

/// A cross of `size` pixels at (x, y).
fn cross(page: &mut Page, x: f32, y: f32, size: f32, c: Color) {
    let h = size * 0.5;
    let mut pb = PathBuilder::new();
    pb.move_to(x - h, y - h);
    pb.line_to(x + h, y + h);
    pb.move_to(x + h, y - h);
    pb.line_to(x - h, y + h);
    if let Some(path) = pb.finish() {
        page.canvas
            .stroke(&path, c, (size * 0.28).max(1.5), None, None);
    }
}

/// One mark at (x, y).
fn draw_mark(page: &mut Page, x: f32, y: f32, size: f32, mark: Mark) {
    let c = mark_colour(&page.style, mark);
    let halo = colour(&page.style.text.halo, 1.0);
    match mark {
        Mark::Up => page.triangle_pointing(x, y, size, 1.0, (c, halo)),
        Mark::Down => page.triangle_pointing(x, y, size, -1.0, (c, halo)),
        Mark::New => page
            .canvas
            .circle(x, y, size * 0.38, Some(halo), Some((c, size * 0.2))),
        Mark::Gone => cross(page, x, y, size * 0.7, c),
    }
}

/// The changed enterprises, the ones gone first and those graded up last, on top.
fn draw_marks(page: &mut Page, view: &View, points: &[&ChangePoint]) {
    let size = page.mm(page.style.points.major_hazard_mm) * 0.8;
    for mark in [Mark::Gone, Mark::New, Mark::Down, Mark::Up] {
        for p in points.iter().filter(|p| p.mark == mark) {
            let (x, y) = view.px(p.xy[0], p.xy[1]);
            if page.frame.holds(x, y) {
                draw_mark(page, x, y, size, mark);
            }
        }
    }
}

/// The legend: the enterprises' marks and the cells' steps the map shows.
fn change_legend(page: &Page, points: &[&ChangePoint], cells: [bool; 8]) -> Legend {
    let count = |m: Mark| points.iter().filter(|p| p.mark == m).count();
    let marks = [
        (Mark::Up, "风险等级升高企业"),
        (Mark::Down, "风险等级降低企业"),
        (Mark::New, "新增企业"),
        (Mark::Gone, "减少企业"),
    ]
    .into_iter()
    .filter(|(m, _)| count(*m) > 0)
    .map(|(mark, text)| Entry {
        paint: Box::new(move |page: &mut Page, x, y, size| draw_mark(page, x, y, size * 1.1, mark)),
        text: format!("{text} {} 家", count(mark)),
        colour: Some(mark_colour(&page.style, mark)),
    })
    .collect();
    let alpha = page.style.grid.alpha;
    let steps = [3i16, 2, 1, 0, -1, -2, -3]
        .into_iter()
        .filter(|s| cells[step_code(*s) as usize])
        .map(|s| {
            let text = match s {
                0 => "网格风险等级不变".to_string(),
                s if s > 0 => format!("网格风险等级升高 {} 级", s),
                s => format!("网格风险等级降低 {} 级", -s),
            };
            let fill = tint_of(page.style.change.colour(s), alpha);
            Entry {
                paint: fill_swatch(fill),
                text,
                colour: Some(fill),
            }
        })
        .collect();
    let mut legend = Legend::default();
    legend.section("企业", marks);
    legend.section("网格", steps);
    legend
}

/// The units' names, with their old and new grade where it changed.
fn label_units(page: &mut Page, view: &View, data: &ChangeMapData, focus: Option<&ChangeUnit>) {
    let size = page.pt(page.style.text.label_pt) * 1.25;
    let mut units: Vec<&ChangeUnit> = data.units.iter().collect();
    // The focus and the changed units are labelled first: they have priority.
    units.sort_by_key(|u| {
        (
            focus.is_none_or(|f| f.code != u.code),
            u.mark.is_none(),
            &u.code,
        )
    });
    for u in units {
        if let Some(p) = u.boundary.interior_point() {
            let (x, y) = view.px(p.x(), p.y());
            let text = if u.grades.is_empty() {
                u.name.clone()
            } else {
                format!("{} {}", u.name, u.grades)
            };
            page.label(&text, x, y, size, 0.0);
        }
    }
}
