//! What each layer looks like, made from `styles/` (the palette and the map
//! symbols): one description from which the QML and the SLD are both written,
//! so the two cannot disagree with each other or with the PNG maps.

use crate::model::{AdminLevel, DangerLevel, DangerStatus, Grade, Protection, ResourceKind};
use crate::output::layers::{Layer, Value};
use crate::styles;

/// A colour with its opacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgba(pub u8, pub u8, pub u8, pub u8);

impl Rgba {
    /// `#RRGGBB` from `styles/` at opacity `alpha` (0–1).
    pub fn hex(hex: &str, alpha: f64) -> Rgba {
        let (r, g, b) = styles::rgb(hex).expect("styles/ colours are #RRGGBB (checked by tests)");
        Rgba(r, g, b, (alpha.clamp(0.0, 1.0) * 255.0).round() as u8)
    }

    /// `#rrggbb`, as SLD writes a colour.
    pub fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// `r,g,b,a`, as QGIS writes a colour.
    pub fn to_qgis(self) -> String {
        format!("{},{},{},{}", self.0, self.1, self.2, self.3)
    }

    /// Opacity 0–1.
    pub fn opacity(self) -> f64 {
        f64::from(self.3) / 255.0
    }
}

/// The palette colour of a grade, opaque.
fn grade_colour(g: Grade) -> Rgba {
    Rgba::hex(&styles::grade(g).fill, 1.0)
}

/// A point marker's shape, by its QGIS name (also SLD's well-known name
/// where SLD has one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Enterprises.
    Circle,
    /// Hazard units.
    Triangle,
    /// Vulnerable targets.
    Square,
    /// Hidden dangers.
    Diamond,
}

impl Shape {
    /// QGIS's name of the shape, also its SLD well-known name (SLD has no
    /// diamond: QGIS reads `diamond` back as one).
    pub fn name(self) -> &'static str {
        match self {
            Shape::Circle => "circle",
            Shape::Triangle => "triangle",
            Shape::Square => "square",
            Shape::Diamond => "diamond",
        }
    }
}

/// A line: colour and width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    /// Colour.
    pub colour: Rgba,
    /// Width in millimetres.
    pub width_mm: f64,
    /// Dashed rather than solid.
    pub dashed: bool,
}

/// How one class of features is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Symbol {
    /// A point marker.
    Marker {
        /// Shape.
        shape: Shape,
        /// Diameter in millimetres.
        size_mm: f64,
        /// Fill; `None` for a hollow marker.
        fill: Option<Rgba>,
        /// Outline.
        outline: Line,
    },
    /// A polygon: fill and outline, each optional.
    Fill {
        /// Fill; `None` for an outline only.
        fill: Option<Rgba>,
        /// Outline; `None` for none.
        outline: Option<Line>,
    },
}

/// A literal a filter compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// Text.
    Str(&'static str),
    /// An integer.
    Int(i64),
}

