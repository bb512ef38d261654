//! Realistic synthetic inputs for any boundary file, deterministic from a seed.
//!
//! Enterprises cluster in industrial parks (a few per district, Gaussian
//! around a centre) with a scatter elsewhere; hazard units belong to chemical
//! enterprises and hold inventories drawn from the GB 18218 tables; hidden
//! dangers sit in enterprises (a few in public places); vulnerable targets
//! (schools, hospitals, residential areas …) carry populations and crowd
//! around parks as real cities do. With `bad_rows`, a handful of deliberately
//! bad records of each kind are appended and listed in `expected_rejects.csv`.
//!
//! Sampling is pure; [`files`] writes the inputs in the formats users have.

pub mod evolve;
pub mod files;
pub mod parks;
pub mod resources;

use std::f64::consts::PI;

use geo::{BoundingRect, Point};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::analysis::join::AdminIndex;
use crate::model::{AdminUnit, Grade};

/// How much to generate.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Number of enterprises.
    pub enterprises: usize,
    /// Number of hazard units; they go to chemical enterprises when there are enough of those.
    pub hazard_units: usize,
    /// Number of hidden dangers; about 15 % are in public places.
    pub hidden_dangers: usize,
    /// Number of vulnerable targets.
    pub targets: usize,
}

impl Sizes {
    /// Proportions seen in city supervision data: about one hazard unit per
    /// ten enterprises, one hidden danger per six, one target per three.
    pub fn for_enterprises(n: usize) -> Sizes {
        Sizes {
            enterprises: n,
            hazard_units: n / 10,
            hidden_dangers: n / 6,
            targets: n / 3,
        }
    }
}

/// A synthetic enterprise, as the enterprises file writes it.
#[derive(Debug, Clone)]
pub struct GenEnterprise {
    /// Id shaped like a unified social credit code, from the first six digits
    /// of its unit's code.
    pub id: String,
    /// Company name made from the unit's name, a trade name and the industry.
    pub name: String,
    /// Industry, one of the fixed list (化工, 机械制造 …).
    pub industry: &'static str,
    /// Street address in the enterprise's unit.
    pub address: String,
    /// Self-assessed grade; `None` for about 45 % of enterprises.
    pub grade: Option<Grade>,
    /// People within 500 m, given for about 30 % of enterprises.
    pub people_500m: Option<u32>,
    /// WGS 84 lon/lat (the files write it converted to the input's CRS).
    pub lon_lat: Point<f64>,
}

/// One line of a synthetic hazard unit's inventory.
#[derive(Debug, Clone)]
pub struct GenChemical {
    /// Name as written: a Table 1 name or alias, or a made-up mixture of a Table 2 category.
    pub name: String,
    /// CAS number, given for some Table 1 chemicals.
    pub cas: Option<String>,
    /// Table 2 category code, given for the mixtures only.
    pub category: Option<&'static str>,
    /// Quantity in tonnes, to one decimal and at least 0.1.
    pub quantity_t: f64,
}

/// A synthetic hazard unit of a synthetic enterprise.
#[derive(Debug, Clone)]
pub struct GenUnit {
    /// Unit id, `HU` and a six-digit number.
    pub id: String,
    /// Id of the owning enterprise.
    pub enterprise_id: String,
    /// Unit name, e.g. `2号储罐区`.
    pub name: String,
    /// Kind as written in the input: 储罐区, 库区 or 生产装置.
    pub kind: &'static str,
    /// Own location in WGS 84 lon/lat, the enterprise's moved by up to 120 m
    /// on each axis; `None` for units located by their enterprise.
    pub lon_lat: Option<Point<f64>>,
    /// Influence radius in metres, given for about 20 % of units.
    pub radius_m: Option<f64>,
    /// People within 500 m, given for about 30 % of units.
    pub people_500m: Option<u32>,
    /// The unit's inventory, one to four lines.
    pub chemicals: Vec<GenChemical>,
}

