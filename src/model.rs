//! Domain types shared by every stage: grades, administrative units and the
//! supervised records (enterprises, hazard units and their chemicals, hidden
//! dangers, vulnerable targets).
//!
//! All coordinates held here are WGS 84 longitude/latitude in degrees
//! (`lon_lat`), whatever the CRS of the file they came from; metric work
//! projects them on demand (see [`crate::crs`]).

use geo::{MultiLineString, MultiPolygon, Point};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

/// The four-colour risk scale, ordered from lowest to highest. Its labels
/// and colours are in the palette ([`crate::styles`]).
///
/// ```
/// use riskatlas::model::Grade;
/// assert!(Grade::Red > Grade::Orange);
/// assert_eq!(Grade::parse("橙色"), Some(Grade::Orange));
/// assert_eq!(Grade::Yellow.as_str(), "yellow");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    /// Blue, 低风险: the lowest grade, and by default that of an unassessed enterprise.
    Blue,
    /// Yellow, 一般风险.
    Yellow,
    /// Orange, 较大风险.
    Orange,
    /// Red, 重大风险: the highest grade.
    Red,
}

impl Grade {
    /// All grades from highest to lowest, the order of legends and lists.
    pub const DESCENDING: [Grade; 4] = [Grade::Red, Grade::Orange, Grade::Yellow, Grade::Blue];

    /// The output spelling (`red`, `orange`, `yellow`, `blue`).
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Red => "red",
            Grade::Orange => "orange",
            Grade::Yellow => "yellow",
            Grade::Blue => "blue",
        }
    }

    /// The grade's code in the exposure grid's grade raster and the maps'
    /// grid (blue 1 … red 4; 0 is a cell where E = 0).
    pub fn grid_code(self) -> u8 {
        match self {
            Grade::Blue => 1,
            Grade::Yellow => 2,
            Grade::Orange => 3,
            Grade::Red => 4,
        }
    }

    /// The grade of a [`Grade::grid_code`]; `None` for 0 (E = 0) and any
    /// other code.
    pub fn from_grid_code(code: u8) -> Option<Grade> {
        Grade::DESCENDING
            .into_iter()
            .find(|g| g.grid_code() == code)
    }

    /// Reads the spellings found in supervision spreadsheets: colour names in
    /// Chinese or English and the four risk-level names. `None` for anything
    /// else, which validation reports as an unknown grade value.
    pub fn parse(text: &str) -> Option<Grade> {
        let t = text.trim().to_lowercase();
        let grade = match t.as_str() {
            "红" | "红色" | "red" | "重大风险" | "重大" => Grade::Red,
            "橙" | "橙色" | "orange" | "较大风险" | "较大" => Grade::Orange,
            "黄" | "黄色" | "yellow" | "一般风险" | "一般" => Grade::Yellow,
            "蓝" | "蓝色" | "blue" | "低风险" | "低" => Grade::Blue,
            _ => return None,
        };
        Some(grade)
    }
}

impl<'de> serde::Deserialize<'de> for Grade {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Grade::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown grade {text:?}: use red, orange, yellow, blue (or 红, 橙, 黄, 蓝)"
            ))
        })
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Level of an administrative unit in the GB/T 2260 hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AdminLevel {
    /// Province (省级).
    Province,
    /// Prefecture-level city (地级市).
    City,
    /// District or county (区县).
    District,
    /// Town, township or street (乡镇、街道).
    Town,
}

impl AdminLevel {
    /// Reads a level as written in a boundary file, in English or Chinese
    /// (`district`, 区县, 街道 …); `None` for anything else.
    pub fn parse(text: &str) -> Option<AdminLevel> {
        let level = match text.trim().to_lowercase().as_str() {
            "province" | "省" | "省级" => AdminLevel::Province,
            "city" | "市" | "地级市" | "市级" => AdminLevel::City,
            "district" | "county" | "区" | "县" | "区县" | "县级" => AdminLevel::District,
            "town" | "street" | "乡镇" | "街道" | "镇" | "乡" => AdminLevel::Town,
            _ => return None,
        };
        Some(level)
    }

    /// The output spelling (`province`, `city`, `district`, `town`).
    pub fn as_str(self) -> &'static str {
        match self {
            AdminLevel::Province => "province",
            AdminLevel::City => "city",
            AdminLevel::District => "district",
            AdminLevel::Town => "town",
        }
    }
}

