//! The hidden-danger maps (重大事故隐患分布电子图): the city's and one per
//! district. Major hidden dangers are drawn by how far rectification has
//! gone — not yet rectified (未整改) dark red, being rectified (整改中) a
//! lighter red, overdue ones larger and outlined in black — over open
//! general ones, smaller and lighter; rectified major ones are grey, and
//! rectified general ones are left out (the legend says how many). The
//! legend counts each class and the open major ones per district; a table
//! on the right lists the overdue major ones, longest overdue first. The
//! city map draws the classes, most urgent first, only as far as its scale
//! has room, and counts the rest.

use std::collections::HashMap;

use geo::MultiPolygon;
use tiny_skia::{Color, FillRule, PathBuilder};

use super::legend::{Entry, Legend};
use super::{
    base, bounds, city_inset, classes_that_fit, colour, count_lines, draw_city_inset,
    draw_frame_and_footer, draw_furniture, draw_inset, draw_outlines, draw_plain_district,
    inset_size, label_units, label_units_counted, legend_unit_lines, plan_map_left_of, title,
    Drawn, MapData, MapUnit, Page, Rect, RenderError, View,
};
use crate::model::DangerStatus;
use crate::styles::MapStyle;

/// A hidden danger to draw, in metric coordinates.
pub struct MapDanger {
    /// Hidden danger id.
    pub id: String,
    /// Easting/northing in the metric CRS.
    pub xy: [f64; 2],
    /// A major (重大) hidden danger.
    pub major: bool,
    /// Pending, in progress or rectified.
    pub status: DangerStatus,
    /// Open and past its due date on the data date.
    pub overdue: bool,
    /// Its district's code (else its town's).
    pub unit: Option<String>,
    /// Its district's name, for the table of overdue ones.
    pub district: String,
    /// Its enterprise's name; empty for a danger in a public place.
    pub enterprise: String,
    /// Its rectification deadline, `YYYY-MM-DD`, when given.
    pub due: String,
    /// Days past the deadline on the data date (0 when not overdue).
    pub days_overdue: i64,
}

/// How a hidden danger is drawn; the order is the drawing order, the most
/// urgent last, on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DangerClass {
    /// Rectified general ones: not drawn, counted in the legend's note.
    GeneralRectified,
    /// Rectified major ones.
    MajorRectified,
    /// General ones not yet rectified.
    GeneralOpen,
    /// General ones past their deadline.
    GeneralOverdue,
    /// Major ones being rectified.
    MajorInProgress,
    /// Major ones not yet being rectified.
    MajorPending,
    /// Major ones past their deadline.
    MajorOverdue,
}

impl DangerClass {
    /// Every class, in drawing order.
    pub const ALL: [DangerClass; 7] = [
        DangerClass::GeneralRectified,
        DangerClass::MajorRectified,
        DangerClass::GeneralOpen,
        DangerClass::GeneralOverdue,
        DangerClass::MajorInProgress,
        DangerClass::MajorPending,
        DangerClass::MajorOverdue,
    ];

    /// The classes drawn, the most important first (the order in which a
    /// map too small for them all leaves them out, from the last).
    pub const IMPORTANCE: [DangerClass; 6] = [
        DangerClass::MajorOverdue,
        DangerClass::MajorPending,
        DangerClass::MajorInProgress,
        DangerClass::GeneralOverdue,
        DangerClass::GeneralOpen,
        DangerClass::MajorRectified,
    ];

    /// The class of a hidden danger.
    pub fn of(d: &MapDanger) -> DangerClass {
        match (d.major, d.status, d.overdue) {
            (false, DangerStatus::Rectified, _) => DangerClass::GeneralRectified,
            (true, DangerStatus::Rectified, _) => DangerClass::MajorRectified,
            (false, _, false) => DangerClass::GeneralOpen,
            (false, _, true) => DangerClass::GeneralOverdue,
            (true, _, true) => DangerClass::MajorOverdue,
            (true, DangerStatus::InProgress, false) => DangerClass::MajorInProgress,
            (true, DangerStatus::Pending, false) => DangerClass::MajorPending,
        }
    }