/// A synthetic hidden danger.
#[derive(Debug, Clone)]
pub struct GenDanger {
    /// Danger id, `YH`, the year and a five-digit number.
    pub id: String,
    /// Id of the enterprise it was found in; `None` for a public place.
    pub enterprise_id: Option<String>,
    /// Description, one of a fixed list of common findings.
    pub description: &'static str,
    /// Level as written in the input: 重大 or 一般.
    pub level: &'static str,
    /// Status as written in the input: 未整改, 整改中, 已整改 or 已销号.
    pub status: &'static str,
    /// Date found, `YYYY-MM-DD` within the data year.
    pub found: String,
    /// Rectification deadline, `YYYY-MM-DD`, 30 to 90 days after `found` and
    /// no later than 31 December.
    pub due: String,
    /// Own location in WGS 84 lon/lat; `None` for some dangers in enterprises,
    /// which then take the enterprise's location.
    pub lon_lat: Option<Point<f64>>,
}

/// A synthetic vulnerable target.
#[derive(Debug, Clone)]
pub struct GenTarget {
    /// Target id, `VT` and a six-digit number.
    pub id: String,
    /// Name made from a trade name and a suffix for the kind.
    pub name: String,
    /// Kind as written in the input (学校, 医院, 居民区 …).
    pub kind: &'static str,
    /// Population, a multiple of ten within the range of its kind.
    pub population: i64,
    /// Location in WGS 84 lon/lat.
    pub lon_lat: Point<f64>,
}

/// How a data set was made, written beside it as `generator.toml`: enough
/// for `generate --evolve-from` to make it again, byte for byte, and go on a
/// year.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recipe {
    /// The random seed of the first year and of every step.
    pub seed: u64,
    /// The first year's data year.
    pub base_year: i32,
    /// The years evolved since, in order.
    #[serde(default)]
    pub years: Vec<i32>,
    /// How many records the first year has.
    pub enterprises: usize,
    /// Hazard units in the first year.
    pub hazard_units: usize,
    /// Hidden dangers in the first year.
    pub hidden_dangers: usize,
    /// Vulnerable targets in the first year.
    pub targets: usize,
    /// Whether deliberately bad rows are appended.
    pub bad_rows: bool,
}

impl Recipe {
    /// The recipe of a first year.
    pub fn new(seed: u64, year: i32, sizes: &Sizes, bad_rows: bool) -> Recipe {
        Recipe {
            seed,
            base_year: year,
            years: Vec::new(),
            enterprises: sizes.enterprises,
            hazard_units: sizes.hazard_units,
            hidden_dangers: sizes.hidden_dangers,
            targets: sizes.targets,
            bad_rows,
        }
    }

    /// The data year of the data set.
    pub fn year(&self) -> i32 {
        self.years.last().copied().unwrap_or(self.base_year)
    }

    fn sizes(&self) -> Sizes {
        Sizes {
            enterprises: self.enterprises,
            hazard_units: self.hazard_units,
            hidden_dangers: self.hidden_dangers,
            targets: self.targets,
        }
    }

    /// The data set, made again from its first year step by step, with the
    /// changes of its last step (none for a first year).
    pub fn make(&self, index: &AdminIndex) -> (Synthetic, Vec<evolve::Change>) {
        let mut data = synthesize(index, &self.sizes(), self.seed, self.base_year);
        let mut log = Vec::new();
        for &year in &self.years {
            (data, log) = evolve::evolve(&data, index, self.seed, year);
        }
        (data, log)
    }
}

/// A generated data set, clean; bad rows are added by [`files`].
pub struct Synthetic {
    /// The enterprises, in the order generated.
    pub enterprises: Vec<GenEnterprise>,
    /// The hazard units with their inventories.
    pub units: Vec<GenUnit>,
    /// The hidden dangers.
    pub dangers: Vec<GenDanger>,
    /// The vulnerable targets.
    pub targets: Vec<GenTarget>,
    /// The emergency resources.
    pub resources: Vec<resources::GenResource>,
    /// The chemical parks.
    pub parks: Vec<parks::GenPark>,
}

