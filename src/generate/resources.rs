//! Synthetic emergency resources, spread as a city's are: fire and rescue
//! stations, hospitals and shelters by area, and a station, a shelter and
//! a rescue team at each industrial cluster; material depots by area. Drawn from a random stream of their own, so adding
//! them left every other generated record as it was.

use geo::Point;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{near, point_in, District, ROADS};
use crate::analysis::join::AdminIndex;

/// A synthetic emergency resource.
#[derive(Debug, Clone)]
pub struct GenResource {
    /// Resource id, `ER` and a five-digit number.
    pub id: String,
    /// Name made from the district and a road or a number.
    pub name: String,
    /// Kind as written in the input (消防救援站 …).
    pub kind: &'static str,
    /// People, beds or square metres, by kind.
    pub capacity: i64,
    /// Duty telephone.
    pub phone: String,
    /// Location in WGS 84 lon/lat.
    pub lon_lat: Point<f64>,
}

/// The resources' stream of random numbers: the seed with a constant mixed in.
const STREAM: u64 = 0x5245_534f_5552_4345;

/// The resources of every district, district by district.
pub(super) fn resources(index: &AdminIndex, districts: &[District], seed: u64) -> Vec<GenResource> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ STREAM);
    let mut out: Vec<GenResource> = Vec::new();
    for d in districts {
        let km2 = d.area / 1e6;
        let name = &d.unit.name;
        let mut add = |rng: &mut ChaCha8Rng, kind, name: String, capacity: i64, p: Point<f64>| {
            out.push(GenResource {
                id: format!("ER{:05}", out.len() + 1),
                name,
                kind,
                capacity,
                phone: rng.gen_range(8000_0000..8999_9999).to_string(),
                lon_lat: p,
            });
        };
        let anywhere = |rng: &mut ChaCha8Rng| point_in(rng, index, d.slot, d.unit);
        let at_cluster = |rng: &mut ChaCha8Rng, k: usize| {
            let (c, s) = d.parks[k % d.parks.len()];
            near(rng, index, d.slot, c, s * 1.5)
                .unwrap_or_else(|| point_in(rng, index, d.slot, d.unit))
        };
        let road = |rng: &mut ChaCha8Rng| ROADS[rng.gen_range(0..ROADS.len())];
        let clusters = d.parks.len();
        for k in 0..clusters + (km2 / 100.0).ceil() as usize {
            let p = if k < clusters {
                at_cluster(&mut rng, k)
            } else {
                anywhere(&mut rng)
            };
            let n = format!("{name}{}路消防救援站", road(&mut rng));
            let people = rng.gen_range(2..6) * 10;
            add(&mut rng, "消防救援站", n, people, p);
        }
        for k in 0..d.parks.len() {
            let p = at_cluster(&mut rng, k);
            let n = format!("{name}第{}危化品专业救援队", k + 1);
            let people = rng.gen_range(2..5) * 10;
            add(&mut rng, "救援队伍", n, people, p);
        }
        for k in 0..(km2 / 500.0).ceil().max(1.0) as usize {
            let p = anywhere(&mut rng);
            let area = rng.gen_range(10..40) * 100;
            let n = format!("{name}第{}应急物资储备库", k + 1);
            add(&mut rng, "应急物资储备库", n, area, p);
        }
        for k in 0..(km2 / 80.0).ceil().max(1.0) as usize {
            let p = anywhere(&mut rng);
            let beds = rng.gen_range(10..120) * 10;
            add(
                &mut rng,
                "医院",
                format!("{name}第{}人民医院", k + 1),
                beds,
                p,
            );
        }
        for k in 0..clusters + (km2 / 40.0).ceil() as usize {
            let p = if k < clusters {
                at_cluster(&mut rng, k)
            } else {
                anywhere(&mut rng)
            };
            let n = format!("{name}{}路公园应急避难场所", road(&mut rng));
            let m2 = rng.gen_range(5..80) * 1000;
            add(&mut rng, "避难场所", n, m2, p);
        }
    }
    out
}
