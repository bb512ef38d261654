//! The ingest stage: from the project's input files to validated records
//! joined to the administrative units.
//!
//! It takes the validated [`config::Project`] and gives [`Loaded`]: the
//! indexed units, the enterprises, hazard units (with their inventories),
//! hidden dangers and vulnerable targets that passed every check, each joined
//! to its unit path, and the [`validate::Ledger`] with every reject. The
//! readers ([`load`]) are the only code here that touches files; the checks
//! ([`validate`], [`values`]) are pure. A point in no unit is a reject like
//! any other, so the join to the units is done here, as records are checked.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use geo::Point;
use thiserror::Error;

use crate::analysis::join::{AdminIndex, Outside};
use crate::analysis::outline::Distance;
use crate::crs::MetricCrs;
use crate::model::{
    AdminRef, AdminUnit, BaseFeature, ChemicalPark, EmergencyResource, Enterprise, Enterprises,
    HazardUnit, HiddenDanger, Road, VulnerableTarget,
};
use crate::progress::{Progress, Timings};
use config::{InputKind, InputSpec, MetricChoice, Project};
use load::tiles::TilePackage;
use load::{LoadError, RawRecord, ReadSummaries, ReadSummary};
use stream::{Admitted, Gate, Keyed};
use validate::{Checker, FieldError, Ledger, RejectCode, Staged};

pub mod config;
pub mod load;
pub mod stream;
pub mod validate;
pub mod values;

/// Why the inputs could not be ingested at all (a bad record is a reject, not this).
#[derive(Debug, Error)]
pub enum IngestError {
    /// An input file could not be opened or read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Every administrative unit was rejected, so no point can be joined.
    #[error("{file}: no usable administrative unit, so nothing can be joined{first}")]
    NoUnits {
        /// The units' file, as written in the project file.
        file: String,
        /// The first reject as ` (feature N: reason)`, or empty when there is none.
        first: String,
    },
    /// A feature of a boundary file failed its checks.
    #[error("{file}: feature {row}: {reason}")]
    BadBoundary {
        /// The boundary file.
        file: String,
        /// The 1-based feature number.
        row: u64,
        /// Why the feature was refused.
        reason: String,
    },
    /// A boundary file holds no feature at all.
    #[error("{file}: no administrative units")]
    NoBoundaries {
        /// The boundary file.
        file: String,
    },
}

/// A record that has a location to join.
pub trait Located {
    /// The record's location in WGS 84 lon/lat degrees.
    fn lon_lat(&self) -> Point<f64>;
    /// Stores the administrative units the location was joined to.
    fn set_admin(&mut self, admin: Arc<AdminRef>);
}

macro_rules! located {
    ($($t:ty),*) => {$(
        impl Located for $t {
            fn lon_lat(&self) -> Point<f64> { self.lon_lat }
            fn set_admin(&mut self, admin: Arc<AdminRef>) { self.admin = admin; }
        }
    )*};
}
located!(
    Enterprise,
    HazardUnit,
    HiddenDanger,
    VulnerableTarget,
    EmergencyResource
);

macro_rules! keyed {
    ($($t:ty),*) => {$(
        impl Keyed for $t {
            fn key(&self) -> &str { &self.id }
        }
    )*};
}
impl Keyed for Enterprise {
    fn key(&self) -> &str {
        self.id()
    }
}

keyed!(
    HazardUnit,
    HiddenDanger,
    VulnerableTarget,
    EmergencyResource,
    Road,
    BaseFeature
);

impl<T> Keyed for Staged<T> {
    fn key(&self) -> &str {
        &self.id
    }
}