const CHEMICAL_INDUSTRIES: [&str; 3] = ["化工", "危险化学品经营", "医药制造"];
const INDUSTRIES: [(&str, u32); 10] = [
    ("化工", 14),
    ("危险化学品经营", 8),
    ("医药制造", 4),
    ("机械制造", 20),
    ("冶金", 6),
    ("纺织", 10),
    ("食品加工", 8),
    ("仓储物流", 10),
    ("建材", 8),
    ("电子", 12),
];
const TRADE_CHARS: &str =
    "华新天恒盛达宏利丰泰源鑫隆通安中江南龙永金瑞祥博远佳汇德润康明海东方正信诚嘉聚力";
const ROADS: [&str; 12] = [
    "人民", "长江", "黄河", "龙城", "常澄", "太湖", "延陵", "青洋", "通江", "淮海", "汉江", "衡山",
];
const DANGERS: [&str; 12] = [
    "储罐区防火堤破损",
    "可燃气体报警器失效",
    "安全出口堵塞",
    "特种作业人员无证上岗",
    "消防通道被占用",
    "电气线路私拉乱接",
    "危化品仓库超量储存",
    "压力容器未按期检验",
    "有限空间作业未审批",
    "动火作业监护缺失",
    "防雷设施检测过期",
    "应急预案未演练",
];
/// Kinds of vulnerable target with relative frequency and population range.
const TARGET_KINDS: [(&str, u32, i64, i64); 8] = [
    ("学校", 14, 500, 3000),
    ("幼儿园", 10, 100, 400),
    ("医院", 6, 200, 2000),
    ("养老院", 5, 50, 300),
    ("居民区", 40, 800, 15000),
    ("商场", 10, 500, 5000),
    ("车站", 5, 300, 3000),
    ("体育场馆", 3, 1000, 20000),
];
const UNIT_KINDS: [&str; 3] = ["储罐区", "库区", "生产装置"];

/// Whether `p` stays in unit `slot` as the files write it: rounded to six
/// decimals, in WGS 84 or in GCJ-02 and converted back. Clean data must
/// never fall out of its unit by rounding near a boundary.
fn settled(index: &AdminIndex, slot: usize, p: Point<f64>) -> bool {
    let round6 = |v: f64| (v * 1e6).round() / 1e6;
    let (gx, gy) = crate::crs::wgs84_to_gcj02(p.x(), p.y());
    let (bx, by) = crate::crs::gcj02_to_wgs84(round6(gx), round6(gy));
    index.locate(p) == Some(slot)
        && index.locate(Point::new(round6(p.x()), round6(p.y()))) == Some(slot)
        && index.locate(Point::new(bx, by)) == Some(slot)
}

/// A random point in `unit`, by rejection from its bounding box.
fn point_in(rng: &mut ChaCha8Rng, index: &AdminIndex, slot: usize, unit: &AdminUnit) -> Point<f64> {
    let r = unit.boundary.bounding_rect().expect("units have extent");
    loop {
        let p = Point::new(
            rng.gen_range(r.min().x..r.max().x),
            rng.gen_range(r.min().y..r.max().y),
        );
        if settled(index, slot, p) {
            return p;
        }
    }
}

/// A point at a Gaussian offset (σ in metres) from `c`, kept inside `slot`.
fn near(
    rng: &mut ChaCha8Rng,
    index: &AdminIndex,
    slot: usize,
    c: Point<f64>,
    sigma_m: f64,
) -> Option<Point<f64>> {
    for _ in 0..20 {
        let (u1, u2): (f64, f64) = (rng.gen_range(1e-12..1.0), rng.gen());
        let r = (-2.0 * u1.ln()).sqrt() * sigma_m;
        let (dx, dy) = (r * (2.0 * PI * u2).cos(), r * (2.0 * PI * u2).sin());
        let p = offset(c, dx, dy);
        if settled(index, slot, p) {
            return Some(p);
        }
    }
    None
}

