//! Emergency resources' coverage (应急资源覆盖): for each high-risk place —
//! each red or orange enterprise and each major hazard source — the nearest
//! resource of each kind, its distance by route, and whether the place is
//! covered. With no road network the route is estimated as the straight
//! line in the metric CRS times `[coverage] detour_factor`.

use std::sync::Arc;

use geo::Point;
use rayon::prelude::*;

use super::spatial::PointIndex;
use crate::crs::MetricCrs;
use crate::ingest::config::Coverage;
use crate::model::{
    AdminRef, EmergencyResource, Enterprises, Grade, Graded, HazardUnit, ResourceKind,
};

/// What a high-risk place is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PlaceKind {
    /// A major hazard source (a hazard unit graded 1–4).
    MajorHazard,
    /// A red or orange enterprise.
    Enterprise,
}

impl PlaceKind {
    /// The output spelling (`major_hazard`, `enterprise`).
    pub fn as_str(self) -> &'static str {
        match self {
            PlaceKind::MajorHazard => "major_hazard",
            PlaceKind::Enterprise => "enterprise",
        }
    }

    /// The Chinese name.
    pub fn label_zh(self) -> &'static str {
        match self {
            PlaceKind::MajorHazard => "重大危险源",
            PlaceKind::Enterprise => "企业",
        }
    }
}

/// The nearest resource of one kind to a place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    /// Its index in the accepted resources.
    pub resource: usize,
    /// Estimated route distance, metres: straight line × detour factor.
    pub route_m: f64,
    /// Within the kind's reach.
    pub within: bool,
}

/// A high-risk place and the resources around it.
#[derive(Debug, Clone)]
pub struct Place {
    /// Major hazard source or enterprise.
    pub kind: PlaceKind,
    /// The hazard unit's or the enterprise's id.
    pub id: String,
    /// The enterprise's id (its own for an enterprise).
    pub enterprise_id: String,
    /// The hazard unit's or the enterprise's name.
    pub name: String,
    /// The enterprise's grade.
    pub grade: Grade,
    /// The major-hazard grade 1–4 of a major hazard source.
    pub hazard_grade: Option<u8>,
    /// Location in WGS 84 lon/lat degrees.
    pub lon_lat: Point<f64>,
    /// Its administrative units.
    pub admin: Arc<AdminRef>,
    /// The nearest resource of each kind, in [`ResourceKind::ALL`] order;
    /// `None` where the input has none of that kind.
    pub nearest: [Option<Nearest>; 5],
    /// Every required kind is within reach.
    pub covered: bool,
}

impl Place {
    /// The required kinds not within reach.
    pub fn missing(&self, required: &[ResourceKind]) -> Vec<ResourceKind> {
        ResourceKind::ALL
            .iter()
            .zip(&self.nearest)
            .filter(|(k, n)| required.contains(k) && !n.is_some_and(|n| n.within))
            .map(|(k, _)| *k)
            .collect()
    }
}

/// The coverage of every high-risk place.
#[derive(Debug, Clone, Default)]
pub struct CoverageResult {
    /// The kinds a place must reach to be covered.
    pub required: Vec<ResourceKind>,
    /// Major hazard sources (in hazard-unit order), then red and orange
    /// enterprises (in enterprise order).
    pub places: Vec<Place>,
}

/// The kinds a place must reach: the project's, else those the input holds.
pub fn required_kinds(c: &Coverage, resources: &[EmergencyResource]) -> Vec<ResourceKind> {
    match &c.required {
        Some(kinds) => ResourceKind::ALL
            .into_iter()
            .filter(|k| kinds.contains(k))
            .collect(),
        None => ResourceKind::ALL
            .into_iter()
            .filter(|k| resources.iter().any(|r| r.kind == *k))
            .collect(),
    }
}

/// Each high-risk place with its nearest resource of each kind; none when
/// there are no resources.
pub fn coverage(
    units: &[HazardUnit],
    enterprises: &Enterprises<Graded>,
    resources: &[EmergencyResource],
    c: &Coverage,
    metric: &MetricCrs,
) -> CoverageResult {
    if resources.is_empty() {
        return CoverageResult::default();
    }
    let required = required_kinds(c, resources);
    let indexes: Vec<(Vec<usize>, PointIndex)> = ResourceKind::ALL
        .iter()
        .map(|k| {
            let of_kind: Vec<usize> = (0..resources.len())
                .filter(|&i| resources[i].kind == *k)
                .collect();
            let points: Vec<Point<f64>> = of_kind.iter().map(|&i| resources[i].lon_lat).collect();
            (of_kind, PointIndex::new(points.into_par_iter(), metric))
        })
        .collect();
    let mut places = high_risk_places(units, enterprises);
    places.par_iter_mut().for_each(|p| {
        for (k, (kind, (of_kind, index))) in ResourceKind::ALL.iter().zip(&indexes).enumerate() {
            p.nearest[k] = index.nearest(p.lon_lat).map(|(i, d)| {
                let route_m = d * c.detour_factor;
                Nearest {
                    resource: of_kind[i],
                    route_m,
                    within: route_m <= c.within_m.get(*kind),
                }
            });
        }
        p.covered = p.missing(&required).is_empty();
    });
    CoverageResult { required, places }
}

/// The major hazard sources, then the red and orange enterprises, with no
/// coverage yet.
fn high_risk_places(units: &[HazardUnit], enterprises: &Enterprises<Graded>) -> Vec<Place> {
    let hazards = units.iter().filter_map(|u| {
        let owner = enterprises.get(&u.enterprise_id)?;
        Some(Place {
            kind: PlaceKind::MajorHazard,
            id: u.id.clone(),
            enterprise_id: u.enterprise_id.clone(),
            name: u.name.clone(),
            grade: owner.grade(),
            hazard_grade: Some(u.major_grade()?),
            lon_lat: u.lon_lat,
            admin: u.admin.clone(),
            nearest: [None; 5],
            covered: false,
        })
    });
    let firms = enterprises
        .iter()
        .filter(|e| e.grade() >= Grade::Orange)
        .map(|e| Place {
            kind: PlaceKind::Enterprise,
            id: e.id.clone(),
            enterprise_id: e.id.clone(),
            name: e.name.clone(),
            grade: e.grade(),
            hazard_grade: None,
            lon_lat: e.lon_lat,
            admin: e.admin.clone(),
            nearest: [None; 5],
            covered: false,
        });
    hazards.chain(firms).collect()
}