/// An administrative unit with its boundary in WGS 84 lon/lat.
#[derive(Debug, Clone)]
pub struct AdminUnit {
    /// GB/T 2260 code (six digits for districts and above, nine for towns).
    pub code: String,
    /// Name as written in the boundary file.
    pub name: String,
    /// Level in the hierarchy; a unit's parent is one level up.
    pub level: AdminLevel,
    /// Code of the enclosing unit; `None` for a root of the file.
    pub parent: Option<String>,
    /// Boundary in WGS 84 lon/lat degrees, repaired if needed at validation and
    /// with holes running against their outer ring.
    pub boundary: MultiPolygon<f64>,
}

/// The units a point was joined to, finest first. Names are repeated beside
/// the codes so every output layer can be read without a lookup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminRef {
    /// GB/T 2260 code of the enclosing city, when there is one.
    pub city_code: Option<String>,
    /// Name of the enclosing city.
    pub city_name: Option<String>,
    /// GB/T 2260 code of the enclosing district or county.
    pub district_code: Option<String>,
    /// Name of the enclosing district or county.
    pub district_name: Option<String>,
    /// Nine-digit code of the enclosing town or street.
    pub town_code: Option<String>,
    /// Name of the enclosing town or street.
    pub town_name: Option<String>,
}

/// Where a record came from, for every message about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    /// File name as written in the project file (relative to it); shared
    /// by every record of the file.
    pub file: SourceName,
    /// Layer or sheet name, when the file has several.
    pub layer: Option<SourceName>,
    /// Spreadsheet row as shown by Excel for XLSX (header = row 1), the
    /// physical line a record starts on for CSV (the same unless a quoted
    /// field spans lines), or the 1-based feature number for vector files.
    pub row: u64,
}

/// A file or layer name shared by every record read from it: interned once
/// per name for the whole process, so a record copies a pointer instead of
/// touching a reference count that every reading and checking thread shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceName(&'static str);

impl SourceName {
    /// The name's one shared copy (made on its first use).
    pub fn intern(name: &str) -> SourceName {
        static NAMES: std::sync::Mutex<BTreeSet<&'static str>> =
            std::sync::Mutex::new(BTreeSet::new());
        let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&known) = names.get(name) {
            return SourceName(known);
        }
        let leaked: &'static str = Box::leak(name.into());
        names.insert(leaked);
        SourceName(leaked)
    }

    /// The name.
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl std::ops::Deref for SourceName {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl fmt::Display for SourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A supervised enterprise (生产经营单位).
#[derive(Debug, Clone)]
pub struct Enterprise {
    /// Its id, name, industry and address ([`Enterprise::id`] …).
    pub text: EnterpriseText,
    /// Location in WGS 84 lon/lat degrees.
    pub lon_lat: Point<f64>,
    /// Grade from the enterprise's own risk assessment, when given.
    pub assessed_grade: Option<Grade>,
    /// People outside the plant within 500 m, when the input gives it (used for α).
    pub people_500m: Option<u32>,
    /// The administrative units the enterprise lies in, set by the join.
    pub admin: Arc<AdminRef>,
}

/// A province holds a million enterprises at once, from loading to the
/// outputs: the record stays at 72 bytes (its texts apart).
const _: () = assert!(std::mem::size_of::<Enterprise>() <= 72);

impl Enterprise {
    /// Enterprise id from the input; unique among the accepted enterprises.
    pub fn id(&self) -> &str {
        self.text.part(0)
    }

    /// Enterprise name.
    pub fn name(&self) -> &str {
        self.text.part(1)
    }

    /// Industry as written in the input, when given.
    pub fn industry(&self) -> Option<&str> {
        self.text.optional(2)
    }

    /// Address as written in the input, when given.
    pub fn address(&self) -> Option<&str> {
        self.text.optional(3)
    }
}

/// An enterprise's id, name, industry and address in one allocation: a
/// province holds a million enterprises, and four `String`s each would
/// cost 72 bytes more per enterprise (three more allocations, larger
/// records) than this.
#[derive(Clone, PartialEq, Eq)]
pub struct EnterpriseText {
    /// The four texts one after another.
    text: Box<str>,
    /// Where the name, the industry and the address start in `text`.
    starts: [u32; 3],
    /// Whether the industry (bit 0) and the address (bit 1) were given.
    given: u8,
}

impl EnterpriseText {
    /// The texts of one enterprise.
    ///
    /// ```
    /// use riskatlas::model::EnterpriseText;
    /// let t = EnterpriseText::new("E1", "常州化工", None, Some(""));
    /// assert_eq!((t.part(0), t.part(1)), ("E1", "常州化工"));
    /// assert_eq!((t.optional(2), t.optional(3)), (None, Some("")));
    /// ```
    pub fn new(
        id: &str,
        name: &str,
        industry: Option<&str>,
        address: Option<&str>,
    ) -> EnterpriseText {
        let parts = [id, name, industry.unwrap_or(""), address.unwrap_or("")];
        let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        let mut starts = [0u32; 3];
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                starts[i - 1] =
                    u32::try_from(text.len()).expect("an enterprise's texts are under 4 GiB");
            }
            text.push_str(part);
        }
        EnterpriseText {
            text: text.into_boxed_str(),
            starts,
            given: u8::from(industry.is_some()) | u8::from(address.is_some()) << 1,
        }
    }

    /// Text `i`: 0 the id, 1 the name, 2 the industry, 3 the address
    /// (empty when not given).
    pub fn part(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.starts[i - 1] as usize
        };
        let end = self.starts.get(i).map_or(self.text.len(), |&e| e as usize);
        &self.text[start..end]
    }

    /// Text `i` (2 or 3) when it was given.
    pub fn optional(&self, i: usize) -> Option<&str> {
        (self.given >> (i - 2) & 1 == 1).then(|| self.part(i))
    }
}