fn pick_weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T], weight: impl Fn(&T) -> f64) -> &'a T {
    let total: f64 = items.iter().map(&weight).sum();
    let mut x = rng.gen_range(0.0..total);
    for item in items {
        x -= weight(item);
        if x < 0.0 {
            return item;
        }
    }
    items.last().expect("non-empty")
}

fn trade_name(rng: &mut ChaCha8Rng) -> String {
    let chars: Vec<char> = TRADE_CHARS.chars().collect();
    let a = chars[rng.gen_range(0..chars.len())];
    let mut b = chars[rng.gen_range(0..chars.len())];
    while b == a {
        b = chars[rng.gen_range(0..chars.len())];
    }
    format!("{a}{b}")
}

/// A district with its industrial parks (centre, spread in metres).
struct District<'a> {
    slot: usize,
    unit: &'a AdminUnit,
    area: f64,
    parks: Vec<(Point<f64>, f64)>,
}

/// A date in `year` as text, `day` days from 1 January (clamped to the year).
fn date_in_year(year: i32, day: i64) -> String {
    let jan1 = crate::model::Date {
        year,
        month: 1,
        day: 1,
    }
    .day_number();
    let d = crate::ingest::values::civil_from_days(jan1 + day.clamp(0, 364));
    d.to_string()
}

