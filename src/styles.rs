//! The canonical styles (`styles/*.toml`, compiled in): the four-colour
//! palette and the map symbols, from which every renderer (PNG maps, QGIS
//! styles) takes its colours and sizes.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::model::Grade;

const PALETTE: &str = include_str!("../styles/palette.toml");
const MAP_STYLE: &str = include_str!("../styles/map.toml");

/// How one grade is named and coloured, as read from `styles/palette.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeStyle {
    /// Chinese name of the grade, as legends, lists and reasons give it.
    pub label: String,
    /// The colour's Chinese name (红, 橙, 黄, 蓝).
    pub colour_name: String,
    /// Fill colour as `#RRGGBB`.
    pub fill: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Palette {
    grades: BTreeMap<String, GradeStyle>,
}

fn palette() -> &'static Palette {
    static P: OnceLock<Palette> = OnceLock::new();
    P.get_or_init(|| {
        toml::from_str(PALETTE).expect("styles/palette.toml is valid (checked by tests)")
    })
}

/// The style of a grade.
///
/// ```
/// use riskatlas::{model::Grade, styles};
/// assert_eq!(styles::grade(Grade::Red).fill, "#E60012");
/// ```
pub fn grade(g: Grade) -> &'static GradeStyle {
    &palette().grades[g.as_str()]
}

/// The Chinese name of a grade (重大风险 …), from the palette.
pub fn label(g: Grade) -> &'static str {
    &grade(g).label
}

/// The page of a rendered map.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageStyle {
    /// Page width.
    pub width_mm: f64,
    /// Page height.
    pub height_mm: f64,
    /// Resolution of the PNG.
    pub dpi: f64,
    /// Blank margin around the map frame.
    pub margin_mm: f64,
    /// Page colour.
    pub background: String,
    /// Whether the drawing is also kept for a vector PDF (set from the
    /// project file's `[maps] pdf`, not from the style file).
    #[serde(skip)]
    pub vector: bool,
}

/// The line around the map.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameStyle {
    /// Line colour.
    pub colour: String,
    /// Line width.
    pub width_mm: f64,
}

/// Text sizes (points) and colours.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextStyle {
    /// The map title.
    pub title_pt: f64,
    /// Unit and enterprise labels.
    pub label_pt: f64,
    /// Source, date and scale-bar text.
    pub small_pt: f64,
    /// Legend entries.
    pub legend_pt: f64,
    /// Text colour.
    pub colour: String,
    /// The halo drawn around labels.
    pub halo: String,
}

/// Administrative units.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitStyle {
    /// Boundary colour.
    pub outline: String,
    /// Boundary width of districts and towns.
    pub outline_mm: f64,
    /// Boundary width of the city.
    pub city_outline_mm: f64,
    /// Opacity of the grade fill.
    pub fill_alpha: f64,
    /// Fill of units outside the mapped one.
    pub neighbour_fill: String,
    /// Boundary of units outside the mapped one.
    pub neighbour_outline: String,
}

/// The exposure grid.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridStyle {
    /// Opacity of the cell fill.
    pub alpha: f64,
}

/// The colours of the change of cell grades (annual comparison).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeStyle {
    /// −3, −2, −1: graded lower.
    pub down: [String; 3],
    /// 0: the same grade.
    pub same: String,
    /// +1, +2, +3: graded higher.
    pub up: [String; 3],
}

impl ChangeStyle {
    /// The colour of a change of `step` levels (−3 … +3).
    pub fn colour(&self, step: i16) -> &str {
        match step {
            s if s < 0 => &self.down[(s.max(-3) + 3) as usize],
            0 => &self.same,
            s => &self.up[(s.min(3) - 1) as usize],
        }
    }
}