impl fmt::Debug for EnterpriseText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterpriseText")
            .field("id", &self.part(0))
            .field("name", &self.part(1))
            .field("industry", &self.optional(2))
            .field("address", &self.optional(3))
            .finish()
    }
}

impl AsRef<Enterprise> for Enterprise {
    fn as_ref(&self) -> &Enterprise {
        self
    }
}

/// An enterprise after grading: its four-colour rating is settled. It reads
/// as its enterprise (`graded.name`, `graded.lon_lat`).
#[derive(Debug, Clone)]
pub struct Graded {
    /// The enterprise as loaded and joined.
    pub enterprise: Enterprise,
    /// Its final grade, whether it was assessed or derived, and why.
    pub rating: Rating,
}

impl Graded {
    /// The enterprise's four-colour grade.
    pub fn grade(&self) -> Grade {
        self.rating.grade
    }
}

impl std::ops::Deref for Graded {
    type Target = Enterprise;
    fn deref(&self) -> &Enterprise {
        &self.enterprise
    }
}

impl AsRef<Enterprise> for Graded {
    fn as_ref(&self) -> &Enterprise {
        &self.enterprise
    }
}

/// The accepted enterprises in input order with their index by id, built
/// once when they are loaded and kept when they are graded: every record that
/// names an enterprise (hazard units, hidden dangers, the lists) is followed
/// through it. `E` is [`Enterprise`] until grading, [`Graded`] after.
#[derive(Debug, Clone)]
pub struct Enterprises<E = Enterprise> {
    items: Vec<E>,
    by_id: IdIndex,
}

impl<E: AsRef<Enterprise>> Enterprises<E> {
    /// Indexes `items`; their ids are unique (validation keeps the first).
    pub fn new(items: Vec<E>) -> Enterprises<E> {
        let mut by_id = IdIndex::with_capacity(items.len());
        for i in 0..items.len() {
            let _ = by_id.insert(i, |j| items[j].as_ref().id());
        }
        Enterprises { items, by_id }
    }

    /// `items` with the index validation built while it caught duplicates.
    pub fn indexed(items: Vec<E>, by_id: IdIndex) -> Enterprises<E> {
        debug_assert_eq!(items.len(), by_id.len());
        Enterprises { items, by_id }
    }

    /// The enterprise with this id.
    pub fn get(&self, id: &str) -> Option<&E> {
        self.by_id
            .find(id, |i| self.items[i].as_ref().id())
            .map(|i| &self.items[i])
    }

    /// The same enterprises, each turned into `F` by `f`, in the same order
    /// and with the same index.
    pub fn map<F>(self, f: impl FnMut(E) -> F) -> Enterprises<F> {
        Enterprises {
            items: self.items.into_iter().map(f).collect(),
            by_id: self.by_id,
        }
    }
}

impl<E> Default for Enterprises<E> {
    fn default() -> Enterprises<E> {
        Enterprises {
            items: Vec::new(),
            by_id: IdIndex::default(),
        }
    }
}

/// Positions of records by id, for records that keep their ids themselves:
/// the table holds only positions (4 bytes each and its slack), not a copy
/// of every id, so a province's million enterprises index in about 10 MB.
/// Every call says how to read the id at a position. Ids hash the same in
/// every index ([`IdIndex::hash`]), so a hash can be taken where the id was
/// just made, on another thread.
#[derive(Clone, Default)]
pub struct IdIndex {
    table: hashbrown::HashTable<u32>,
}

impl fmt::Debug for IdIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdIndex({} ids)", self.table.len())
    }
}

impl IdIndex {
    /// An empty index with room for `n` ids.
    pub fn with_capacity(n: usize) -> IdIndex {
        IdIndex {
            table: hashbrown::HashTable::with_capacity(n),
        }
    }