/// Generates a clean synthetic data set over `index`'s finest units.
pub fn synthesize(index: &AdminIndex, sizes: &Sizes, seed: u64, year: i32) -> Synthetic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let metric = index.metric();
    // Slots are indices into `index.units()`, as `AdminIndex::locate` returns them.
    let finest: Vec<(usize, &AdminUnit)> = index
        .units()
        .iter()
        .enumerate()
        .filter(|(_, u)| u.level == index.finest_level())
        .collect();
    let mut districts: Vec<District> = finest
        .iter()
        .map(|&(slot, unit)| District {
            slot,
            unit,
            area: metric.area_m2(&unit.boundary),
            parks: Vec::new(),
        })
        .collect();
    for d in &mut districts {
        let n = (2.0 + d.area / 300e6).min(6.0) as usize;
        for _ in 0..n {
            let c = point_in(&mut rng, index, d.slot, d.unit);
            d.parks.push((c, rng.gen_range(300.0..900.0)));
        }
    }

    let enterprises: Vec<GenEnterprise> = (0..sizes.enterprises)
        .map(|i| {
            let d = pick_weighted(&mut rng, &districts, |d| d.area);
            let in_park = rng.gen_bool(0.75);
            let p = if in_park {
                let (c, s) = d.parks[rng.gen_range(0..d.parks.len())];
                near(&mut rng, index, d.slot, c, s)
                    .unwrap_or_else(|| point_in(&mut rng, index, d.slot, d.unit))
            } else {
                point_in(&mut rng, index, d.slot, d.unit)
            };
            let industry = if in_park {
                pick_weighted(&mut rng, &INDUSTRIES, |(_, w)| *w as f64).0
            } else {
                pick_weighted(&mut rng, &INDUSTRIES[3..], |(_, w)| *w as f64).0
            };
            let grades = [
                (Grade::Blue, 55.0),
                (Grade::Yellow, 30.0),
                (Grade::Orange, 12.0),
                (Grade::Red, 3.0),
            ];
            let grade = rng
                .gen_bool(0.55)
                .then(|| pick_weighted(&mut rng, &grades, |(_, w)| *w).0);
            let city = d.unit.name.trim_end_matches(['区', '市', '县']);
            let short: String = city.chars().take(2).collect();
            GenEnterprise {
                id: format!(
                    "91{}MA{:07}{}",
                    d.unit.code.get(..6).unwrap_or("000000"),
                    i,
                    (b'A' + (i % 26) as u8) as char
                ),
                name: format!(
                    "{short}{}{}有限公司",
                    trade_name(&mut rng),
                    industry_word(industry)
                ),
                industry,
                address: format!(
                    "{}{}路{}号",
                    d.unit.name,
                    ROADS[rng.gen_range(0..ROADS.len())],
                    rng.gen_range(1..999)
                ),
                grade,
                people_500m: rng.gen_bool(0.3).then(|| rng.gen_range(0..300)),
                lon_lat: p,
            }
        })
        .collect();

    let tables = crate::analysis::gb18218::tables();
    let (t1, t2) = (&tables.named, &tables.categories);
    let chemical: Vec<&GenEnterprise> = enterprises
        .iter()
        .filter(|e| CHEMICAL_INDUSTRIES.contains(&e.industry))
        .collect();
    let owners: Vec<&GenEnterprise> = if chemical.len() * 2 >= sizes.hazard_units {
        chemical
    } else {
        enterprises.iter().collect()
    };
    let mut unit_no = std::collections::HashMap::<&str, usize>::new();
    let units: Vec<GenUnit> = (0..sizes.hazard_units)
        .map(|i| {
            let e = owners[rng.gen_range(0..owners.len())];
            let n = unit_no.entry(e.id.as_str()).or_insert(0);
            *n += 1;
            let kind = UNIT_KINDS[rng.gen_range(0..3)];
            let n_chem = rng.gen_range(1..=4);
            let chemicals = (0..n_chem)
                .map(|_| {
                    let scale = (rng.gen_range(0.02f64.ln()..4.0f64.ln())).exp() / n_chem as f64;
                    if rng.gen_bool(0.8) {
                        let row = &t1[rng.gen_range(0..t1.len())];
                        let written = if !row.aliases.is_empty() && rng.gen_bool(0.3) {
                            row.aliases[rng.gen_range(0..row.aliases.len())].clone()
                        } else {
                            row.name.clone()
                        };
                        GenChemical {
                            name: written,
                            cas: row.cas.first().cloned().filter(|_| rng.gen_bool(0.6)),
                            category: None,
                            quantity_t: round_t(row.critical_t * scale),
                        }
                    } else {
                        let cat = &t2[rng.gen_range(0..t2.len())];
                        GenChemical {
                            name: format!("{}混合物({})", cat.name, cat.code),
                            cas: None,
                            category: Some(cat.code.as_str()),
                            quantity_t: round_t(cat.critical_t * scale),
                        }
                    }
                })
                .collect();
            GenUnit {
                id: format!("HU{:06}", i + 1),
                enterprise_id: e.id.clone(),
                name: format!("{}号{}", n, kind),
                kind,
                lon_lat: rng
                    .gen_bool(0.6)
                    .then(|| jitter(&mut rng, index, e.lon_lat, 120.0)),
                radius_m: rng
                    .gen_bool(0.2)
                    .then(|| (rng.gen_range(300.0f64..2000.0) / 10.0).round() * 10.0),
                people_500m: rng.gen_bool(0.3).then(|| rng.gen_range(0..200)),
                chemicals,
            }
        })
        .collect();

    let dangers: Vec<GenDanger> = (0..sizes.hidden_dangers)
        .map(|i| {
            let public = rng.gen_bool(0.15);
            let e = (!public).then(|| &enterprises[rng.gen_range(0..enterprises.len())]);
            let lon_lat = match e {
                Some(e) => rng
                    .gen_bool(0.7)
                    .then(|| jitter(&mut rng, index, e.lon_lat, 60.0)),
                None => {
                    let d = pick_weighted(&mut rng, &districts, |d| d.area);
                    Some(point_in(&mut rng, index, d.slot, d.unit))
                }
            };
            danger(&mut rng, (year, i + 1), e.map(|e| e.id.clone()), lon_lat)
        })
        .collect();

    let targets: Vec<GenTarget> = (0..sizes.targets)
        .map(|i| {
            let d = pick_weighted(&mut rng, &districts, |d| d.area);
            let p = if rng.gen_bool(0.5) {
                let (c, _) = d.parks[rng.gen_range(0..d.parks.len())];
                near(&mut rng, index, d.slot, c, 2500.0)
                    .unwrap_or_else(|| point_in(&mut rng, index, d.slot, d.unit))
            } else {
                point_in(&mut rng, index, d.slot, d.unit)
            };
            let (kind, _, lo, hi) = *pick_weighted(&mut rng, &TARGET_KINDS, |k| k.1 as f64);
            GenTarget {
                id: format!("VT{:06}", i + 1),
                name: format!("{}{}", trade_name(&mut rng), target_suffix(kind)),
                kind,
                population: (rng.gen_range(lo..=hi) / 10) * 10,
                lon_lat: p,
            }
        })
        .collect();

    let parks = parks::parks(&districts, &enterprises, &units);
    Synthetic {
        enterprises,
        units,
        dangers,
        targets,
        resources: resources::resources(index, &districts, seed),
        parks,
    }
}