/// Which features a rule draws; written as a QGIS expression and as an OGC filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// The field equals the literal.
    Eq(&'static str, Lit),
    /// The field holds one of the strings.
    In(&'static str, Vec<&'static str>),
    /// The boolean field is true.
    IsTrue(&'static str),
    /// The boolean field is false.
    IsFalse(&'static str),
    /// All of these.
    All(Vec<Filter>),
    /// Every feature no other rule draws.
    Else,
}

impl Filter {
    /// The filter as a QGIS expression (`ELSE` for the else rule).
    pub fn expression(&self) -> String {
        match self {
            Filter::Eq(f, Lit::Str(v)) => format!("\"{f}\" = '{}'", v.replace('\'', "''")),
            Filter::Eq(f, Lit::Int(v)) => format!("\"{f}\" = {v}"),
            Filter::In(f, values) => format!(
                "\"{f}\" IN ({})",
                values
                    .iter()
                    .map(|v| format!("'{}'", v.replace('\'', "''")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Filter::IsTrue(f) => format!("\"{f}\""),
            Filter::IsFalse(f) => format!("NOT \"{f}\""),
            Filter::All(parts) => parts
                .iter()
                .map(|p| p.expression())
                .collect::<Vec<_>>()
                .join(" AND "),
            Filter::Else => "ELSE".to_string(),
        }
    }

    /// Whether a feature whose field values `get` gives matches; the else
    /// rule matches whatever reaches it (it is a layer's last rule).
    pub fn matches<'a>(&self, get: &impl Fn(&str) -> &'a Value) -> bool {
        match self {
            Filter::Eq(f, Lit::Str(v)) => matches!(get(f), Value::Str(s) if s == v),
            Filter::Eq(f, Lit::Int(v)) => *get(f) == Value::Int(*v),
            Filter::In(f, values) => {
                matches!(get(f), Value::Str(s) if values.iter().any(|v| s == v))
            }
            Filter::IsTrue(f) => *get(f) == Value::Bool(true),
            Filter::IsFalse(f) => *get(f) != Value::Bool(true),
            Filter::All(parts) => parts.iter().all(|p| p.matches(get)),
            Filter::Else => true,
        }
    }
}

/// One legend entry: which features, drawn how.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The legend text.
    pub label: String,
    /// The features it draws.
    pub filter: Filter,
    /// How they are drawn.
    pub symbol: Symbol,
}

/// Text labels of a layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    /// The field labelled.
    pub field: &'static str,
    /// Only features matching this are labelled.
    pub only: Option<Filter>,
    /// Text size in points.
    pub size_pt: f64,
    /// Labels show only when zoomed in beyond 1 : this (0 for always).
    pub max_scale_denominator: f64,
    /// Placement priority 0–10: a label of higher priority may cover the
    /// points of other layers, so unit names are not pushed out by dense points.
    pub priority: u8,
}

/// A layer's style: rules in legend order (the first is drawn on top) and labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Symbology {
    /// The rules, most important first.
    pub rules: Vec<Rule>,
    /// The labels, if the layer has any.
    pub labels: Option<Labels>,
}

impl Symbology {
    /// The place of the first rule drawing a feature whose field values
    /// `get` gives: 0 for the most important (drawn on top); the number of
    /// rules when none does.
    pub fn rank<'a>(&self, get: &impl Fn(&str) -> &'a Value) -> usize {
        self.rules
            .iter()
            .position(|r| r.filter.matches(get))
            .unwrap_or(self.rules.len())
    }

    /// QGIS's flag for a layer with labels: `1` or `0`.
    pub fn labels_flag(&self) -> &'static str {
        if self.labels.is_some() {
            "1"
        } else {
            "0"
        }
    }
}

/// One rule per grade, most severe first, drawn by `symbol`.
fn by_grade(field: &'static str, symbol: impl Fn(Grade) -> Symbol) -> Vec<Rule> {
    Grade::DESCENDING
        .into_iter()
        .map(|g| Rule {
            label: styles::label(g).to_string(),
            filter: Filter::Eq(field, Lit::Str(g.as_str())),
            symbol: symbol(g),
        })
        .collect()
}

