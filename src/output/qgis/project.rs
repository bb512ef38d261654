//! `riskatlas.qgs`: a QGIS project over the output folder — every layer of
//! the GeoPackage and the exposure GeoTIFF by relative path, styled, in
//! groups and in drawing order, in the metric CRS, opened on the study area —
//! with a print layout whose atlas makes the district map for each district.

use super::qml::{self, num, DOCTYPE, LABEL_FONT, QGIS_VERSION};
use super::symbology::symbology;
use super::xml::Xml;
use crate::ingest::config::Thresholds;
use crate::output::layers::{def, GeometryKind, Layer};
use crate::output::EXPOSURE_TITLE;
use crate::styles;

/// The project's file name in the output folder.
pub const FILE: &str = "riskatlas.qgs";
/// The print layout's name.
pub const LAYOUT: &str = "区县图集";
const RASTER_ID: &str = "exposure_tif";
const RASTER_GROUP: &str = "风险网格";

/// What the project says about the run.
pub struct ProjectInfo<'a> {
    /// The area's name (常州市), the start of every map title.
    pub area_name: &'a str,
    /// Data year.
    pub year: i32,
    /// The data date, `YYYY-MM-DD`.
    pub data_date: &'a str,
    /// The maps' source line.
    pub source: &'a str,
    /// EPSG code of the metric CRS: the project's CRS.
    pub epsg: u32,
    /// Its WKT (QGIS identifies a CRS in a project by its WKT).
    pub metric_wkt: &'a str,
    /// The WKT of WGS 84, the GeoPackage's CRS.
    pub wgs84_wkt: &'a str,
    /// The study area in the metric CRS: min x, min y, max x, max y.
    pub extent: [f64; 4],
    /// The exposure grade thresholds, for the raster's ramp.
    pub thresholds: &'a Thresholds,
}

/// One layer of the project: a vector layer of the catalogue or the raster.
#[derive(Clone, Copy, PartialEq)]
enum Entry {
    Vector(Layer),
    Raster,
}

impl Entry {
    fn id(self) -> &'static str {
        match self {
            Entry::Vector(l) => l.as_str(),
            Entry::Raster => RASTER_ID,
        }
    }
    fn title(self) -> &'static str {
        match self {
            Entry::Vector(l) => &def(l).title,
            Entry::Raster => EXPOSURE_TITLE,
        }
    }
    fn group(self) -> &'static str {
        match self {
            Entry::Vector(l) => &def(l).group,
            Entry::Raster => RASTER_GROUP,
        }
    }
    /// Drawing rank: the raster just above the grid cells it repeats.
    fn rank(self) -> (i32, bool) {
        match self {
            Entry::Vector(l) => (def(l).draw_order, false),
            Entry::Raster => (def(Layer::ExposureGrid).draw_order, true),
        }
    }
    fn source(self) -> String {
        match self {
            Entry::Vector(l) => format!("./riskatlas.gpkg|layername={l}"),
            Entry::Raster => "./exposure.tif".to_string(),
        }
    }
    fn provider(self) -> &'static str {
        match self {
            Entry::Vector(_) => "ogr",
            Entry::Raster => "gdal",
        }
    }
    /// Shown when the project opens: the raster stands for the grid cells,
    /// whose layer is there to be queried.
    fn visible(self) -> bool {
        self != Entry::Vector(Layer::ExposureGrid)
    }
}

/// Whether a layer has entries in the atlas legend.
fn in_legend(e: Entry) -> bool {
    !matches!(
        e,
        Entry::Vector(Layer::ExposureGrid) | Entry::Vector(Layer::InfluenceZones)
    )
}

/// Every layer, top of the drawing order first.
fn entries() -> Vec<Entry> {
    let mut all: Vec<Entry> = Layer::ALL.into_iter().map(Entry::Vector).collect();
    all.push(Entry::Raster);
    all.sort_by_key(|e| std::cmp::Reverse(e.rank()));
    all
}

fn srs(x: &mut Xml, epsg: u32, wkt: &str) {
    x.open("spatialrefsys", &[]);
    x.text("wkt", &[], wkt);
    x.text("authid", &[], &format!("EPSG:{epsg}"));
    x.close();
}

/// The project's CRS: the metric one.
fn metric_srs(x: &mut Xml, info: &ProjectInfo) {
    srs(x, info.epsg, info.metric_wkt);
}

fn checked(on: bool) -> &'static str {
    if on {
        "Qt::Checked"
    } else {
        "Qt::Unchecked"
    }
}