/// Everything the inputs held, validated and joined. The enterprises are
/// [`Enterprise`]s as loaded and [`crate::model::Graded`] once the analysis
/// has graded them.
pub struct Loaded<E = Enterprise> {
    /// The accepted administrative units, indexed for point joins.
    pub index: AdminIndex,
    /// The accepted enterprises, in input order.
    pub enterprises: Enterprises<E>,
    /// The accepted hazard units, each with its accepted inventory lines.
    pub hazard_units: Vec<HazardUnit>,
    /// The accepted hidden dangers (事故隐患).
    pub hidden_dangers: Vec<HiddenDanger>,
    /// The accepted vulnerable targets (脆弱性目标).
    pub targets: Vec<VulnerableTarget>,
    /// The accepted emergency resources (应急资源).
    pub resources: Vec<EmergencyResource>,
    /// The accepted chemical parks (化工园区).
    pub parks: Vec<ChemicalPark>,
    /// The accepted roads, for the coverage's routes.
    pub roads: Vec<Road>,
    /// The base layers' accepted features by layer (`[basemap.…]`), for the maps.
    pub basemap: BTreeMap<InputKind, Vec<BaseFeature>>,
    /// The raster tile package (`[basemap] tiles`), open for the maps.
    pub tiles: Option<Arc<TilePackage>>,
    /// Every reject and repair, the rejects sorted by input and row.
    pub ledger: Ledger,
    /// How each input was read: driver, layer, CRS and warnings.
    pub summaries: ReadSummaries,
    /// Wall time of each load, join and index stage.
    pub timings: Timings,
}

/// Reads an input and checks every record (`checked`: see [`stream`]);
/// what GDAL and the decoder noticed goes to `notes`, one line each.
fn read_checked<U: Keyed + Send>(
    spec: &InputSpec,
    ledger: &mut Ledger,
    summaries: &mut ReadSummaries,
    notes: &mut Vec<String>,
    checked: impl FnOnce(&mut Ledger) -> Result<(Admitted<U>, ReadSummary), LoadError>,
) -> Result<Admitted<U>, LoadError> {
    let kind = spec.kind;
    let read_before = ledger.read(kind);
    let (admitted, summary) = checked(ledger)?;
    // Every physical line of a CSV is a record, a reject, blank or the header.
    if let Some(lines) = &summary.lines {
        let read = ledger.read(kind) - read_before;
        if read != lines.records + lines.malformed {
            return Err(LoadError::Layer {
                file: spec.display_path.clone(),
                message: format!(
                    "internal error: {read} rows read but the file's lines hold {} records and {} malformed lines",
                    lines.records,
                    lines.malformed
                ),
            });
        }
    }
    for w in summary.warnings.iter().take(5) {
        notes.push(format!("warning: {}: {w}", spec.display_path));
    }
    if summary.warnings.len() > 5 {
        notes.push(format!(
            "warning: {}: … {} more GDAL messages in report.json",
            spec.display_path,
            summary.warnings.len() - 5
        ));
    }
    if let Some(hint) = &summary.encoding_hint {
        notes.push(format!("warning: {hint}"));
    }
    summaries.insert(kind, summary);
    Ok(admitted)
}

/// Joins a checked point to its unit; a point outside every unit fails
/// with the distance to the nearest unit.
fn join_to_unit<T: Located>(record: &mut T, index: &AdminIndex) -> Result<(), FieldError> {
    let p = record.lon_lat();
    let admin = index
        .join(p)
        .map_err(|outside| outside_error(p, &outside, index))?;
    record.set_admin(admin);
    Ok(())
}

/// A record with its source and id, for inputs checked further once all are read.
fn staged<T>(checker: &Checker, raw: &RawRecord, record: T) -> Staged<T> {
    Staged {
        source: raw.source.clone(),
        id: checker
            .id_of(raw, checker.spec.kind.id_field())
            .unwrap_or_default(),
        record,
    }
}

fn outside_error(p: Point<f64>, outside: &Outside, index: &AdminIndex) -> FieldError {
    let value = format!("{:.6}, {:.6} (WGS 84)", p.x(), p.y());
    if outside.swapped_inside {
        return FieldError::new(
            "x/y",
            &value,
            RejectCode::LonLatSwapped,
            "longitude and latitude are swapped (swapped, the point falls inside the study area)",
        );
    }
    let reason = match outside.distance {
        Some(Distance::Near(near)) => {
            let u = &index.units()[near.slot];
            // Below a metre, whole metres would read "0 m".
            let decimals = usize::from(near.metres < 1.0);
            format!(
                "outside the study area: {:.*} m from the nearest unit, {} ({})",
                decimals, near.metres, u.name, u.code
            )
        }
        Some(Distance::Beyond(metres)) => {
            format!(
                "outside the study area: more than {:.0} km from every unit",
                metres / 1000.0
            )
        }
        None => "outside the study area".to_string(),
    };
    FieldError::new("x/y", &value, RejectCode::OutsideStudyArea, reason)
}