/// The style of a vector layer.
pub fn symbology(layer: Layer) -> Symbology {
    let m = styles::map();
    let text_pt = m.text.label_pt;
    match layer {
        Layer::AdminUnits => admin_units(),
        Layer::ExposureGrid => Symbology {
            rules: by_grade("grade", |g| Symbol::Fill {
                fill: Some(Rgba::hex(&styles::grade(g).fill, m.grid.alpha)),
                outline: None,
            }),
            labels: None,
        },
        Layer::InfluenceZones => Symbology {
            rules: by_grade("grade", |g| Symbol::Fill {
                fill: None,
                outline: Some(Line {
                    colour: grade_colour(g),
                    width_mm: m.points.influence_mm,
                    dashed: false,
                }),
            }),
            labels: None,
        },
        Layer::Enterprises => Symbology {
            rules: by_grade("grade", |g| Symbol::Marker {
                shape: Shape::Circle,
                size_mm: m.points.enterprise_mm,
                fill: Some(grade_colour(g)),
                outline: Line {
                    colour: Rgba::hex(&m.furniture.swatch_outline, 1.0),
                    width_mm: 0.1,
                    dashed: false,
                },
            }),
            labels: Some(Labels {
                field: "name",
                only: Some(Filter::In(
                    "grade",
                    vec![Grade::Red.as_str(), Grade::Orange.as_str()],
                )),
                size_pt: text_pt,
                max_scale_denominator: 100_000.0,
                priority: 5,
            }),
        },
        Layer::HazardSources => hazard_sources(),
        Layer::HiddenDangers => hidden_dangers(),
        Layer::VulnerableTargets => vulnerable_targets(),
        Layer::EmergencyResources => emergency_resources(),
        Layer::ResourceCoverage => resource_coverage(),
        Layer::ChemicalParks => Symbology {
            rules: by_grade("grade", |g| Symbol::Fill {
                fill: Some(Rgba::hex(&styles::grade(g).fill, m.units.fill_alpha)),
                outline: Some(Line {
                    colour: Rgba::hex(&m.parks.outline, 1.0),
                    width_mm: m.parks.outline_mm,
                    dashed: true,
                }),
            }),
            labels: Some(Labels {
                field: "name",
                only: None,
                size_pt: text_pt,
                max_scale_denominator: 500_000.0,
                priority: 8,
            }),
        },
        Layer::AdminUnitChanges
        | Layer::EnterpriseChanges
        | Layer::HazardSourceChanges
        | Layer::HiddenDangerChanges
        | Layer::VulnerableTargetChanges => changes(layer),
    }
}

/// The comparison's layers: a rule per kind of change, worse in the change
/// scale's strongest red, new in its orange, better in its strongest
/// green, gone in its pale green; units outlined in those colours.
fn changes(layer: Layer) -> Symbology {
    let m = styles::map();
    let c = |step: i16| Rgba::hex(m.change.colour(step), 1.0);
    let kinds: Vec<(&'static str, &'static str, Shape, Rgba)> = match layer {
        Layer::HiddenDangerChanges => vec![
            ("overdue", "逾期未整改", Shape::Diamond, c(3)),
            ("reopened", "重新打开", Shape::Diamond, c(2)),
            ("new", "新增", Shape::Circle, c(2)),
            ("rectified", "已整改", Shape::Diamond, c(-3)),
            ("no_longer_listed", "未再列出", Shape::Circle, c(-2)),
        ],
        _ => vec![
            ("up", "升级", Shape::Triangle, c(3)),
            ("new", "新增", Shape::Circle, c(2)),
            ("down", "降级", Shape::Triangle, c(-3)),
            ("gone", "减少", Shape::Square, c(-2)),
        ],
    };
    let edge = Line {
        colour: Rgba::hex(&m.furniture.swatch_outline, 1.0),
        width_mm: 0.2,
        dashed: false,
    };
    let mut rules: Vec<Rule> = kinds
        .into_iter()
        .map(|(value, label, shape, colour)| Rule {
            label: label.to_string(),
            filter: Filter::Eq("change", Lit::Str(value)),
            symbol: if layer == Layer::AdminUnitChanges {
                Symbol::Fill {
                    fill: None,
                    outline: Some(Line {
                        colour,
                        width_mm: m.units.outline_mm * 2.5,
                        dashed: false,
                    }),
                }
            } else {
                Symbol::Marker {
                    shape,
                    size_mm: m.points.major_hazard_mm * 0.8,
                    fill: Some(colour),
                    outline: edge,
                }
            },
        })
        .collect();
    if layer == Layer::AdminUnitChanges {
        rules.push(Rule {
            label: "不变".to_string(),
            filter: Filter::Eq("change", Lit::Str("same")),
            symbol: Symbol::Fill {
                fill: None,
                outline: Some(Line {
                    colour: Rgba::hex(&m.units.outline, 1.0),
                    width_mm: m.units.outline_mm,
                    dashed: false,
                }),
            },
        });
    }
    Symbology {
        rules,
        labels: None,
    }
}