    /// The legend's words for the class.
    fn label(self) -> &'static str {
        match self {
            DangerClass::MajorOverdue => "重大隐患 逾期未整改",
            DangerClass::MajorPending => "重大隐患 未整改",
            DangerClass::MajorInProgress => "重大隐患 整改中",
            DangerClass::MajorRectified => "重大隐患 已整改",
            DangerClass::GeneralOverdue => "一般隐患 逾期未整改",
            DangerClass::GeneralOpen => "一般隐患 未整改、整改中",
            DangerClass::GeneralRectified => "一般隐患 已整改",
        }
    }

    /// Open and major: what the per-district counts and the grading count.
    fn open_major(self) -> bool {
        matches!(
            self,
            DangerClass::MajorOverdue | DangerClass::MajorPending | DangerClass::MajorInProgress
        )
    }
}

/// A class's symbol: a diamond's size (px), fill and outline (colour, width px).
fn symbol(page: &Page, class: DangerClass) -> (f32, Color, Option<(Color, f32)>) {
    let d = &page.style.dangers;
    let major = page.mm(d.major_mm);
    let general = page.mm(d.general_mm);
    let overdue = Some((
        colour(&d.overdue_outline, 1.0),
        page.mm(d.overdue_outline_mm),
    ));
    let halo = Some((colour(&page.style.text.halo, 1.0), 0.8));
    match class {
        DangerClass::MajorOverdue => (major * 1.4, colour(&d.open_major, 1.0), overdue),
        DangerClass::MajorPending => (major, colour(&d.open_major, 1.0), halo),
        DangerClass::MajorInProgress => (major, colour(&d.in_progress_major, 1.0), halo),
        DangerClass::MajorRectified => (general, colour(&d.rectified, 1.0), halo),
        DangerClass::GeneralOverdue => (
            general,
            colour(&d.open_general, 1.0),
            overdue.map(|(c, w)| (c, w * 0.5)),
        ),
        DangerClass::GeneralOpen => (general * 0.85, colour(&d.open_general, 0.7), None),
        DangerClass::GeneralRectified => (general * 0.85, colour(&d.rectified, 0.5), None),
    }
}

/// A diamond of `size` px across at (x, y).
fn diamond(page: &mut Page, x: f32, y: f32, size: f32, fill: Color, outline: Option<(Color, f32)>) {
    let h = size / 2.0;
    let mut pb = PathBuilder::new();
    pb.move_to(x, y - h);
    pb.line_to(x + h, y);
    pb.line_to(x, y + h);
    pb.line_to(x - h, y);
    pb.close();
    let Some(path) = pb.finish() else {
        return;
    };
    page.canvas.fill(&path, fill, FillRule::Winding, None);
    if let Some((c, width)) = outline {
        page.canvas.stroke(&path, c, width, None, None);
    }
}

/// Draws the hidden dangers, the most urgent on top; rectified general ones
/// are left out.
fn draw_dangers(page: &mut Page, view: &View, dangers: &[&MapDanger]) {
    for class in DangerClass::ALL
        .into_iter()
        .filter(|c| *c != DangerClass::GeneralRectified)
    {
        let (size, fill, outline) = symbol(page, class);
        for d in dangers.iter().filter(|d| DangerClass::of(d) == class) {
            let (x, y) = view.px(d.xy[0], d.xy[1]);
            if page.frame.holds(x, y) {
                diamond(page, x, y, size, fill, outline);
            }
        }
    }
}