fn metric_for(project: &Project, units: &[AdminUnit]) -> MetricCrs {
    match project.metric_crs {
        MetricChoice::Epsg(code) => MetricCrs::for_epsg(code).expect("config checked the zone"),
        MetricChoice::Auto => metric_for_units(units),
    }
}

/// The Gauss–Krüger zone of the centre of the units' envelope.
fn metric_for_units(units: &[AdminUnit]) -> MetricCrs {
    use geo::BoundingRect;
    let rect = units
        .iter()
        .filter_map(|u| u.boundary.bounding_rect())
        .reduce(|a, b| {
            geo::Rect::new(
                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        });
    let c = rect
        .map(|r| r.center())
        .unwrap_or(geo::coord! { x: 120.0, y: 30.0 });
    MetricCrs::for_longitude(c.x, c.y)
}

/// The state the loading stages share: the ledger, the read summaries and
/// the timings.
struct Stages<'a> {
    ledger: Ledger,
    summaries: ReadSummaries,
    timings: Timings,
    progress: &'a Progress,
    /// The readers' warnings not yet shown: a fork's wait for its
    /// [`Stages::merge`], so stderr keeps the inputs' order.
    notes: Vec<String>,
    forked: bool,
}

impl<'a> Stages<'a> {
    fn new(progress: &'a Progress) -> Stages<'a> {
        Stages {
            ledger: Ledger::default(),
            summaries: ReadSummaries::new(),
            timings: Timings::default(),
            progress,
            notes: Vec::new(),
            forked: false,
        }
    }

    /// Empty stages for inputs read on another thread, to be merged back.
    fn fork(&self) -> Stages<'a> {
        Stages {
            forked: true,
            ..Stages::new(self.progress)
        }
    }

    /// Takes back a fork's rejects, counts, summaries, timings and notes
    /// (its inputs are read after this one's: the order stays the files').
    fn merge(&mut self, fork: Stages) {
        let Ledger {
            rejects,
            repairs,
            counts,
        } = fork.ledger;
        self.ledger.rejects.extend(rejects);
        self.ledger.repairs.extend(repairs);
        for (kind, c) in counts {
            debug_assert!(!self.ledger.counts.contains_key(&kind));
            self.ledger.counts.insert(kind, c);
        }
        self.summaries.extend(fork.summaries);
        self.timings.0.extend(fork.timings.0);
        self.notes.extend(fork.notes);
        self.show_notes();
    }

    /// Shows the notes so far, unless this is a fork.
    fn show_notes(&mut self) {
        if !self.forked {
            for n in self.notes.drain(..) {
                crate::note!("{n}");
            }
        }
    }

    /// Reads and checks one input as the stage `load_<input>`.
    fn read<U: Keyed + Send>(
        &mut self,
        spec: &InputSpec,
        check: impl Fn(&Checker, &RawRecord) -> Result<U, FieldError> + Sync,
    ) -> Result<Admitted<U>, LoadError> {
        let progress = self.progress;
        self.read_with(spec, |ledger| {
            stream::check_input(spec, ledger, progress, check)
        })
    }

    /// Reads an input as the stage `load_<input>`, checked by `checked`.
    fn read_with<U: Keyed + Send>(
        &mut self,
        spec: &InputSpec,
        checked: impl FnOnce(&mut Ledger) -> Result<(Admitted<U>, ReadSummary), LoadError>,
    ) -> Result<Admitted<U>, LoadError> {
        let Stages {
            ledger,
            summaries,
            timings,
            notes,
            ..
        } = self;
        let admitted = timings.stage(&format!("load_{}", spec.kind.key()), || {
            read_checked(spec, ledger, summaries, notes, checked)
        });
        self.show_notes();
        admitted
    }