    /// The hash of an id, the same in every index and every run.
    pub fn hash(id: &str) -> u64 {
        foldhash::fast::FixedState::with_seed(0x5249_534b_4154_4c53).hash_one(id)
    }

    /// How many ids it holds.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether it holds no id.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The position holding `id`, reading ids with `id_at`.
    pub fn find<'a>(&self, id: &str, id_at: impl Fn(usize) -> &'a str) -> Option<usize> {
        self.table
            .find(Self::hash(id), |&j| id_at(j as usize) == id)
            .map(|&j| j as usize)
    }

    /// Adds position `i`, whose id `id_at(i)` gives, unless an earlier
    /// position holds the same id: then that position is the error.
    pub fn insert<'a>(&mut self, i: usize, id_at: impl Fn(usize) -> &'a str) -> Result<(), usize> {
        self.insert_hashed(i, Self::hash(id_at(i)), id_at)
    }

    /// [`IdIndex::insert`] with the id's [`IdIndex::hash`] already taken.
    pub fn insert_hashed<'a>(
        &mut self,
        i: usize,
        hash: u64,
        id_at: impl Fn(usize) -> &'a str,
    ) -> Result<(), usize> {
        let id = id_at(i);
        match self.table.entry(
            hash,
            |&j| id_at(j as usize) == id,
            |&j| Self::hash(id_at(j as usize)),
        ) {
            hashbrown::hash_table::Entry::Occupied(e) => Err(*e.get() as usize),
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(u32::try_from(i).expect("fewer than 4 billion records"));
                Ok(())
            }
        }
    }
}

impl<E> std::ops::Deref for Enterprises<E> {
    type Target = [E];
    fn deref(&self) -> &[E] {
        &self.items
    }
}

/// Whether an enterprise's grade is its own assessment or was derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GradeSource {
    /// The enterprise's assessed grade, not raised by any rule.
    Assessed,
    /// Raised by a rule, or the default for an enterprise without assessment.
    Derived,
}

impl GradeSource {
    /// The output spelling (`assessed`, `derived`).
    pub fn as_str(self) -> &'static str {
        match self {
            GradeSource::Assessed => "assessed",
            GradeSource::Derived => "derived",
        }
    }
}

/// One reason behind a grade: readable Chinese text and a machine code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GradeReason {
    /// Machine code: the id of the rule that fired, or `unassessed`.
    pub code: String,
    /// Readable reason in Chinese, including the effect on the grade.
    pub text: String,
}

/// An enterprise's four-colour grade and how it came about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rating {
    /// The final four-colour grade.
    pub grade: Grade,
    /// Whether the grade is the enterprise's own assessment or was derived.
    pub source: GradeSource,
    /// The `unassessed` default when it applied, then every rule that fired, in rule order.
    pub reasons: Vec<GradeReason>,
}

impl Rating {
    /// The reasons as one cell: `"text [code]；text [code]"`.
    pub fn reason_text(&self) -> String {
        self.reasons
            .iter()
            .map(|r| format!("{} [{}]", r.text, r.code))
            .collect::<Vec<_>>()
            .join("；")
    }
}

/// Kind of a hazard unit in GB 18218-2018 terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 储罐区
    TankFarm,
    /// 库区
    Warehouse,
    /// 生产装置 (production unit)
    ProductionUnit,
}

impl UnitKind {
    /// Reads a kind as written in the input, in Chinese (储罐区, 库区, 生产装置 and
    /// common variants) or English; `None` for anything else.
    pub fn parse(text: &str) -> Option<UnitKind> {
        let kind = match text.trim().to_lowercase().as_str() {
            "储罐区" | "罐区" | "tank_farm" | "tank farm" => UnitKind::TankFarm,
            "库区" | "仓库" | "库房" | "warehouse" => UnitKind::Warehouse,
            "生产装置" | "装置" | "生产单元" | "production_unit" | "production unit" => {
                UnitKind::ProductionUnit
            }
            _ => return None,
        };
        Some(kind)
    }

    /// The output spelling (`tank_farm`, `warehouse`, `production_unit`).
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::TankFarm => "tank_farm",
            UnitKind::Warehouse => "warehouse",
            UnitKind::ProductionUnit => "production_unit",
        }
    }

    /// The Chinese label used on maps and in lists.
    pub fn label_zh(self) -> &'static str {
        match self {
            UnitKind::TankFarm => "储罐区",
            UnitKind::Warehouse => "库区",
            UnitKind::ProductionUnit => "生产装置",
        }
    }
}