/// The classes the city map of `areas` framed by `env` draws: the most
/// important, as many as the scale has room for (see [`classes_that_fit`]).
fn classes_shown(
    page: &Page,
    areas: &[&MultiPolygon<f64>],
    env: ([f64; 2], [f64; 2]),
    dangers: &[&MapDanger],
) -> Vec<DangerClass> {
    let classes = DangerClass::IMPORTANCE.map(|c| {
        let n = dangers.iter().filter(|d| DangerClass::of(d) == c).count();
        let (size, ..) = symbol(page, c);
        (n, f64::from(size).powi(2) / 2.0)
    });
    let fit = classes_that_fit(page, areas, env, &classes);
    DangerClass::IMPORTANCE[..fit].to_vec()
}

/// The open major hidden dangers of each unit, by its code, as a line
/// under its name.
fn open_major_per_unit<'d>(dangers: &[&'d MapDanger]) -> HashMap<&'d str, String> {
    let open = dangers.iter().filter(|d| DangerClass::of(d).open_major());
    count_lines(open.filter_map(|d| d.unit.as_deref()), |n| {
        format!("未整改重大隐患 {n} 处")
    })
}

/// The overdue major hidden dangers, longest overdue first.
fn overdue_major<'d>(dangers: &[&'d MapDanger]) -> Vec<&'d MapDanger> {
    let mut late: Vec<&MapDanger> = dangers
        .iter()
        .copied()
        .filter(|d| DangerClass::of(d) == DangerClass::MajorOverdue)
        .collect();
    late.sort_by(|a, b| b.days_overdue.cmp(&a.days_overdue).then(a.id.cmp(&b.id)));
    late
}

/// The table column's width, in px; none when there is nothing to list.
fn table_width(page: &Page, late: &[&MapDanger]) -> f32 {
    if late.is_empty() {
        0.0
    } else {
        page.mm(80.0)
    }
}

/// `text` cut to `width` px, with an ellipsis where it was cut.
fn fit_text(page: &Page, text: &str, size: f32, width: f32) -> String {
    if page.measure(text, size).0 <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        out.push(c);
        if page.measure(&format!("{out}…"), size).0 > width {
            out.pop();
            break;
        }
    }
    format!("{out}…")
}

/// The table of overdue major hidden dangers in the right-hand column, as
/// many rows as fit; a last line gives how many more the list holds.
fn draw_overdue_table(page: &mut Page, late: &[&MapDanger], with_district: bool) {
    let width = table_width(page, late);
    if width == 0.0 {
        return;
    }
    let size = page.pt(page.style.text.small_pt);
    let head = page.pt(page.style.text.legend_pt);
    let line = size * 1.55;
    let pad = page.mm(2.5);
    let top = page.frame.t + page.mm(28.0);
    let bottom = page.frame.b - page.mm(18.0);
    let r = Rect {
        l: page.frame.r - width - page.mm(4.0),
        t: top,
        r: page.frame.r - page.mm(4.0),
        b: bottom,
    };
    let rows_room = ((r.b - r.t - 2.0 * pad - head * 1.8 - line * 2.0) / line).floor() as usize;
    let shown = late.len().min(rows_room.max(1));
    let height =
        2.0 * pad + head * 1.8 + line * (shown as f32 + 1.0 + f32::from(shown < late.len()));
    let r = Rect {
        b: r.t + height,
        ..r
    };
    let furniture = page.style.furniture.clone();
    page.rect(
        r,
        Some(colour(&furniture.box_, furniture.legend_alpha)),
        Some((colour(&page.style.frame.colour, 1.0), 1.0)),
    );
    let ink = colour(&page.style.text.colour, 1.0);
    let heading = format!("逾期未整改重大隐患 {} 处", late.len());
    page.text(&heading, r.l + pad, r.t + pad, head, ink, None);
    let inner = r.r - r.l - 2.0 * pad;
    // Column starts as shares of the table's inner width.
    let columns: &[(&str, f32)] = if with_district {
        &[
            ("企业（场所）", 0.0),
            ("区县", 0.46),
            ("整改期限", 0.64),
            ("逾期天数", 0.86),
        ]
    } else {
        &[
            ("企业（场所）", 0.0),
            ("隐患编号", 0.44),
            ("整改期限", 0.64),
            ("逾期天数", 0.86),
        ]
    };
    let y0 = r.t + pad + head * 1.8;
    let grey = colour(&furniture.swatch_outline, 1.0);
    for (name, at) in columns {
        page.text(name, r.l + pad + inner * at, y0, size, grey, None);
    }
    for (i, d) in late.iter().take(shown).enumerate() {
        let y = y0 + line * (i as f32 + 1.0);
        let place = if d.enterprise.is_empty() {
            d.id.as_str()
        } else {
            d.enterprise.as_str()
        };
        let second = if with_district { &d.district } else { &d.id };
        let cells = [
            fit_text(page, place, size, inner * (columns[1].1 - 0.02)),
            fit_text(
                page,
                second,
                size,
                inner * (columns[2].1 - columns[1].1 - 0.02),
            ),
            d.due.clone(),
            format!("{} 天", d.days_overdue),
        ];
        for (text, (_, at)) in cells.iter().zip(columns) {
            page.text(text, r.l + pad + inner * at, y, size, ink, None);
        }
    }
    if shown < late.len() {
        let more = format!("另有 {} 处，见 lists/重大隐患清单", late.len() - shown);
        let y = y0 + line * (shown as f32 + 1.0);
        page.text(&more, r.l + pad, y, size, grey, None);
    }
    page.taken.push(r);
}