/// Hidden danger number `n` of `year`, found in the year (its finding,
/// level, status and dates drawn here, in this order).
fn danger(
    rng: &mut ChaCha8Rng,
    (year, n): (i32, usize),
    enterprise_id: Option<String>,
    lon_lat: Option<Point<f64>>,
) -> GenDanger {
    let found_day = rng.gen_range(0..300);
    GenDanger {
        id: format!("YH{year}{n:05}"),
        enterprise_id,
        description: DANGERS[rng.gen_range(0..DANGERS.len())],
        level: if rng.gen_bool(0.08) {
            "重大"
        } else {
            "一般"
        },
        status: ["未整改", "整改中", "已整改", "已销号"][pick_index(rng, &[20, 15, 50, 15])],
        found: date_in_year(year, found_day),
        due: date_in_year(year, found_day + rng.gen_range(30..90)),
        lon_lat,
    }
}

fn pick_index(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let idx: Vec<usize> = (0..weights.len()).collect();
    *pick_weighted(rng, &idx, |&i| weights[i] as f64)
}

/// Quantities as inventories write them: tonnes to one decimal, at least 0.1.
fn round_t(q: f64) -> f64 {
    ((q * 10.0).round() / 10.0).max(0.1)
}

/// `p` moved `dx` metres east and `dy` north, on a local plane.
fn offset(p: Point<f64>, dx: f64, dy: f64) -> Point<f64> {
    Point::new(
        p.x() + dx / (111_320.0 * p.y().to_radians().cos()),
        p.y() + dy / 110_574.0,
    )
}

/// A point up to `max_m` metres from `p` in the same unit as `p` (else `p`
/// itself), so that clean data never strays over a boundary.
fn jitter(rng: &mut ChaCha8Rng, index: &AdminIndex, p: Point<f64>, max_m: f64) -> Point<f64> {
    let dx = rng.gen_range(-max_m..max_m);
    let dy = rng.gen_range(-max_m..max_m);
    let q = offset(p, dx, dy);
    match index.locate(p) {
        Some(slot) if settled(index, slot, q) => q,
        _ => p,
    }
}

fn industry_word(industry: &str) -> &'static str {
    match industry {
        "化工" => "化工",
        "危险化学品经营" => "化学品贸易",
        "医药制造" => "制药",
        "机械制造" => "机械",
        "冶金" => "钢铁",
        "纺织" => "纺织",
        "食品加工" => "食品",
        "仓储物流" => "物流",
        "建材" => "建材",
        _ => "电子科技",
    }
}

fn target_suffix(kind: &str) -> &'static str {
    match kind {
        "学校" => "中学",
        "幼儿园" => "幼儿园",
        "医院" => "医院",
        "养老院" => "养老院",
        "居民区" => "花园小区",
        "商场" => "购物中心",
        "车站" => "客运站",
        _ => "体育馆",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_stay_in_the_year() {
        assert_eq!(date_in_year(2026, 0), "2026-01-01");
        assert_eq!(date_in_year(2026, 58), "2026-02-28");
        assert_eq!(date_in_year(2026, 999), "2026-12-31");
    }
}