/// Point symbols and influence circles.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointStyle {
    /// Diameter of an enterprise point.
    pub enterprise_mm: f64,
    /// Size of a major-hazard triangle.
    pub major_hazard_mm: f64,
    /// Outline of a major-hazard triangle.
    pub major_hazard_outline: String,
    /// Colour of an influence circle.
    pub influence_outline: String,
    /// Width of an influence circle.
    pub influence_mm: f64,
    /// Outline of the enterprise an enterprise map is about.
    pub subject_outline: String,
    /// Vulnerable targets on the enterprise maps.
    pub target: String,
    /// Their outline.
    pub target_outline: String,
}

/// Hidden dangers: major ones larger, open ones coloured, overdue ones
/// outlined, rectified ones grey.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DangerStyle {
    /// Size of a major hidden danger.
    pub major_mm: f64,
    /// Size of a general one.
    pub general_mm: f64,
    /// A major hidden danger not yet being rectified (未整改).
    pub open_major: String,
    /// A major hidden danger being rectified (整改中).
    pub in_progress_major: String,
    /// An open general one.
    pub open_general: String,
    /// A rectified one.
    pub rectified: String,
    /// The outline that marks an overdue one.
    pub overdue_outline: String,
    /// Its width.
    pub overdue_outline_mm: f64,
}

/// Emergency resources by kind, and the rings that mark the high-risk
/// places covered or not.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceStyle {
    /// Symbol size of a resource.
    pub size_mm: f64,
    /// 救援队伍.
    pub rescue_team: String,
    /// 消防救援站.
    pub fire_station: String,
    /// 应急物资储备库.
    pub material_depot: String,
    /// 医院.
    pub hospital: String,
    /// 避难场所.
    pub shelter: String,
    /// Diameter of a high-risk place's ring.
    pub place_mm: f64,
    /// The ring of a covered place.
    pub covered: String,
    /// The ring of a place out of reach of some required kind.
    pub uncovered: String,
    /// The ring's width.
    pub ring_mm: f64,
}

impl ResourceStyle {
    /// The colour of a kind of resource.
    pub fn colour(&self, kind: crate::model::ResourceKind) -> &str {
        use crate::model::ResourceKind::*;
        match kind {
            RescueTeam => &self.rescue_team,
            FireStation => &self.fire_station,
            MaterialDepot => &self.material_depot,
            Hospital => &self.hospital,
            Shelter => &self.shelter,
        }
    }
}

/// Chemical parks' outline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParkStyle {
    /// Outline colour.
    pub outline: String,
    /// Outline width.
    pub outline_mm: f64,
}

/// Vulnerable targets by protection class.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetStyle {
    /// Symbol size.
    pub size_mm: f64,
    /// 高敏感 (schools, hospitals …).
    pub highly_sensitive: String,
    /// 重要 (residential areas, malls …).
    pub important: String,
    /// 一般.
    pub general: String,
}

/// The base layers under the risk data (colours `#RRGGBB`, widths in mm).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasemapStyle {
    /// Fill of the land around the study area (`[basemap.surroundings]`).
    pub surroundings: String,
    /// Outline of the surrounding units.
    pub surroundings_outline: String,
    /// Names of the surrounding units.
    pub surroundings_name: String,
    /// Hatching of built-up areas: 45° lines, drawn over the area fills
    /// without hiding their grade colours.
    pub built_up: String,
    /// Width of a hatching line.
    pub built_up_mm: f64,
    /// Distance between hatching lines.
    pub built_up_gap_mm: f64,
    /// Fill of water areas.
    pub water: String,
    /// Rivers, canals and the shores of water areas.
    pub river: String,
    /// Width of a water area's shore.
    pub shore_mm: f64,
    /// Width of a river.
    pub river_mm: f64,
    /// Width of a canal.
    pub canal_mm: f64,
    /// A railway's line.
    pub railway: String,
    /// The dashes inside a railway's line.
    pub railway_dash: String,
    /// Width of a railway.
    pub railway_mm: f64,
    /// Roads.
    pub road: String,
    /// Width of a road.
    pub road_mm: f64,
    /// Width of a major road at district scale.
    pub major_road_mm: f64,
    /// A place's dot and name.
    pub place: String,
    /// Diameter of a place's dot.
    pub place_mm: f64,
    /// Strength of a raster tile package over the map (0–1).
    pub tiles_strength: f64,
}