/// Districts filled by grade under the city and town boundaries; district names.
fn admin_units() -> Symbology {
    let u = &styles::map().units;
    let outline = |width_mm: f64, dashed: bool| {
        Some(Line {
            colour: Rgba::hex(&u.outline, 1.0),
            width_mm,
            dashed,
        })
    };
    let district = Filter::Eq("level", Lit::Str(AdminLevel::District.as_str()));
    let mut rules = vec![Rule {
        label: "市界".to_string(),
        filter: Filter::Eq("level", Lit::Str(AdminLevel::City.as_str())),
        symbol: Symbol::Fill {
            fill: None,
            outline: outline(u.city_outline_mm, false),
        },
    }];
    rules.extend(Grade::DESCENDING.into_iter().map(|g| Rule {
        label: format!("区县 {}", styles::label(g)),
        filter: Filter::All(vec![
            district.clone(),
            Filter::Eq("grade", Lit::Str(g.as_str())),
        ]),
        symbol: Symbol::Fill {
            fill: Some(Rgba::hex(&styles::grade(g).fill, u.fill_alpha)),
            outline: outline(u.outline_mm, false),
        },
    }));
    rules.push(Rule {
        label: "乡镇街道界".to_string(),
        filter: Filter::Eq("level", Lit::Str(AdminLevel::Town.as_str())),
        symbol: Symbol::Fill {
            fill: None,
            outline: outline(u.outline_mm * 0.6, true),
        },
    });
    Symbology {
        rules,
        labels: Some(Labels {
            field: "name",
            only: Some(district),
            size_pt: styles::map().text.label_pt + 1.0,
            max_scale_denominator: 0.0,
            priority: 10,
        }),
    }
}

/// Major hazard sources as triangles by grade (一级 red … 四级 blue); the
/// other hazard units as small hollow triangles.
fn hazard_sources() -> Symbology {
    let p = &styles::map().points;
    let outline = Line {
        colour: Rgba::hex(&p.major_hazard_outline, 1.0),
        width_mm: 0.2,
        dashed: false,
    };
    let mut rules: Vec<Rule> = Grade::DESCENDING
        .into_iter()
        .zip(1..)
        .map(|(g, level)| Rule {
            label: format!(
                "{}级重大危险源",
                ["一", "二", "三", "四"][level as usize - 1]
            ),
            filter: Filter::Eq("hazard_grade", Lit::Int(level)),
            symbol: Symbol::Marker {
                shape: Shape::Triangle,
                size_mm: p.major_hazard_mm,
                fill: Some(grade_colour(g)),
                outline,
            },
        })
        .collect();
    rules.push(Rule {
        label: "其他危险源单元".to_string(),
        filter: Filter::Else,
        symbol: Symbol::Marker {
            shape: Shape::Triangle,
            size_mm: p.major_hazard_mm * 0.6,
            fill: None,
            outline: Line {
                colour: Rgba::hex(&styles::map().units.outline, 1.0),
                ..outline
            },
        },
    });
    Symbology {
        rules,
        labels: None,
    }
}

/// Open major hidden dangers large and dark (those being rectified in a
/// lighter red), general ones smaller and lighter, overdue ones outlined,
/// rectified ones grey.
fn hidden_dangers() -> Symbology {
    let d = &styles::map().dangers;
    let plain = Line {
        colour: Rgba(255, 255, 255, 255),
        width_mm: 0.15,
        dashed: false,
    };
    let overdue = Line {
        colour: Rgba::hex(&d.overdue_outline, 1.0),
        width_mm: d.overdue_outline_mm,
        dashed: false,
    };
    let marker = |size_mm: f64, colour: &str, outline: Line| Symbol::Marker {
        shape: Shape::Diamond,
        size_mm,
        fill: Some(Rgba::hex(colour, 1.0)),
        outline,
    };
    let level = |l: DangerLevel| Filter::Eq("level", Lit::Str(l.as_str()));
    let open = Filter::Eq("status", Lit::Str(DangerStatus::Pending.as_str()));
    let progress = |s: DangerStatus| Filter::Eq("progress", Lit::Str(s.progress_str()));
    let major = level(DangerLevel::Major);
    let general = level(DangerLevel::General);
    let rules = vec![
        Rule {
            label: "重大隐患 逾期未整改".to_string(),
            filter: Filter::All(vec![major.clone(), open.clone(), Filter::IsTrue("overdue")]),
            symbol: marker(d.major_mm, &d.open_major, overdue),
        },
        Rule {
            label: "重大隐患 未整改".to_string(),
            filter: Filter::All(vec![
                major.clone(),
                progress(DangerStatus::Pending),
                Filter::IsFalse("overdue"),
            ]),
            symbol: marker(d.major_mm, &d.open_major, plain),
        },
        Rule {
            label: "重大隐患 整改中".to_string(),
            filter: Filter::All(vec![
                major,
                progress(DangerStatus::InProgress),
                Filter::IsFalse("overdue"),
            ]),
            symbol: marker(d.major_mm, &d.in_progress_major, plain),
        },
        Rule {
            label: "一般隐患 逾期未整改".to_string(),
            filter: Filter::All(vec![
                general.clone(),
                open.clone(),
                Filter::IsTrue("overdue"),
            ]),
            symbol: marker(d.general_mm, &d.open_general, overdue),
        },
        Rule {
            label: "一般隐患 未整改、整改中".to_string(),
            filter: Filter::All(vec![general, open, Filter::IsFalse("overdue")]),
            symbol: marker(d.general_mm, &d.open_general, plain),
        },
        Rule {
            label: "已整改".to_string(),
            filter: Filter::Else,
            symbol: marker(d.general_mm, &d.rectified, plain),
        },
    ];
    Symbology {
        rules,
        labels: None,
    }
}

