//! The influence of hazard sources on their surroundings.
//!
//! Each hazard source has an influence radius: the input's `radius_m` (e.g. an
//! external safety distance by GB/T 37243) where given, else the project's
//! default for the source's grade (`exposure.default_radius_m`). A vulnerable
//! target is exposed to every source whose radius reaches it.

use crate::config::Exposure;
use crate::crs::MetricCrs;
use crate::model::{HazardUnit, VulnerableTarget};
use crate::spatial::PointIndex;

/// Where a source's influence radius came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RadiusSource {
    Input,
    Default,
}

impl RadiusSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RadiusSource::Input => "input",
            RadiusSource::Default => "default",
        }
    }
}

/// The influence radius of a hazard source in metres, and its origin.
pub fn influence_radius(u: &HazardUnit, cfg: &Exposure) -> (f64, RadiusSource) {
    match u.radius_m {
        Some(r) => (r, RadiusSource::Input),
        None => (cfg.default_radius_m.get(u.colour()), RadiusSource::Default),
    }
}

/// The sources around one vulnerable target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetExposure {
    /// (source index, distance in m) of the sources whose radius covers the
    /// target, nearest first.
    pub covering: Vec<(usize, f64)>,
    /// The nearest source and its distance in metres, covering or not.
    pub nearest: Option<(usize, f64)>,
}

/// For every target, the sources covering it and the nearest source.
pub fn target_exposure(
    targets: &[VulnerableTarget],
    units: &[HazardUnit],
    cfg: &Exposure,
    metric: &MetricCrs,
) -> Vec<TargetExposure> {
    let radii: Vec<f64> = units.iter().map(|u| influence_radius(u, cfg).0).collect();
    let max_radius = radii.iter().copied().fold(0.0, f64::max);
    let index = PointIndex::new(units.iter().map(|u| u.lon_lat), metric);
    targets
        .iter()
        .map(|t| TargetExposure {
            covering: index
                .within(t.lon_lat, max_radius)
                .into_iter()
                .filter(|&(i, d)| d <= radii[i])
                .collect(),
            nearest: index.nearest(t.lon_lat),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UnitKind;
    use geo::Point;

    fn unit(id: &str, lon: f64, radius_m: Option<f64>) -> HazardUnit {
        HazardUnit {
            id: id.into(),
            enterprise_id: "E".into(),
            name: id.into(),
            kind: UnitKind::Warehouse,
            lon_lat: Point::new(lon, 31.5),
            located_by_enterprise: false,
            radius_m,
            people_500m: None,
            chemicals: Vec::new(),
            incomplete: false,
            admin: Default::default(),
            assessment: None,
        }
    }

    #[test]
    fn covering_sources_respect_each_radius() {
        let metric = MetricCrs::for_longitude(120.0, 31.5);
        // 0.01° of longitude at 31.5°N ≈ 950 m.
        let units = vec![
            unit("near", 120.0, None),
            unit("far_big", 120.02, Some(2500.0)),
            unit("far_small", 120.02, Some(500.0)),
        ];
        let target = VulnerableTarget {
            id: "T".into(),
            name: "学校".into(),
            kind: "学校".into(),
            population: Some(800),
            lon_lat: Point::new(120.001, 31.5),
            admin: Default::default(),
        };
        let cfg = Exposure::default();
        assert_eq!(
            influence_radius(&units[0], &cfg),
            (300.0, RadiusSource::Default)
        );
        let e = &target_exposure(&[target], &units, &cfg, &metric)[0];
        let ids: Vec<&str> = e
            .covering
            .iter()
            .map(|(i, _)| units[*i].id.as_str())
            .collect();
        assert_eq!(ids, ["near", "far_big"]);
        let (nearest, d) = e.nearest.unwrap();
        assert_eq!(units[nearest].id, "near");
        assert!((80.0..110.0).contains(&d), "{d}");
    }
}