/// One line of a hazard unit's inventory: a chemical and its design maximum quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Chemical {
    /// Id of the hazard unit this line belongs to.
    pub unit_id: String,
    /// Chemical name as written in the input.
    pub name: String,
    /// CAS number, when given.
    pub cas: Option<String>,
    /// GB 18218 Table 2 hazard category code (J1 … W11), when given.
    pub category: Option<String>,
    /// Design maximum quantity in tonnes.
    pub quantity_t: f64,
    /// Its GB 18218 row, Q and β, identified once when the line is checked
    /// (a line that cannot be identified is rejected).
    pub resolved: Resolved,
}

/// A hazard unit (危险化学品单元) of an enterprise, with its inventory.
#[derive(Debug, Clone)]
pub struct HazardUnit {
    /// Hazard unit id from the input.
    pub id: String,
    /// Id of the owning enterprise, one of the accepted enterprises.
    pub enterprise_id: String,
    /// Unit name as written in the input.
    pub name: String,
    /// Tank farm, warehouse or production unit.
    pub kind: UnitKind,
    /// The unit's own location, or its enterprise's when the input has none.
    pub lon_lat: Point<f64>,
    /// Whether `lon_lat` was taken from the enterprise.
    pub located_by_enterprise: bool,
    /// Influence radius in metres from the input (e.g. an external safety distance).
    pub radius_m: Option<f64>,
    /// People outside the plant within 500 m, when the input gives it.
    pub people_500m: Option<u32>,
    /// The accepted inventory lines, in input order.
    pub chemicals: Vec<Chemical>,
    /// Whether some inventory line of this unit was rejected.
    pub incomplete: bool,
    /// The administrative units of `lon_lat`, set by the join.
    pub admin: Arc<AdminRef>,
    /// Identification and grading, set by the hazard stage.
    pub assessment: Option<Assessment>,
}

impl HazardUnit {
    /// Major-hazard grade 1–4, when assessed and major.
    pub fn major_grade(&self) -> Option<u8> {
        self.assessment.as_ref().and_then(|a| a.grade)
    }

    /// The source's place on the four-colour scale: major-hazard grade 1 → red,
    /// 2 → orange, 3 → yellow, 4 and non-major units → blue.
    pub fn colour(&self) -> Grade {
        match self.major_grade() {
            Some(1) => Grade::Red,
            Some(2) => Grade::Orange,
            Some(3) => Grade::Yellow,
            _ => Grade::Blue,
        }
    }
}

/// Severity of a hidden danger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DangerLevel {
    /// 重大事故隐患
    Major,
    /// 一般事故隐患
    General,
}

impl DangerLevel {
    /// Reads a level as written in the input (重大, 一般 and variants, or
    /// `major`, `general`); `None` for anything else.
    pub fn parse(text: &str) -> Option<DangerLevel> {
        match text.trim().to_lowercase().as_str() {
            "重大" | "重大隐患" | "重大事故隐患" | "major" => Some(DangerLevel::Major),
            "一般" | "一般隐患" | "一般事故隐患" | "general" => {
                Some(DangerLevel::General)
            }
            _ => None,
        }
    }

    /// The output spelling (`major`, `general`).
    pub fn as_str(self) -> &'static str {
        match self {
            DangerLevel::Major => "major",
            DangerLevel::General => "general",
        }
    }
}

/// Where the rectification of a hidden danger stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DangerStatus {
    /// Not yet being rectified (未整改, 待整改, `pending`, `open`).
    Pending,
    /// Being rectified (整改中, `in_progress`).
    InProgress,
    /// Rectified or closed (已整改, 已销号).
    Rectified,
}

impl DangerStatus {
    /// Reads a status as written in the input, in Chinese or English; `None`
    /// for anything else. `open` says only that it is not closed: it is read
    /// as not yet being rectified.
    pub fn parse(text: &str) -> Option<DangerStatus> {
        match text.trim().to_lowercase().as_str() {
            "未整改" | "待整改" | "open" | "pending" => Some(DangerStatus::Pending),
            "整改中" | "in_progress" | "in progress" => Some(DangerStatus::InProgress),
            "已整改" | "已销号" | "rectified" | "closed" | "已完成" => {
                Some(DangerStatus::Rectified)
            }
            _ => None,
        }
    }

    /// Not rectified yet: pending or in progress.
    pub fn is_open(self) -> bool {
        self != DangerStatus::Rectified
    }

    /// The `status` field's spelling: `open` (pending or in progress) or
    /// `rectified`.
    pub fn as_str(self) -> &'static str {
        if self.is_open() {
            "open"
        } else {
            "rectified"
        }
    }

    /// The `progress` field's spelling (`pending`, `in_progress`, `rectified`).
    pub fn progress_str(self) -> &'static str {
        match self {
            DangerStatus::Pending => "pending",
            DangerStatus::InProgress => "in_progress",
            DangerStatus::Rectified => "rectified",
        }
    }

    /// The Chinese label (未整改, 整改中, 已整改).
    pub fn label_zh(self) -> &'static str {
        match self {
            DangerStatus::Pending => "未整改",
            DangerStatus::InProgress => "整改中",
            DangerStatus::Rectified => "已整改",
        }
    }
}