    /// Reads, checks and joins a point input (`load_<input>`): a record is
    /// accepted once it lies in a unit.
    fn read_points<T: Located + Keyed + Send>(
        &mut self,
        spec: &InputSpec,
        index: &AdminIndex,
        check: impl Fn(&Checker, &RawRecord) -> Result<T, FieldError> + Sync,
    ) -> Result<Admitted<T>, LoadError> {
        let admitted = self.read(spec, |c, raw| {
            let mut record = check(c, raw)?;
            join_to_unit(&mut record, index).map(|()| record)
        })?;
        self.ledger.set_accepted(spec.kind, admitted.records.len());
        Ok(admitted)
    }

    /// [`Self::read_points`] while the units are still being indexed: the
    /// records are checked as they are read and joined once `units` opens.
    fn read_points_before_units<T: Located + Keyed + Send>(
        &mut self,
        spec: &InputSpec,
        units: &Gate<AdminIndex>,
        check: impl Fn(&Checker, &RawRecord) -> Result<T, FieldError> + Sync,
    ) -> Result<Admitted<T>, LoadError> {
        let progress = self.progress;
        let admitted = self.read_with(spec, |ledger| {
            stream::check_input_then(spec, ledger, progress, check, units, |index, record| {
                join_to_unit(record, index)
            })
        })?;
        self.ledger.set_accepted(spec.kind, admitted.records.len());
        Ok(admitted)
    }
}

/// Loads, validates and joins every input. `after_units` runs once the
/// administrative units are indexed, before the (large) point inputs are
/// read: the place for checks that need the study area.
///
/// The enterprises, the largest input, are read and checked on a thread of
/// their own while the units are read and indexed (one GDAL dataset on one
/// core leaves the other idle), and joined once the index is built.
pub fn load_all<E: From<IngestError>>(
    project: &Project,
    progress: &Progress,
    after_units: impl FnOnce(&AdminIndex) -> Result<(), E>,
) -> Result<Loaded, E> {
    load::check_paths(project.inputs.values()).map_err(IngestError::from)?;
    let tiles = open_tiles(project).map_err(IngestError::from)?;
    let mut st = Stages::new(progress);
    let spec = project
        .inputs
        .get(&InputKind::Enterprises)
        .expect("required input");
    let units = Gate::shut();
    let (index, fork, enterprises) = std::thread::scope(|scope| {
        let mut fork = st.fork();
        let units = &units;
        let reading = std::thread::Builder::new()
            .name("read".into())
            .spawn_scoped(scope, move || {
                let read = fork.read_points_before_units(spec, units, |c, raw| c.enterprise(raw));
                (fork, read)
            })
            .expect("the system can start a thread");
        let index = read_units(project, &mut st)
            .map_err(E::from)
            .and_then(|index| after_units(&index).map(|()| Arc::new(index)));
        match &index {
            Ok(index) => units.open(index.clone()),
            Err(_) => units.abandon(),
        }
        let (fork, enterprises) = reading.join().expect("the reading thread does not panic");
        (index, fork, enterprises)
    });
    drop(units);
    let index = Arc::into_inner(index?).expect("the gate and the reading thread are gone");
    st.merge(fork);
    let enterprises = enterprises.map_err(IngestError::from)?;
    let loaded = read_points(project, st, index, enterprises)?;
    Ok(Loaded { tiles, ..loaded })
}

/// The project's raster tile package (`[basemap] tiles`), opened.
fn open_tiles(project: &Project) -> Result<Option<Arc<TilePackage>>, LoadError> {
    let Some((path, _)) = &project.basemap_tiles else {
        return Ok(None);
    };
    let bad = |message: String| LoadError::Path {
        input: "[basemap] tiles",
        path: path.display().to_string(),
        message,
    };
    if !path.is_file() {
        return Err(bad("no such file".into()));
    }
    TilePackage::open(path)
        .map(|t| Some(Arc::new(t)))
        .map_err(bad)
}