/// Open major hidden dangers per unit: (name, open, of which overdue),
/// the most first.
fn per_unit(units: &[&MapUnit], dangers: &[&MapDanger]) -> Vec<(String, usize, usize)> {
    let mut rows: Vec<(String, usize, usize)> = units
        .iter()
        .map(|u| {
            let open = dangers
                .iter()
                .filter(|d| d.unit.as_deref() == Some(u.code.as_str()))
                .map(|d| DangerClass::of(d))
                .filter(|c| c.open_major());
            let (n, late) = open.fold((0, 0), |(n, late), c| {
                (n + 1, late + usize::from(c == DangerClass::MajorOverdue))
            });
            (u.name.clone(), n, late)
        })
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)));
    rows
}

/// The legend: each class the map draws (of `shown`) with its count, then
/// (on the city map) the open major hidden dangers per district, as many as
/// fit; a note counts the classes left out.
fn danger_legend(
    page: &Page,
    dangers: &[&MapDanger],
    units: &[&MapUnit],
    shown: &[DangerClass],
) -> Legend {
    let count = |c: DangerClass| dangers.iter().filter(|d| DangerClass::of(d) == c).count();
    let entries = DangerClass::ALL
        .iter()
        .rev()
        .filter(|c| shown.contains(c) && **c != DangerClass::GeneralRectified && count(**c) > 0)
        .map(|c| {
            let class = *c;
            let (_, fill, _) = symbol(page, class);
            Entry {
                paint: Box::new(move |page: &mut Page, x, y, size| {
                    let (s, fill, outline) = symbol(page, class);
                    diamond(page, x, y, s.max(size * 0.7), fill, outline);
                }),
                text: format!("{} {} 处", class.label(), count(class)),
                colour: (fill.alpha() == 1.0).then_some(fill),
            }
        })
        .collect();
    let mut legend = Legend::default();
    legend.section("隐患", entries);
    let left_out: Vec<String> = DangerClass::IMPORTANCE
        .iter()
        .filter(|c| !shown.contains(c) && count(**c) > 0)
        .map(|c| format!("　{} {} 处", c.label(), count(*c)))
        .collect();
    if !left_out.is_empty() {
        legend.notes.push("本比例尺下未逐一绘出：".to_string());
        legend.notes.extend(left_out);
    }
    let rectified = count(DangerClass::GeneralRectified);
    if rectified > 0 {
        legend
            .notes
            .push(format!("已整改一般隐患 {rectified} 处未绘出"));
    }
    let small = page.pt(page.style.text.small_pt);
    let fixed = legend.size(page, f32::INFINITY).1;
    let rows = per_unit(units, dangers);
    legend.notes.extend(legend_unit_lines(
        page,
        (fixed, small),
        "各区县未整改重大隐患（其中逾期）",
        &rows,
        |(name, n, late)| format!("{name}  {n}（{late}）"),
        |rest| {
            let open: usize = rest.iter().map(|r| r.1).sum();
            format!("其余 {} 个区县  {open}", rest.len())
        },
    ));
    legend
}