/// A layer's node in a layer tree (the project's or a legend's).
fn tree_layer(x: &mut Xml, e: Entry, visible: bool) {
    x.empty(
        "layer-tree-layer",
        &[
            ("id", e.id()),
            ("name", e.title()),
            ("source", &e.source()),
            ("providerKey", e.provider()),
            ("checked", checked(visible)),
            ("expanded", "1"),
        ],
    );
}

/// The layer tree: groups in the order of their topmost layer, and the
/// drawing order set explicitly, since a group holds layers of different ranks.
fn layer_tree(x: &mut Xml, all: &[Entry]) {
    x.open("layer-tree-group", &[]);
    let mut groups: Vec<&str> = Vec::new();
    for e in all {
        if !groups.contains(&e.group()) {
            groups.push(e.group());
        }
    }
    for g in groups {
        x.open(
            "layer-tree-group",
            &[("name", g), ("checked", "Qt::Checked"), ("expanded", "1")],
        );
        for e in all.iter().filter(|e| e.group() == g) {
            tree_layer(x, *e, e.visible());
        }
        x.close();
    }
    x.open("custom-order", &[("enabled", "1")]);
    for e in all {
        x.text("item", &[], e.id());
    }
    x.close().close();
}

fn map_layer(x: &mut Xml, e: Entry, info: &ProjectInfo) {
    match e {
        Entry::Vector(l) => {
            let d = def(l);
            let (geometry, wkb) = match d.geometry {
                GeometryKind::Point => ("Point", "Point"),
                GeometryKind::MultiPolygon => ("Polygon", "MultiPolygon"),
            };
            let s = symbology(l);
            x.open(
                "maplayer",
                &[
                    ("type", "vector"),
                    ("geometry", geometry),
                    ("wkbType", wkb),
                    ("labelsEnabled", s.labels_flag()),
                    ("styleCategories", "AllStyleCategories"),
                ],
            );
            layer_head(x, e, 4326, info.wgs84_wkt);
            qml::vector_style(x, d, &s);
        }
        Entry::Raster => {
            x.open("maplayer", &[("type", "raster")]);
            layer_head(x, e, info.epsg, info.metric_wkt);
            let t = info.thresholds;
            qml::raster_style(x, t.yellow, t.orange, t.red);
        }
    }
    x.close();
}

fn layer_head(x: &mut Xml, e: Entry, epsg: u32, wkt: &str) {
    x.text("id", &[], e.id());
    x.text("datasource", &[], &e.source());
    x.text("layername", &[], e.title());
    x.open("srs", &[]);
    srs(x, epsg, wkt);
    x.close();
    x.text("provider", &[("encoding", "UTF-8")], e.provider());
}