/// Reads and checks the administrative units (with their hierarchy) and indexes them.
fn read_units(project: &Project, st: &mut Stages) -> Result<AdminIndex, IngestError> {
    let admin_spec = project
        .inputs
        .get(&InputKind::AdminUnits)
        .expect("required input");
    let staged = st.read(admin_spec, |c, raw| {
        c.admin_unit(raw).map(|u| staged(c, raw, u))
    })?;
    let mut repairs = Vec::new();
    let staged: Vec<Staged<AdminUnit>> = staged
        .records
        .into_iter()
        .map(|s| {
            let (unit, repair) = s.record;
            repairs.extend(repair);
            Staged {
                source: s.source,
                id: s.id,
                record: unit,
            }
        })
        .collect();
    let parent_column = admin_spec.column("parent").unwrap_or("parent");
    let (staged, bad) = validate::check_hierarchy(staged, parent_column);
    for (unit, e) in bad {
        repairs.retain(|r| !(r.row == unit.source.row && r.id == unit.id));
        st.ledger
            .reject(InputKind::AdminUnits, unit.source, Some(unit.id), e);
    }
    st.ledger.repairs.extend(repairs);
    st.ledger.set_accepted(InputKind::AdminUnits, staged.len());
    let units: Vec<AdminUnit> = staged.into_iter().map(|s| s.record).collect();
    if units.is_empty() {
        let first = st
            .ledger
            .rejects
            .iter()
            .find(|r| r.kind == InputKind::AdminUnits)
            .map(|r| format!(" (feature {}: {})", r.source.row, r.reason))
            .unwrap_or_default();
        return Err(IngestError::NoUnits {
            file: admin_spec.display_path.clone(),
            first,
        });
    }
    let metric = metric_for(project, &units);
    Ok(st
        .timings
        .stage("index_admin_units", || AdminIndex::new(units, metric)))
}

/// Reads, checks and joins the point inputs after the enterprises, in the
/// order their references need.
fn read_points(
    project: &Project,
    mut st: Stages,
    index: AdminIndex,
    enterprises: Admitted<Enterprise>,
) -> Result<Loaded, IngestError> {
    let enterprises = Enterprises::indexed(enterprises.records, enterprises.index);
    // The hidden dangers and targets are read on a thread of their own
    // while the hazard units and their inventory are read here: each file
    // is read by one GDAL dataset on one thread, so two files at once use
    // the second core, which one file's checks leave mostly idle.
    let (hazard_units, (fork, (hidden_dangers, targets, resources, parks, roads, basemap))) =
        std::thread::scope(|scope| {
            let mut fork = st.fork();
            let (enterprises, index) = (&enterprises, &index);
            let others = std::thread::Builder::new()
                .name("read".into())
                .spawn_scoped(scope, move || {
                    let others = read_others(project, &mut fork, index, enterprises);
                    others.map(|o| (fork, o))
                })
                .expect("the system can start a thread");
            let units = read_hazard_units(project, &mut st, index, enterprises);
            let others = others.join().expect("the reading thread does not panic");
            Ok::<_, LoadError>((units?, others?))
        })?;
    st.merge(fork);
    let Stages {
        mut ledger,
        summaries,
        timings,
        ..
    } = st;

    // Rejects read best in file order, whichever check caught them.
    ledger.rejects.sort_by_key(|r| (r.kind, r.source.row));
    Ok(Loaded {
        index,
        enterprises,
        hazard_units,
        hidden_dangers,
        targets,
        resources,
        parks,
        roads,
        basemap,
        tiles: None,
        ledger,
        summaries,
        timings,
    })
}

/// The hazard units with their inventory lines (none unless both inputs are given).
fn read_hazard_units(
    project: &Project,
    st: &mut Stages,
    index: &AdminIndex,
    enterprises: &Enterprises,
) -> Result<Vec<HazardUnit>, LoadError> {
    let spec = |k: InputKind| project.inputs.get(&k);
    let (Some(units_spec), Some(chem_spec)) =
        (spec(InputKind::HazardUnits), spec(InputKind::Chemicals))
    else {
        return Ok(Vec::new());
    };
    let mut hazard_units = st
        .read_points(units_spec, index, |c, raw| c.hazard_unit(raw, enterprises))?
        .records;
    let slot: HashMap<String, usize> = hazard_units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.clone(), i))
        .collect();
    let chemicals = st
        .read(chem_spec, |c, raw| {
            c.chemical(raw, &slot).map(|line| staged(c, raw, line))
        })?
        .records;
    st.ledger
        .set_accepted(InputKind::Chemicals, chemicals.len());
    for c in chemicals {
        hazard_units[slot[&c.record.unit_id]]
            .chemicals
            .push(c.record);
    }
    // A unit with a rejected inventory line is computed from the rest, flagged.
    for r in st
        .ledger
        .rejects
        .iter()
        .filter(|r| r.kind == InputKind::Chemicals)
    {
        if let Some(&i) = r.id.as_ref().and_then(|id| slot.get(id)) {
            hazard_units[i].incomplete = true;
        }
    }
    Ok(hazard_units)
}

