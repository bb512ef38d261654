//! Emergency resources' coverage (应急资源覆盖): for each high-risk place —
//! each red or orange enterprise and each major hazard source — the nearest
//! resource of each kind, its distance by route, and whether the place is
//! covered. Routes follow the `roads` input where it is given (see
//! [`super::roads`]); without it, or where a place's part of the network
//! holds no resource of a kind, the route is estimated as the straight line
//! in the metric CRS times `[coverage] detour_factor`.

use std::sync::Arc;

use geo::Point;
use rayon::prelude::*;

use super::roads::{RoadGraph, Routes};
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
    /// Route distance, metres: by road, else straight line × detour factor.
    pub route_m: f64,
    /// Measured along the roads.
    pub by_road: bool,
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

/// The resources and the roads to reach them by.
pub struct Resources<'a> {
    /// Whether the project gives an `emergency_resources` input.
    pub given: bool,
    /// The accepted resources.
    pub list: &'a [EmergencyResource],
    /// The road network, when the project gives one.
    pub roads: Option<&'a RoadGraph>,
}

impl Place {
    /// How the place's distances were measured: `road`, `straight_line`,
    /// or `road_and_straight_line` when some kinds were reached each way.
    pub fn distance_by(&self) -> &'static str {
        let found = self.nearest.iter().flatten();
        let by_road = found.clone().filter(|n| n.by_road).count();
        match (by_road, found.count() - by_road) {
            (0, _) => "straight_line",
            (_, 0) => "road",
            _ => "road_and_straight_line",
        }
    }
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

/// Each high-risk place with its nearest resource of each kind; no places
/// when the project gives no resources input (none covered when it gives
/// one whose every record was rejected).
pub fn coverage(
    units: &[HazardUnit],
    enterprises: &Enterprises<Graded>,
    given: &Resources,
    c: &Coverage,
    metric: &MetricCrs,
) -> CoverageResult {
    let resources = given.list;
    if !given.given {
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
    // Every node's route from the nearest resource of each kind.
    let routes: Vec<Option<Routes>> = match given.roads {
        Some(g) => indexes
            .par_iter()
            .map(|(of_kind, index)| {
                let starts: Vec<(usize, [f64; 2])> = of_kind
                    .iter()
                    .map(|&i| (i, index.project(resources[i].lon_lat)))
                    .collect();
                (!starts.is_empty()).then(|| g.from_nearest(&starts))
            })
            .collect(),
        None => indexes.iter().map(|_| None).collect(),
    };
    let mut places = high_risk_places(units, enterprises);
    places.par_iter_mut().for_each(|p| {
        for (k, kind) in ResourceKind::ALL.iter().enumerate() {
            let (of_kind, index) = &indexes[k];
            let by_road = routes[k]
                .as_ref()
                .and_then(|r| r.to(index.project(p.lon_lat)))
                .map(|r| (r.from, r.metres, true));
            let straight = || {
                index
                    .nearest(p.lon_lat)
                    .map(|(i, d)| (of_kind[i], d * c.detour_factor, false))
            };
            p.nearest[k] = by_road
                .or_else(straight)
                .map(|(resource, route_m, by_road)| Nearest {
                    resource,
                    route_m,
                    by_road,
                    within: route_m <= c.within_m.get(*kind),
                });
        }
        // With no resource accepted, nothing is required and nothing covers.
        p.covered = !required.is_empty() && p.missing(&required).is_empty();
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
            id: e.id().to_string(),
            enterprise_id: e.id().to_string(),
            name: e.name().to_string(),
            grade: e.grade(),
            hazard_grade: None,
            lon_lat: e.lon_lat,
            admin: e.admin.clone(),
            nearest: [None; 5],
            covered: false,
        });
    hazards.chain(firms).collect()
}