fn extent_attrs(e: [f64; 4]) -> [(&'static str, String); 4] {
    [
        ("xmin", num(e[0])),
        ("ymin", num(e[1])),
        ("xmax", num(e[2])),
        ("ymax", num(e[3])),
    ]
}

fn as_refs<'a>(a: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    a.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Where the project opens: the study area, with a margin.
fn view(x: &mut Xml, info: &ProjectInfo) {
    let [x0, y0, x1, y1] = info.extent;
    let m = 0.03 * (x1 - x0).max(y1 - y0);
    let e = extent_attrs([x0 - m, y0 - m, x1 + m, y1 + m]);
    x.open(
        "ProjectViewSettings",
        &[("UseProjectScales", "0"), ("rotation", "0")],
    );
    x.empty("Scales", &[]);
    x.open("DefaultViewExtent", &as_refs(&e));
    metric_srs(x, info);
    x.close().close();
}

/// `extent` widened in one direction to the width/height ratio `aspect`, about its centre.
fn fit(extent: [f64; 4], aspect: f64) -> [f64; 4] {
    let [x0, y0, x1, y1] = extent;
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let (mut w, mut h) = (x1 - x0, y1 - y0);
    if w / h < aspect {
        w = h * aspect;
    } else {
        h = w / aspect;
    }
    [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
}

/// A Qt font description (family, size, weight: 50 regular, 75 bold).
fn font(size_pt: f64, bold: bool) -> String {
    let weight = if bold { 75 } else { 50 };
    format!("{LABEL_FONT},{},-1,5,{weight},0,0,0,0,0", num(size_pt))
}

const MAP_UUID: &str = "{7a1c2b10-0000-4000-8000-000000000001}";

/// The common attributes of a layout item at `pos` (mm) of `size` (mm).
fn item_attrs(
    kind: u32,
    uuid: &str,
    pos: (f64, f64),
    size: (f64, f64),
    z: u32,
    extra: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    let mut a = vec![
        ("type", kind.to_string()),
        ("uuid", uuid.to_string()),
        ("templateUuid", uuid.to_string()),
        ("position", format!("{},{},mm", num(pos.0), num(pos.1))),
        (
            "positionOnPage",
            format!("{},{},mm", num(pos.0), num(pos.1)),
        ),
        ("size", format!("{},{},mm", num(size.0), num(size.1))),
        ("zValue", z.to_string()),
        ("visibility", "1".to_string()),
    ];
    a.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    a
}

fn label_item(
    x: &mut Xml,
    uuid: &str,
    text: &str,
    pos: (f64, f64),
    size: (f64, f64),
    font_desc: &str,
    halign: &str,
) {
    let a = item_attrs(
        65641,
        uuid,
        pos,
        size,
        10,
        &[
            ("labelText", text),
            ("htmlState", "0"),
            ("halign", halign),
            ("valign", "128"),
            ("marginX", "1"),
            ("marginY", "0"),
            ("frame", "false"),
            ("background", "false"),
        ],
    );
    x.open("LayoutItem", &as_refs(&a));
    x.empty("LabelFont", &[("description", font_desc), ("style", "")]);
    x.empty(
        "FontColor",
        &[
            ("red", "17"),
            ("green", "17"),
            ("blue", "17"),
            ("alpha", "255"),
        ],
    );
    x.close();
}

/// The district atlas: A4 landscape as the PNG maps (title with the
/// district's name, the map, legend, scale bar, north arrow, source and date).
fn layout(x: &mut Xml, info: &ProjectInfo) {
    let page = &styles::map().page;
    let (w, h, m) = (page.width_mm, page.height_mm, page.margin_mm);
    let text = &styles::map().text;
    let panel = 62.0;
    let top = m + 14.0;
    let map_pos = (m, top);
    let map_size = (w - 2.0 * m - panel - 4.0, h - top - m - 6.0);
    x.open(
        "Layout",
        &[
            ("name", LAYOUT),
            ("units", "mm"),
            ("printResolution", "300"),
        ],
    );
    x.open("PageCollection", &[]);
    let page_item = item_attrs(
        65638,
        "{7a1c2b10-0000-4000-8000-000000000000}",
        (0.0, 0.0),
        (w, h),
        0,
        &[],
    );
    x.empty("LayoutItem", &as_refs(&page_item));
    x.empty("GuideCollection", &[("visible", "1")]);
    x.close();
    // The map, following the atlas feature with a margin.
    let a = item_attrs(
        65639,
        MAP_UUID,
        map_pos,
        map_size,
        1,
        &[
            ("frame", "true"),
            ("background", "true"),
            ("outlineWidthM", "0.6,mm"),
            ("keepLayerSet", "false"),
            ("drawCanvasItems", "true"),
        ],
    );
    x.open("LayoutItem", &as_refs(&a));
    // QGIS resizes a map item to its extent's shape: give it the item's.
    let fitted = fit(info.extent, map_size.0 / map_size.1);
    x.empty("Extent", &as_refs(&extent_attrs(fitted)));
    x.open("crs", &[]);
    metric_srs(x, info);
    x.close();
    x.empty("LayerSet", &[]);
    x.empty(
        "AtlasMap",
        &[
            ("atlasDriven", "1"),
            ("scalingMode", "2"),
            ("margin", "0.08"),
        ],
    );
    x.close();
    let title = format!(
        "{}[% \"name\" %]{}年安全风险分布图",
        info.area_name, info.year
    );
    label_item(
        x,
        "{7a1c2b10-0000-4000-8000-000000000002}",
        &title,
        (m, m),
        (w - 2.0 * m, 12.0),
        &font(text.title_pt, true),
        "4",
    );
    // The legend beside the map: every layer shown, as QGIS keeps it up to date.
    let a = item_attrs(
        65642,
        "{7a1c2b10-0000-4000-8000-000000000003}",
        (w - m - panel, top),
        (panel, map_size.1),
        5,
        &[
            ("map_uuid", MAP_UUID),
            ("title", "图例"),
            ("resizeToContents", "1"),
            ("symbolWidth", "6"),
            ("symbolHeight", "3.5"),
            ("columnCount", "1"),
            ("legendFilterByAtlas", "0"),
            // Only what the page shows.
            ("legendFilterByMap", "1"),
            ("frame", "true"),
            ("background", "true"),
        ],
    );
    x.open("LayoutItem", &as_refs(&a));
    // The legend's own list: the layers a district map explains, without
    // groups (each layer heads its entries) and without the grid cells the
    // raster repeats or the influence circles.
    x.open("layer-tree-group", &[]);
    for e in entries().into_iter().filter(|e| in_legend(*e)) {
        tree_layer(x, e, true);
    }
    x.close();
    x.open("styles", &[]);
    for (name, size) in [
        ("title", text.legend_pt + 3.0),
        ("group", text.legend_pt + 1.0),
        ("subgroup", text.legend_pt),
        ("symbol", text.legend_pt),
        ("symbolLabel", text.legend_pt),
    ] {
        x.open("style", &[("name", name), ("marginTop", "1.5")]);
        x.empty(
            "styleFont",
            &[("description", &font(size, name == "title")), ("style", "")],
        );
        x.close();
    }
    x.close().close();
    // Scale bar in kilometres and the north arrow, under the legend.
    let bottom = top + map_size.1;
    let a = item_attrs(
        65646,
        "{7a1c2b10-0000-4000-8000-000000000004}",
        (m + 3.0, bottom - 13.0),
        (50.0, 10.0),
        6,
        &[
            ("mapUuid", MAP_UUID),
            ("style", "Single Box"),
            ("unitType", "kilometers"),
            ("unitLabel", "公里"),
            ("numSegments", "2"),
            ("numSegmentsLeft", "0"),
            ("numSubdivisions", "1"),
            ("segmentSizeMode", "1"),
            ("minBarWidth", "20"),
            ("maxBarWidth", "45"),
            ("numUnitsPerSegment", "1"),
            ("numMapUnitsPerScaleBarUnit", "1000"),
            ("height", "2.5"),
            ("labelBarSpace", "2"),
            ("boxContentSpace", "1"),
            ("background", "true"),
        ],
    );
    x.open("LayoutItem", &as_refs(&a));
    let small = num(text.small_pt);
    x.empty(
        "text-style",
        &[
            ("fontFamily", LABEL_FONT),
            ("fontSize", &small),
            ("fontSizeUnit", "Point"),
            ("textColor", "17,17,17,255"),
        ],
    );
    x.close();
    let a = item_attrs(
        65640,
        "{7a1c2b10-0000-4000-8000-000000000005}",
        (m + map_size.0 - 14.0, top + 3.0),
        (10.0, 16.0),
        7,
        &[
            (
                "file",
                ":/images/north_arrows/layout_default_north_arrow.svg",
            ),
            ("mode", "0"),
            ("resizeMode", "0"),
            ("mapUuid", MAP_UUID),
            ("northMode", "0"),
            ("northOffset", "0"),
            ("anchorPoint", "4"),
        ],
    );
    x.empty("LayoutItem", &as_refs(&a));
    let line = format!(
        "{}　数据截至 {}　制图：riskatlas",
        info.source, info.data_date
    );
    label_item(
        x,
        "{7a1c2b10-0000-4000-8000-000000000006}",
        &line,
        (m, bottom + 1.0),
        (map_size.0, 5.0),
        &font(text.small_pt, false),
        "1",
    );
    let admin = def(Layer::AdminUnits);
    x.empty(
        "Atlas",
        &[
            ("enabled", "1"),
            ("coverageLayer", admin.name.as_str()),
            ("coverageLayerName", &admin.title),
            (
                "coverageLayerSource",
                &Entry::Vector(Layer::AdminUnits).source(),
            ),
            ("coverageLayerProvider", "ogr"),
            ("hideCoverage", "0"),
            ("filterFeatures", "1"),
            ("featureFilter", "\"level\" = 'district'"),
            ("pageNameExpression", "\"name\""),
            ("sortFeatures", "1"),
            ("sortKey", "code"),
            ("sortAscending", "1"),
            ("filenamePattern", "'district_' || \"code\""),
        ],
    );
    x.close();
}

/// The project file's text.
pub fn project(info: &ProjectInfo) -> String {
    let all = entries();
    let mut x = Xml::new(DOCTYPE);
    let title = format!("{}{}年安全风险分布电子图", info.area_name, info.year);
    x.open(
        "qgis",
        &[("version", QGIS_VERSION), ("projectname", &title)],
    );
    x.empty("homePath", &[("path", "")]);
    x.text("title", &[], &title);
    x.open("projectCrs", &[]);
    metric_srs(&mut x, info);
    x.close();
    layer_tree(&mut x, &all);
    x.open("projectlayers", &[]);
    for e in &all {
        map_layer(&mut x, *e, info);
    }
    x.close();
    x.open("layerorder", &[]);
    for e in &all {
        x.empty("layer", &[("id", e.id())]);
    }
    x.close();
    x.open("properties", &[]);
    x.open("Paths", &[]);
    x.text("Absolute", &[("type", "bool")], "false");
    x.close();
    // Without this QGIS ignores the project CRS.
    x.open("SpatialRefSys", &[]);
    x.text("ProjectionsEnabled", &[("type", "int")], "1");
    x.close().close();
    view(&mut x, info);
    x.open("Layouts", &[]);
    layout(&mut x, info);
    x.close();
    x.close();
    x.finish()
}