/// Vulnerable targets as squares by their protection class.
fn vulnerable_targets() -> Symbology {
    let t = &styles::map().targets;
    let rules = [
        (Protection::HighlySensitive, &t.highly_sensitive),
        (Protection::Important, &t.important),
        (Protection::General, &t.general),
    ]
    .into_iter()
    .map(|(p, colour)| Rule {
        label: format!("{}目标", p.label_zh()),
        filter: Filter::Eq("protection", Lit::Str(p.label_zh())),
        symbol: Symbol::Marker {
            shape: Shape::Square,
            size_mm: t.size_mm,
            fill: Some(Rgba::hex(colour, 1.0)),
            outline: Line {
                colour: Rgba(255, 255, 255, 255),
                width_mm: 0.15,
                dashed: false,
            },
        },
    })
    .collect();
    Symbology {
        rules,
        labels: None,
    }
}

/// Emergency resources as circles in their kind's colour.
fn emergency_resources() -> Symbology {
    let r = &styles::map().resources;
    let mut rules: Vec<Rule> = ResourceKind::ALL
        .into_iter()
        .map(|k| Rule {
            label: k.label_zh().to_string(),
            filter: Filter::Eq("kind", Lit::Str(k.as_str())),
            symbol: Symbol::Marker {
                shape: Shape::Circle,
                size_mm: r.size_mm,
                fill: Some(Rgba::hex(r.colour(k), 1.0)),
                outline: Line {
                    colour: Rgba(255, 255, 255, 255),
                    width_mm: 0.3,
                    dashed: false,
                },
            },
        })
        .collect();
    // Every feature has a kind; the else rule keeps the rules exhaustive.
    rules.last_mut().expect("five kinds").filter = Filter::Else;
    Symbology {
        rules,
        labels: None,
    }
}

/// The high-risk places as rings: green where covered, black where not.
fn resource_coverage() -> Symbology {
    let r = &styles::map().resources;
    let ring = |label: &str, filter: Filter, colour: &str| Rule {
        label: label.to_string(),
        filter,
        symbol: Symbol::Marker {
            shape: Shape::Circle,
            size_mm: r.place_mm,
            fill: None,
            outline: Line {
                colour: Rgba::hex(colour, 1.0),
                width_mm: r.ring_mm,
                dashed: false,
            },
        },
    };
    Symbology {
        rules: vec![
            ring(
                "应急资源未全部覆盖",
                Filter::IsFalse("covered"),
                &r.uncovered,
            ),
            ring("应急资源覆盖", Filter::Else, &r.covered),
        ],
        labels: None,
    }
}