/// The left edge of the overdue table's column (the frame's right edge
/// when there is no table).
fn table_left(page: &Page, late: &[&MapDanger]) -> f32 {
    let table = table_width(page, late);
    if table > 0.0 {
        page.frame.r - table - page.mm(8.0)
    } else {
        page.frame.r
    }
}

/// The city's hidden-danger map.
pub fn city_danger_map(
    data: &MapData,
    style: &MapStyle,
    font: &ab_glyph::FontVec,
) -> Result<Drawn, RenderError> {
    let mut page = Page::new(style, font)?;
    let dangers: Vec<&MapDanger> = data.dangers.iter().collect();
    let units: Vec<&MapUnit> = data.units.iter().collect();
    let late = overdue_major(&dangers);
    let outlines: Vec<&MultiPolygon<f64>> = units.iter().map(|u| &u.boundary).collect();
    let (min, max) = bounds(&outlines);
    let title_text = title(data, &data.area_name, "重大事故隐患分布电子图");
    let shown = classes_shown(&page, &outlines, (min, max), &dangers);
    let drawn: Vec<&MapDanger> = dangers
        .iter()
        .copied()
        .filter(|d| shown.contains(&DangerClass::of(d)))
        .collect();
    let mut legend = danger_legend(&page, &dangers, &units, &shown);
    base::settle_scale(&mut page, min, max);
    legend.section("底图", base::legend_entries(&page, &data.base, min, max));
    let right = table_left(&page, &late);
    let inset = city_inset(&page, data);
    let view = plan_map_left_of(
        &mut page,
        right,
        &outlines,
        (min, max),
        &title_text,
        &legend,
        inset,
    );
    base::draw_all(&mut page, &view, &data.base);
    draw_outlines(
        &mut page,
        &view,
        &units,
        data.city.as_ref().map(|c| &c.boundary),
    );
    draw_dangers(&mut page, &view, &drawn);
    draw_furniture(&mut page, &view, &legend, &title_text);
    draw_city_inset(&mut page, data);
    draw_overdue_table(&mut page, &late, true);
    let label = page.pt(style.text.label_pt) * 1.25;
    // Open major ones too many to draw are counted under each unit's name.
    let counts =
        (!shown.contains(&DangerClass::MajorOverdue)).then(|| open_major_per_unit(&dangers));
    label_units_counted(&mut page, &view, &units, label, counts.as_ref());
    base::label_places(&mut page, &view, &data.base);
    draw_frame_and_footer(&mut page, data);
    Ok(page.encode())
}