/// Boxes under the title, legend, scale bar and notes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FurnitureStyle {
    /// Box colour.
    #[serde(rename = "box")]
    pub box_: String,
    /// Opacity of the title box.
    pub title_alpha: f64,
    /// Opacity of the legend box.
    pub legend_alpha: f64,
    /// Opacity of the scale-bar box.
    pub scale_alpha: f64,
    /// Opacity of the notes box.
    pub note_alpha: f64,
    /// Outline of legend swatches.
    pub swatch_outline: String,
}

/// The locator inset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsetStyle {
    /// Fill of the other units.
    pub other_fill: String,
    /// Their outline.
    pub outline: String,
    /// Opacity of the mapped unit's highlight.
    pub highlight_alpha: f64,
}

/// The web map: zooms at which each class of feature appears, and the
/// screen size of the map symbols.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebStyle {
    /// The tiles' highest zoom.
    pub max_zoom: u8,
    /// Red and orange enterprises.
    pub enterprises_red_orange: u8,
    /// Yellow enterprises.
    pub enterprises_yellow: u8,
    /// Blue enterprises.
    pub enterprises_blue: u8,
    /// Names of red and orange enterprises.
    pub enterprise_labels: u8,
    /// Major hazard sources.
    pub major_hazards: u8,
    /// The other hazard units.
    pub other_hazard_units: u8,
    /// Major hidden dangers.
    pub major_dangers: u8,
    /// General hidden dangers.
    pub general_dangers: u8,
    /// Emergency resources.
    pub resources: u8,
    /// The high-risk places' coverage.
    pub coverage: u8,
    /// Vulnerable targets.
    pub targets: u8,
    /// Influence circles.
    pub influence_zones: u8,
    /// Town boundaries and names.
    pub towns: u8,
    /// The exposure grid.
    pub grid: u8,
    /// CSS pixels per millimetre of symbol size.
    pub px_per_mm: f64,
    /// The label font family.
    pub font: String,
}

/// `styles/map.toml`: page, furniture and symbols shared by every rendered
/// map and by the QGIS styles.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapStyle {
    /// The page.
    pub page: PageStyle,
    /// The map frame.
    pub frame: FrameStyle,
    /// Text.
    pub text: TextStyle,
    /// Administrative units.
    pub units: UnitStyle,
    /// The exposure grid.
    pub grid: GridStyle,
    /// The change of cell grades between two years.
    pub change: ChangeStyle,
    /// Points and influence circles.
    pub points: PointStyle,
    /// Hidden dangers.
    pub dangers: DangerStyle,
    /// Emergency resources and coverage.
    pub resources: ResourceStyle,
    /// Chemical parks.
    pub parks: ParkStyle,
    /// Vulnerable targets.
    pub targets: TargetStyle,
    /// The base layers.
    pub basemap: BasemapStyle,
    /// Title, legend and notes boxes.
    pub furniture: FurnitureStyle,
    /// The locator inset.
    pub inset: InsetStyle,
    /// The web map.
    pub web: WebStyle,
}

/// The compiled-in `styles/map.toml`.
pub fn map() -> &'static MapStyle {
    static S: OnceLock<MapStyle> = OnceLock::new();
    S.get_or_init(|| {
        toml::from_str(MAP_STYLE).expect("styles/map.toml is valid (checked by tests)")
    })
}

/// `#RRGGBB` → (r, g, b).
pub fn rgb(hex: &str) -> Option<(u8, u8, u8)> {
    let h = hex.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grade_has_a_colour_and_label() {
        for g in Grade::DESCENDING {
            let s = grade(g);
            assert!(rgb(&s.fill).is_some(), "{g}: {}", s.fill);
            assert!(!s.label.is_empty() && s.colour_name.chars().count() == 1);
        }
        assert_eq!(rgb("#0068B7"), Some((0, 0x68, 0xB7)));
        assert_eq!(rgb("0068B7"), None);
    }
}