/// A calendar date, kept as year-month-day so output text is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Calendar year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
}

impl Date {
    /// Days from `earlier` to this date (negative when `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i64 {
        self.day_number() - earlier.day_number()
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (the civil
    /// calendar's day count, March-based so leap days fall at a year's end).
    pub fn day_number(self) -> i64 {
        let y = self.year as i64 - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let year_of_era = y - era * 400;
        let m = self.month as i64;
        let day_of_year = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + self.day as i64 - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A hidden danger (事故隐患) found by inspection.
#[derive(Debug, Clone)]
pub struct HiddenDanger {
    /// Hidden danger id from the input.
    pub id: String,
    /// The enterprise it was found in; `None` for a danger in a public place.
    pub enterprise_id: Option<String>,
    /// What was found, as written in the input.
    pub description: String,
    /// Major (重大) or general (一般) hidden danger.
    pub level: DangerLevel,
    /// Pending, in progress or rectified.
    pub status: DangerStatus,
    /// Date it was found, when given.
    pub found: Option<Date>,
    /// Rectification deadline, when given.
    pub due: Option<Date>,
    /// Location in WGS 84 lon/lat degrees: its own, else its enterprise's.
    pub lon_lat: Point<f64>,
    /// Whether `lon_lat` was taken from the enterprise.
    pub located_by_enterprise: bool,
    /// The administrative units of `lon_lat`, set by the join.
    pub admin: Arc<AdminRef>,
    /// Open and past its due date on the data date; set by the grading stage.
    pub overdue: bool,
}

/// A vulnerable target (脆弱性目标): a school, hospital, residential area …
#[derive(Debug, Clone)]
pub struct VulnerableTarget {
    /// Target id from the input.
    pub id: String,
    /// Target name as written in the input.
    pub name: String,
    /// Kind as written in the input (学校, 医院, 居民区 …).
    pub kind: String,
    /// People at the target, when given; summed to estimate α.
    pub population: Option<u32>,
    /// Location in WGS 84 lon/lat degrees.
    pub lon_lat: Point<f64>,
    /// The administrative units of the target, set by the join.
    pub admin: Arc<AdminRef>,
}

/// The kinds of emergency resource (应急资源) whose coverage is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// 救援队伍: professional or enterprise rescue teams.
    RescueTeam,
    /// 消防救援站: fire and rescue stations.
    FireStation,
    /// 应急物资储备库: emergency material depots.
    MaterialDepot,
    /// 医院: hospitals.
    Hospital,
    /// 避难场所: emergency shelters.
    Shelter,
}

impl ResourceKind {
    /// Every kind, in the order of the lists and layers.
    pub const ALL: [ResourceKind; 5] = [
        ResourceKind::RescueTeam,
        ResourceKind::FireStation,
        ResourceKind::MaterialDepot,
        ResourceKind::Hospital,
        ResourceKind::Shelter,
    ];

    /// Reads a kind as written in the input: the Chinese name, a common
    /// variant or the English name; `None` for anything else.
    pub fn parse(text: &str) -> Option<ResourceKind> {
        let t = text.trim().to_lowercase();
        let t = t.replace([' ', '-'], "_");
        Some(match t.as_str() {
            "救援队伍" | "应急救援队伍" | "专业救援队伍" | "救援队" | "rescue_team" => {
                ResourceKind::RescueTeam
            }
            "消防救援站" | "消防站" | "消防救援队" | "fire_station" => {
                ResourceKind::FireStation
            }
            "应急物资储备库" | "物资储备库" | "应急物资库" | "material_depot" => {
                ResourceKind::MaterialDepot
            }
            "医院" | "医疗机构" | "hospital" => ResourceKind::Hospital,
            "避难场所" | "应急避难场所" | "shelter" => ResourceKind::Shelter,
            _ => return None,
        })
    }

    /// The output spelling (`rescue_team`, `fire_station` …), also the key
    /// of `[coverage.within_m]`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::RescueTeam => "rescue_team",
            ResourceKind::FireStation => "fire_station",
            ResourceKind::MaterialDepot => "material_depot",
            ResourceKind::Hospital => "hospital",
            ResourceKind::Shelter => "shelter",
        }
    }

    /// The Chinese name.
    pub fn label_zh(self) -> &'static str {
        match self {
            ResourceKind::RescueTeam => "救援队伍",
            ResourceKind::FireStation => "消防救援站",
            ResourceKind::MaterialDepot => "应急物资储备库",
            ResourceKind::Hospital => "医院",
            ResourceKind::Shelter => "避难场所",
        }
    }
}