/// One district's hidden-danger map: its neighbours grey, its towns
/// outlined, the hidden dangers in it, the overdue major ones labelled with
/// their enterprise, and an inset locating it in the city.
pub fn district_danger_map(
    data: &MapData,
    unit: &MapUnit,
    dangers: &[&MapDanger],
    style: &MapStyle,
    font: &ab_glyph::FontVec,
) -> Result<Drawn, RenderError> {
    let mut page = Page::new(style, font)?;
    let late = overdue_major(dangers);
    let (min, max) = bounds(&[&unit.boundary]);
    let name = format!("{}{}", data.area_name, unit.name);
    let title_text = title(data, &name, "重大事故隐患分布图");
    let mut legend = danger_legend(&page, dangers, &[], &DangerClass::IMPORTANCE);
    base::settle_scale(&mut page, min, max);
    legend.section("底图", base::legend_entries(&page, &data.base, min, max));
    let right = table_left(&page, &late);
    let inset = Some(inset_size(&page));
    let view = plan_map_left_of(
        &mut page,
        right,
        &[&unit.boundary],
        (min, max),
        &title_text,
        &legend,
        inset,
    );
    base::draw_all(&mut page, &view, &data.base);
    let towns = draw_plain_district(&mut page, &view, data, unit);
    draw_dangers(&mut page, &view, dangers);
    draw_furniture(&mut page, &view, &legend, &title_text);
    draw_overdue_table(&mut page, &late, false);
    draw_inset(&mut page, data, unit);
    let label = page.pt(style.text.label_pt) * 1.3;
    label_units(&mut page, &view, &[unit], label);
    let small = page.pt(style.text.small_pt);
    let gap = page.mm(style.dangers.major_mm);
    for d in late.iter().filter(|d| !d.enterprise.is_empty()) {
        let (x, y) = view.px(d.xy[0], d.xy[1]);
        page.label(&d.enterprise, x, y, small, gap);
    }
    label_units(&mut page, &view, &towns, small * 1.1);
    base::label_places(&mut page, &view, &data.base);
    draw_frame_and_footer(&mut page, data);
    Ok(page.encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn danger(id: &str, unit: &str, major: bool, status: DangerStatus, overdue: bool) -> MapDanger {
        MapDanger {
            id: id.to_string(),
            xy: [0.0, 0.0],
            major,
            status,
            overdue,
            unit: Some(unit.to_string()),
            district: String::new(),
            enterprise: String::new(),
            due: String::new(),
            days_overdue: if overdue { 10 } else { 0 },
        }
    }

    #[test]
    fn a_danger_is_classed_by_level_progress_and_deadline() {
        use DangerStatus::*;
        let class =
            |major, status, overdue| DangerClass::of(&danger("D", "U", major, status, overdue));
        assert_eq!(class(true, Pending, true), DangerClass::MajorOverdue);
        assert_eq!(class(true, InProgress, true), DangerClass::MajorOverdue);
        assert_eq!(class(true, Pending, false), DangerClass::MajorPending);
        assert_eq!(class(true, InProgress, false), DangerClass::MajorInProgress);
        assert_eq!(class(true, Rectified, false), DangerClass::MajorRectified);
        assert_eq!(class(false, InProgress, true), DangerClass::GeneralOverdue);
        assert_eq!(class(false, Pending, false), DangerClass::GeneralOpen);
        assert_eq!(
            class(false, Rectified, false),
            DangerClass::GeneralRectified
        );
    }

    #[test]
    fn units_are_counted_by_open_major_dangers_most_first() {
        use DangerStatus::*;
        let ds = [
            danger("1", "A", true, Pending, true),
            danger("2", "A", true, Rectified, false),
            danger("3", "B", true, InProgress, false),
            danger("4", "B", true, Pending, true),
            danger("5", "B", false, Pending, true),
            danger("6", "C", false, Pending, false),
        ];
        let refs: Vec<&MapDanger> = ds.iter().collect();
        let unit = |code: &str| MapUnit {
            code: code.to_string(),
            name: format!("{code}区"),
            boundary: MultiPolygon(vec![]),
            grade: None,
        };
        let units = [unit("A"), unit("B"), unit("C")];
        let units: Vec<&MapUnit> = units.iter().collect();
        assert_eq!(
            per_unit(&units, &refs),
            [
                ("B区".to_string(), 2, 1),
                ("A区".to_string(), 1, 1),
                ("C区".to_string(), 0, 0)
            ]
        );
        let late: Vec<&str> = overdue_major(&refs).iter().map(|d| d.id.as_str()).collect();
        assert_eq!(late, ["1", "4"]);
    }
}