/// The exposure raster's classes: the upper bound of each class (as the
/// Float32 the GeoTIFF holds: the largest value below the next grade's
/// threshold, so a cell exactly at a threshold takes the higher grade), its
/// colour and legend text, lowest first.
pub fn raster_classes(yellow: f64, orange: f64, red: f64) -> Vec<(f64, Rgba, String)> {
    let below = |t: f64| f64::from(f32_below(t as f32));
    vec![
        (
            below(yellow),
            grade_colour(Grade::Blue),
            format!("{} (0 < E < {yellow})", styles::label(Grade::Blue)),
        ),
        (
            below(orange),
            grade_colour(Grade::Yellow),
            format!("{} ({yellow} ≤ E < {orange})", styles::label(Grade::Yellow)),
        ),
        (
            below(red),
            grade_colour(Grade::Orange),
            format!("{} ({orange} ≤ E < {red})", styles::label(Grade::Orange)),
        ),
        (
            f64::INFINITY,
            grade_colour(Grade::Red),
            format!("{} (E ≥ {red})", styles::label(Grade::Red)),
        ),
    ]
}

/// The largest `f32` below `v` (for positive finite `v`).
fn f32_below(v: f32) -> f32 {
    f32::from_bits(v.to_bits() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_has_rules_with_one_else_at_most_and_last() {
        for layer in Layer::ALL {
            let s = symbology(layer);
            assert!(!s.rules.is_empty(), "{layer}");
            let elses: Vec<usize> = (0..s.rules.len())
                .filter(|&i| s.rules[i].filter == Filter::Else)
                .collect();
            assert!(
                elses.is_empty() || elses == [s.rules.len() - 1],
                "{layer}: {elses:?}"
            );
        }
    }

    #[test]
    fn filters_read_as_qgis_expressions() {
        let f = Filter::All(vec![
            Filter::Eq("level", Lit::Str("o'k")),
            Filter::IsFalse("overdue"),
            Filter::Eq("hazard_grade", Lit::Int(2)),
        ]);
        assert_eq!(
            f.expression(),
            "\"level\" = 'o''k' AND NOT \"overdue\" AND \"hazard_grade\" = 2"
        );
    }

    #[test]
    fn a_feature_ranks_by_the_first_rule_that_draws_it() {
        static NULL: Value = Value::Null;
        let rank = |s: &Symbology, fields: &[(&str, Value)]| {
            s.rank(&|f: &str| {
                fields
                    .iter()
                    .find(|(n, _)| *n == f)
                    .map_or(&NULL, |(_, v)| v)
            })
        };
        let grade = |g: &str| [("grade", Value::Str(g.into()))];
        let enterprises = symbology(Layer::Enterprises);
        let ranks = Grade::DESCENDING.map(|g| rank(&enterprises, &grade(g.as_str())));
        assert_eq!(ranks, [0, 1, 2, 3]);
        assert_eq!(rank(&enterprises, &grade("?")), 4, "no rule draws it");
        let hazards = symbology(Layer::HazardSources);
        assert_eq!(rank(&hazards, &[("hazard_grade", Value::Int(2))]), 1);
        assert_eq!(rank(&hazards, &[]), 4, "not major: the else rule, last");
        let f = Filter::All(vec![
            Filter::IsFalse("overdue"),
            Filter::In("level", vec!["a", "b"]),
        ]);
        let matches = |fields: &[(&str, Value)]| {
            f.matches(&|n: &str| {
                fields
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map_or(&NULL, |(_, v)| v)
            })
        };
        assert!(matches(&[("level", Value::Str("b".into()))]));
        assert!(!matches(&[
            ("level", Value::Str("b".into())),
            ("overdue", Value::Bool(true))
        ]));
        assert!(!matches(&[("level", Value::Str("c".into()))]));
    }

    #[test]
    fn raster_classes_put_a_threshold_in_the_higher_grade() {
        let c = raster_classes(1.0, 2.0, 4.0);
        assert!(c[0].0 < 1.0 && (1.0 - c[0].0) < 1e-7);
        assert_eq!(c[3].0, f64::INFINITY);
        assert_eq!(c[3].1, grade_colour(Grade::Red));
        // Values between two bounds take the upper class, as QGIS's
        // discrete ramp does: 1.0f32 is above the first bound.
        assert!(f64::from(1.0f32) > c[0].0 && f64::from(0.99999994f32) <= c[0].0);
    }
}