/// An emergency resource (应急资源): a rescue team, fire station, material
/// depot, hospital or shelter.
#[derive(Debug, Clone)]
pub struct EmergencyResource {
    /// Resource id from the input.
    pub id: String,
    /// Name as written in the input.
    pub name: String,
    /// What kind of resource it is.
    pub kind: ResourceKind,
    /// Its capacity as the bureau records it (people, beds, m² …), when given.
    pub capacity: Option<u32>,
    /// Duty telephone, when given.
    pub phone: Option<String>,
    /// Location in WGS 84 lon/lat degrees.
    pub lon_lat: Point<f64>,
    /// The administrative units of the resource, set by the join.
    pub admin: Arc<AdminRef>,
}

/// A road of the network the coverage routes over.
#[derive(Debug, Clone)]
pub struct Road {
    /// Road id from the input, else `#` and its row.
    pub id: String,
    /// Its lines in WGS 84 lon/lat degrees.
    pub lines: MultiLineString<f64>,
}

/// A feature of a base layer (`[basemap.…]`): context drawn under the risk
/// data, never analysed.
#[derive(Debug, Clone)]
pub struct BaseFeature {
    /// Its name, else `#` and its row (names may repeat).
    pub id: String,
    /// Its name, when given.
    pub name: Option<String>,
    /// Its class as written (a road's class, 运河, a place's rank …).
    pub class: Option<String>,
    /// A place's population, when given.
    pub population: Option<f64>,
    /// Its geometry in WGS 84 lon/lat degrees.
    pub geometry: geo::Geometry<f64>,
}

/// A chemical park (化工园区), as its boundary polygon.
#[derive(Debug, Clone)]
pub struct ChemicalPark {
    /// Park code from the input.
    pub code: String,
    /// Park name.
    pub name: String,
    /// Its level as written (国家级, 省级 …), when given.
    pub level: Option<String>,
    /// Boundary in WGS 84 lon/lat degrees.
    pub boundary: MultiPolygon<f64>,
}

/// How much a vulnerable target needs protecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Protection {
    /// 高敏感: people who cannot leave by themselves (schools, hospitals …).
    HighlySensitive,
    /// 重要: many people gathered (residential areas, malls, stations …).
    Important,
    /// 一般: everything else.
    General,
}

impl Protection {
    /// The Chinese label (高敏感, 重要, 一般).
    pub fn label_zh(self) -> &'static str {
        match self {
            Protection::HighlySensitive => "高敏感",
            Protection::Important => "重要",
            Protection::General => "一般",
        }
    }
}

impl VulnerableTarget {
    /// Protection class from the kind: a kind naming a school, kindergarten,
    /// hospital, care home or welfare home is 高敏感; a residential area, mall,
    /// market, station, stadium, hotel, office or other crowded place is 重要.
    pub fn protection(&self) -> Protection {
        const HIGH: [&str; 9] = [
            "学",
            "校",
            "幼儿园",
            "托儿",
            "医院",
            "卫生",
            "养老",
            "敬老",
            "福利院",
        ];
        const IMPORTANT: [&str; 14] = [
            "居民", "小区", "住宅", "社区", "村", "商场", "市场", "超市", "车站", "客运", "体育",
            "宾馆", "酒店", "机关",
        ];
        if HIGH.iter().any(|k| self.kind.contains(k)) {
            Protection::HighlySensitive
        } else if IMPORTANT.iter().any(|k| self.kind.contains(k)) {
            Protection::Important
        } else {
            Protection::General
        }
    }
}

// ------------------------------------------------- GB 18218 assessment
// The results of identification and grading (computed in `hazard`), kept
// here with the other domain types so that every stage reads them alike.

/// How an inventory line was matched to its GB 18218 row (see
/// [`crate::analysis::chemicals`] for the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// Its CAS number is in the Table 1 row.
    Cas,
    /// Its name is the row's name.
    Name,
    /// Its name is one of the row's aliases in the standard.
    Alias,
    /// Its name is in the synonym table.
    Synonym,
    /// Its name with a concentration or grade qualifier removed matched.
    Qualified,
    /// Not in Table 1: its Table 2 category was given.
    Category,
    /// In no Table 1 row and no Table 2 category (the synonym table says so).
    NotCovered,
}