/// What the other inputs hold.
type Others = (
    Vec<HiddenDanger>,
    Vec<VulnerableTarget>,
    Vec<EmergencyResource>,
    Vec<ChemicalPark>,
    Vec<Road>,
    BTreeMap<InputKind, Vec<BaseFeature>>,
);

/// The hidden dangers, the vulnerable targets, the emergency resources, the
/// chemical parks, the roads and the base layers (each empty when not given).
fn read_others(
    project: &Project,
    st: &mut Stages,
    index: &AdminIndex,
    enterprises: &Enterprises,
) -> Result<Others, LoadError> {
    let spec = |k: InputKind| project.inputs.get(&k);
    let hidden_dangers = match spec(InputKind::HiddenDangers) {
        Some(s) => {
            st.read_points(s, index, |c, raw| c.hidden_danger(raw, enterprises))?
                .records
        }
        None => Vec::new(),
    };
    let targets = match spec(InputKind::VulnerableTargets) {
        Some(s) => {
            st.read_points(s, index, |c, raw| c.vulnerable_target(raw))?
                .records
        }
        None => Vec::new(),
    };
    let resources = match spec(InputKind::EmergencyResources) {
        Some(s) => {
            st.read_points(s, index, |c, raw| c.emergency_resource(raw))?
                .records
        }
        None => Vec::new(),
    };
    let parks = match spec(InputKind::Parks) {
        Some(s) => read_parks(st, s)?,
        None => Vec::new(),
    };
    let roads = match spec(InputKind::Roads) {
        Some(s) => {
            let roads = st.read(s, |c, raw| c.road(raw))?.records;
            st.ledger.set_accepted(InputKind::Roads, roads.len());
            roads
        }
        None => Vec::new(),
    };
    let mut basemap = BTreeMap::new();
    for kind in InputKind::BASEMAP {
        if let Some(s) = spec(kind) {
            let features = st.read(s, |c, raw| c.base_feature(raw))?.records;
            st.ledger.set_accepted(kind, features.len());
            basemap.insert(kind, features);
        }
    }
    Ok((hidden_dangers, targets, resources, parks, roads, basemap))
}

/// The chemical parks, their repairs noted.
fn read_parks(st: &mut Stages, spec: &InputSpec) -> Result<Vec<ChemicalPark>, LoadError> {
    let staged = st.read(spec, |c, raw| c.park(raw).map(|p| staged(c, raw, p)))?;
    let mut parks = Vec::with_capacity(staged.records.len());
    for s in staged.records {
        let (park, repair) = s.record;
        st.ledger.repairs.extend(repair);
        parks.push(park);
    }
    st.ledger.set_accepted(InputKind::Parks, parks.len());
    Ok(parks)
}

/// Reads a boundary file with the bundled files' properties (`adcode`,
/// `name`, `level`, `parent`); any bad feature is an error.
pub fn load_boundaries(path: &Path, progress: &Progress) -> Result<Vec<AdminUnit>, IngestError> {
    let spec = InputSpec::boundaries(path);
    let mut st = Stages::new(progress);
    let staged = st
        .read(&spec, |c, raw| c.admin_unit(raw).map(|u| staged(c, raw, u)))?
        .records;
    let ledger = st.ledger;
    if let Some(r) = ledger.rejects.first() {
        return Err(IngestError::BadBoundary {
            file: r.source.file.to_string(),
            row: r.source.row,
            reason: r.reason.clone(),
        });
    }
    if staged.is_empty() {
        return Err(IngestError::NoBoundaries {
            file: spec.display_path.clone(),
        });
    }
    Ok(staged.into_iter().map(|s| s.record.0).collect())
}

/// The index over a set of units in the zone of their centre.
pub fn index_units(units: Vec<AdminUnit>) -> AdminIndex {
    let metric = metric_for_units(&units);
    AdminIndex::new(units, metric)
}