impl MatchedBy {
    /// The snake_case name used in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Cas => "cas",
            MatchedBy::Name => "name",
            MatchedBy::Alias => "alias",
            MatchedBy::Synonym => "synonym",
            MatchedBy::Qualified => "qualified",
            MatchedBy::Category => "category",
            MatchedBy::NotCovered => "not_covered",
        }
    }

    /// The Chinese name shown in lists and traces.
    pub fn label_zh(self) -> &'static str {
        match self {
            MatchedBy::Cas => "CAS号",
            MatchedBy::Name => "名称",
            MatchedBy::Alias => "别名",
            MatchedBy::Synonym => "同义名",
            MatchedBy::Qualified => "去除浓度/规格后名称",
            MatchedBy::Category => "危险性类别",
            MatchedBy::NotCovered => "不在辨识范围",
        }
    }
}

/// How a chemical's Q and β were found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    /// Critical quantity Q in tonnes; `None` for a substance GB 18218 does
    /// not cover (it adds nothing to S or R).
    pub critical_t: Option<f64>,
    /// The row used: `table1:<seq>`, `table2:<code>`, or `none`.
    pub q_source: String,
    /// The row's name in the standard (Table 1 name or Table 2 category).
    pub row_name: String,
    /// Correction coefficient β.
    pub beta: f64,
    /// Where β came from: `table3`, `table4:<code>`, or `assumed:<group>`.
    pub beta_source: String,
    /// Whether β was assumed (Table 1 chemical without a category).
    pub beta_assumed: bool,
    /// How the line was matched to its row.
    pub matched_by: MatchedBy,
    /// Set when a choice was made between rows (the conservative one taken):
    /// what was chosen and why.
    pub choice: Option<String>,
}

/// One chemical's share of a unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChemicalShare {
    /// Chemical name as written in the input.
    pub name: String,
    /// Design maximum quantity q in tonnes.
    pub quantity_t: f64,
    /// Q and β used for this line, and where they came from.
    pub resolved: Resolved,
    /// qᵢ/Qᵢ
    pub ratio: f64,
}

/// Where the exposed-people count behind α came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlphaSource {
    /// Given in the input (the unit's or its enterprise's people within 500 m).
    Input,
    /// Estimated from vulnerable targets' populations within 500 m.
    Estimated,
}

impl AlphaSource {
    /// The output spelling (`input`, `estimated`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlphaSource::Input => "input",
            AlphaSource::Estimated => "estimated",
        }
    }
}

/// The identification and grading of one hazard unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// S = Σ qᵢ/Qᵢ.
    pub s: f64,
    /// Whether S ≥ 1 (compared after rounding to 1e-9): a 重大危险源.
    pub is_major: bool,
    /// Correction factor α from Table 5 for `people_500m`.
    pub alpha: f64,
    /// Where `people_500m` came from.
    pub alpha_source: AlphaSource,
    /// People outside the plant within 500 m, the count behind α.
    pub people_500m: u32,
    /// R, computed whatever S (the grade is only given when S ≥ 1).
    pub r: f64,
    /// Major-hazard grade 1–4, `None` when S < 1.
    pub grade: Option<u8>,
    /// Each inventory line's quantity, Q, β and qᵢ/Qᵢ, in input order.
    pub shares: Vec<ChemicalShare>,
    /// Whether some inventory line of the unit was rejected.
    pub incomplete: bool,
}

impl Assessment {
    /// β values used, as a readable cell: "氯 β=4 (table3); 甲醇 β=1.5 (assumed …)".
    pub fn betas_text(&self) -> String {
        self.shares
            .iter()
            .map(|s| {
                format!(
                    "{} β={} ({})",
                    s.name, s.resolved.beta, s.resolved.beta_source
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Whether a choice between rows was made for any line (see
    /// [`Resolved::choice`]).
    pub fn ambiguous_match(&self) -> bool {
        self.shares.iter().any(|s| s.resolved.choice.is_some())
    }

    /// Whether β was assumed for any line (see [`Resolved::beta_assumed`]).
    pub fn any_beta_assumed(&self) -> bool {
        self.shares.iter().any(|s| s.resolved.beta_assumed)
    }
}

#[cfg(test)]
mod tests {
    use super::Date;

    fn d(year: i32, month: u32, day: u32) -> Date {
        Date { year, month, day }
    }

    #[test]
    fn days_between_dates_count_leap_days() {
        assert_eq!(d(2026, 10, 31).days_since(d(2026, 9, 1)), 60);
        assert_eq!(d(2024, 3, 1).days_since(d(2024, 2, 28)), 2);
        assert_eq!(d(2023, 3, 1).days_since(d(2023, 2, 28)), 1);
        assert_eq!(d(2025, 1, 1).days_since(d(2024, 1, 1)), 366);
        assert_eq!(d(2000, 1, 1).days_since(d(1970, 1, 1)), 10_957);
        assert_eq!(d(2026, 9, 1).days_since(d(2026, 10, 31)), -60);
    }
}
