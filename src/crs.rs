//! Coordinate systems: what inputs may be in, how they become WGS 84 lon/lat,
//! and the metric projection chosen for the study area.
//!
//! * WGS 84 and CGCS2000 (EPSG:4490) are taken as equal: they differ by a few
//!   centimetres, far below the accuracy of supervision data.
//! * GCJ-02 (Amap, Tencent) and BD-09 (Baidu) are obfuscations with a public
//!   forward formula and no closed inverse; we invert them by fixed-point
//!   iteration to well under a centimetre. Outside China they are the identity.
//! * Any other `EPSG:n` goes through GDAL/PROJ.
//! * Metric work uses the CGCS2000 3° Gauss–Krüger zone of the study area
//!   (EPSG:4534–4554, no zone prefix), computed here by Krüger series so that
//!   it is cheap and thread-safe.

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use serde::Serialize;
use thiserror::Error;

/// A coordinate system an input may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputCrs {
    /// WGS 84 longitude/latitude in degrees (EPSG:4326).
    Wgs84,
    /// CGCS2000 longitude/latitude in degrees (EPSG:4490), taken as equal to WGS 84.
    Cgcs2000,
    /// GCJ-02 longitude/latitude, as used by Amap and Tencent maps.
    Gcj02,
    /// BD-09 longitude/latitude, as used by Baidu maps.
    Bd09,
    /// Any other CRS by EPSG code, transformed by GDAL/PROJ.
    Epsg(u32),
}

/// Why a CRS, named in the project file or read from a layer, cannot be used.
#[derive(Debug, Error, PartialEq)]
pub enum CrsError {
    /// The text is not a known CRS name nor `EPSG:<code>`.
    #[error("unknown CRS {0:?}: use wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>")]
    Unknown(String),
    /// GDAL/PROJ cannot build a transformation from this EPSG code to WGS 84.
    #[error("EPSG:{code} is not usable: {reason}")]
    Gdal {
        /// The EPSG code that failed.
        code: u32,
        /// GDAL's error message.
        reason: String,
    },
}

impl FromStr for InputCrs {
    type Err = CrsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim().to_lowercase().replace(['-', '_', ' '], "");
        let crs = match t.as_str() {
            "wgs84" | "epsg:4326" => InputCrs::Wgs84,
            "cgcs2000" | "epsg:4490" => InputCrs::Cgcs2000,
            "gcj02" | "amap" | "gaode" | "tencent" | "mars" => InputCrs::Gcj02,
            "bd09" | "baidu" | "bd09ll" => InputCrs::Bd09,
            _ => {
                let code = t
                    .strip_prefix("epsg:")
                    .and_then(|c| c.parse::<u32>().ok())
                    .ok_or_else(|| CrsError::Unknown(text.to_string()))?;
                InputCrs::Epsg(code)
            }
        };
        Ok(crs)
    }
}

impl fmt::Display for InputCrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputCrs::Wgs84 => f.write_str("wgs84"),
            InputCrs::Cgcs2000 => f.write_str("cgcs2000"),
            InputCrs::Gcj02 => f.write_str("gcj02"),
            InputCrs::Bd09 => f.write_str("bd09"),
            InputCrs::Epsg(c) => write!(f, "EPSG:{c}"),
        }
    }
}

impl InputCrs {
    /// Whether coordinates in this CRS are longitude/latitude in degrees.
    pub fn is_geographic(self) -> bool {
        !matches!(self, InputCrs::Epsg(_))
    }
}

/// What a pair of numbers that is not longitude/latitude most likely is, as
/// advice for the project file: metres of a Chinese projection, mostly.
pub fn likely_crs(x: f64, y: f64) -> String {
    let (ax, ay) = (x.abs(), y.abs());
    let zone = (ax / 1e6).floor() as u32;
    if (1e5..1e6).contains(&ax) && (1e6..1e7).contains(&ay) {
        "they look like metres of a Gauss-Krüger or UTM projection: e.g. crs = \"EPSG:4549\" \
         (CGCS2000 / 3-degree Gauss-Kruger CM 120E; EPSG:4534-4554 for CM 75E-135E) or a UTM zone \
         (EPSG:32650 for 114E-120E)"
            .to_string()
    } else if (25..=45).contains(&zone) && (1e6..1e7).contains(&ay) {
        format!(
            "they look like metres of CGCS2000 3-degree Gauss-Krüger zone {zone} with the zone number \
             in front of the easting: crs = \"EPSG:{}\"",
            4513 + zone - 25
        )
    } else if (13..=23).contains(&zone) && (1e6..1e7).contains(&ay) {
        format!(
            "they look like metres: Web Mercator (crs = \"EPSG:3857\") or CGCS2000 6-degree \
             Gauss-Krüger zone {zone} (crs = \"EPSG:{}\")",
            4491 + zone - 13
        )
    } else {
        "they are not degrees of longitude/latitude; name the file's CRS with crs = \"EPSG:<code>\""
            .to_string()
    }
}

/// Converts (x, y) in an input CRS to WGS 84 (lon, lat). Built once per input.
pub struct ToWgs84 {
    crs: InputCrs,
    transform: Option<CoordTransform>,
}

impl ToWgs84 {
    /// Prepares the conversion from `crs`; for an EPSG code this builds the
    /// GDAL/PROJ transformation, which fails if PROJ does not know the code.
    pub fn new(crs: InputCrs) -> Result<Self, CrsError> {
        let transform = match crs {
            InputCrs::Epsg(code) => Some(gdal_transform(code)?),
            _ => None,
        };
        Ok(ToWgs84 { crs, transform })
    }

    /// The CRS converted from.
    pub fn crs(&self) -> InputCrs {
        self.crs
    }

    /// Converts one coordinate; `None` if PROJ cannot transform it to a
    /// valid longitude/latitude.
    pub fn convert(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        match self.crs {
            InputCrs::Wgs84 | InputCrs::Cgcs2000 => Some((x, y)),
            InputCrs::Gcj02 => Some(gcj02_to_wgs84(x, y)),
            InputCrs::Bd09 => Some(bd09_to_wgs84(x, y)),
            InputCrs::Epsg(_) => {
                let t = self.transform.as_ref()?;
                let (mut xs, mut ys, mut zs) = ([x], [y], [0.0]);
                t.transform_coords(&mut xs, &mut ys, &mut zs).ok()?;
                Some((xs[0], ys[0])).filter(|(lon, lat)| lon.abs() <= 180.0 && lat.abs() <= 90.0)
            }
        }
    }
}

fn gdal_transform(code: u32) -> Result<CoordTransform, CrsError> {
    let err = |e: gdal::errors::GdalError| CrsError::Gdal {
        code,
        reason: e.to_string(),
    };
    let mut source = SpatialRef::from_epsg(code).map_err(err)?;
    let mut target = SpatialRef::from_epsg(4326).map_err(err)?;
    source.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    target.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    CoordTransform::new(&source, &target).map_err(err)
}

/// Krasovsky semi-major axis and eccentricity² used by the GCJ-02 formula.
const GCJ_A: f64 = 6_378_245.0;
const GCJ_EE: f64 = 0.006_693_421_622_965_943;
const BD_X_PI: f64 = PI * 3000.0 / 180.0;

/// The rough box inside which Chinese map providers apply their offsets.
pub fn in_china(lon: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

/// The term in x that the latitude and longitude offsets share, computed
/// once for both (the same expression, so the same bits).
fn gcj_shared(x: f64) -> f64 {
    (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0
}

fn gcj_dlat(x: f64, y: f64, shared: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += shared;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn gcj_dlon(x: f64, y: f64, shared: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += shared;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// The public GCJ-02 forward formula: WGS 84 → GCJ-02 (identity outside China).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let (x, y) = (lon - 105.0, lat - 35.0);
    let shared = gcj_shared(x);
    let dlat = gcj_dlat(x, y, shared);
    let dlon = gcj_dlon(x, y, shared);
    let rad_lat = lat.to_radians();
    let magic = 1.0 - GCJ_EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (GCJ_A / sqrt_magic * rad_lat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → BD-09 (Baidu's extra rotation and offset).
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * BD_X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * BD_X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// WGS 84 → BD-09.
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (g_lon, g_lat) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(g_lon, g_lat)
}

/// Inverts a forward offset by fixed-point iteration: the offset varies slowly,
/// so x ← x − (f(x) − target) converges to 1e-12° in a handful of steps.
fn invert(forward: impl Fn(f64, f64) -> (f64, f64), lon: f64, lat: f64) -> (f64, f64) {
    let (mut x, mut y) = (lon, lat);
    for _ in 0..30 {
        let (fx, fy) = forward(x, y);
        let (dx, dy) = (fx - lon, fy - lat);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-12 && dy.abs() < 1e-12 {
            break;
        }
    }
    (x, y)
}

/// GCJ-02 → WGS 84 by iterated inverse (identity outside China).
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    invert(wgs84_to_gcj02, lon, lat)
}

/// BD-09 → WGS 84 by iterated inverse of the whole forward chain.
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    invert(wgs84_to_bd09, lon, lat)
}

/// A transverse Mercator projection (Krüger series to n⁶, sub-millimetre
/// within a 3° zone) on a given ellipsoid.
#[derive(Debug, Clone, Serialize)]
pub struct MetricCrs {
    /// EPSG code of the projected CRS this reproduces.
    pub epsg: u32,
    /// Human-readable name, as PROJ spells it.
    pub name: String,
    /// Central meridian in degrees east of Greenwich.
    pub central_meridian: f64,
    #[serde(skip)]
    tm: TransverseMercator,
}

#[derive(Debug, Clone)]
struct TransverseMercator {
    lon0: f64,
    false_easting: f64,
    false_northing: f64,
    e: f64,
    /// k0 × rectifying radius A.
    k0_a: f64,
    alpha: [f64; 6],
    beta: [f64; 6],
}

impl TransverseMercator {
    fn new(a: f64, f: f64, lon0: f64, k0: f64, false_easting: f64, false_northing: f64) -> Self {
        let n = f / (2.0 - f);
        let (n2, n3) = (n * n, n * n * n);
        let (n4, n5, n6) = (n2 * n2, n2 * n3, n3 * n3);
        let rect_a = a / (1.0 + n) * (1.0 + n2 / 4.0 + n4 / 64.0 + n6 / 256.0);
        let alpha = [
            n / 2.0 - 2.0 / 3.0 * n2 + 5.0 / 16.0 * n3 + 41.0 / 180.0 * n4 - 127.0 / 288.0 * n5
                + 7891.0 / 37800.0 * n6,
            13.0 / 48.0 * n2 - 3.0 / 5.0 * n3 + 557.0 / 1440.0 * n4 + 281.0 / 630.0 * n5
                - 1983433.0 / 1935360.0 * n6,
            61.0 / 240.0 * n3 - 103.0 / 140.0 * n4
                + 15061.0 / 26880.0 * n5
                + 167603.0 / 181440.0 * n6,
            49561.0 / 161280.0 * n4 - 179.0 / 168.0 * n5 + 6601661.0 / 7257600.0 * n6,
            34729.0 / 80640.0 * n5 - 3418889.0 / 1995840.0 * n6,
            212378941.0 / 319334400.0 * n6,
        ];
        let beta = [
            n / 2.0 - 2.0 / 3.0 * n2 + 37.0 / 96.0 * n3 - 1.0 / 360.0 * n4 - 81.0 / 512.0 * n5
                + 96199.0 / 604800.0 * n6,
            1.0 / 48.0 * n2 + 1.0 / 15.0 * n3 - 437.0 / 1440.0 * n4 + 46.0 / 105.0 * n5
                - 1118711.0 / 3870720.0 * n6,
            17.0 / 480.0 * n3 - 37.0 / 840.0 * n4 - 209.0 / 4480.0 * n5 + 5569.0 / 90720.0 * n6,
            4397.0 / 161280.0 * n4 - 11.0 / 504.0 * n5 - 830251.0 / 7257600.0 * n6,
            4583.0 / 161280.0 * n5 - 108847.0 / 3991680.0 * n6,
            20648693.0 / 638668800.0 * n6,
        ];
        TransverseMercator {
            lon0,
            false_easting,
            false_northing,
            e: (f * (2.0 - f)).sqrt(),
            k0_a: k0 * rect_a,
            alpha,
            beta,
        }
    }

    fn forward(&self, lon: f64, lat: f64) -> (f64, f64) {
        let phi = lat.to_radians();
        let lam = (lon - self.lon0).to_radians();
        let e = self.e;
        let t = (phi.sin().atanh() - e * (e * phi.sin()).atanh()).sinh();
        let xi_p = t.atan2(lam.cos());
        let eta_p = (lam.sin() / (1.0 + t * t).sqrt()).atanh();
        let (mut xi, mut eta) = (xi_p, eta_p);
        for (j, a) in self.alpha.iter().enumerate() {
            let k = 2.0 * (j as f64 + 1.0);
            xi += a * (k * xi_p).sin() * (k * eta_p).cosh();
            eta += a * (k * xi_p).cos() * (k * eta_p).sinh();
        }
        (
            self.false_easting + self.k0_a * eta,
            self.false_northing + self.k0_a * xi,
        )
    }

    fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let xi = self.xi(y);
        let eta = self.eta(x);
        self.inverse_from(xi, eta, &self.xi_terms(xi), &self.eta_terms(eta))
    }

    /// ξ of a northing: the first of the inverse's two halves.
    fn xi(&self, y: f64) -> f64 {
        (y - self.false_northing) / self.k0_a
    }

    /// η of an easting.
    fn eta(&self, x: f64) -> f64 {
        (x - self.false_easting) / self.k0_a
    }

    /// sin 2jξ and cos 2jξ, j = 1 … 6: the inverse series' terms in ξ.
    fn xi_terms(&self, xi: f64) -> SeriesTerms {
        std::array::from_fn(|j| {
            let k = 2.0 * (j as f64 + 1.0);
            [(k * xi).sin(), (k * xi).cos()]
        })
    }

    /// cosh 2jη and sinh 2jη, j = 1 … 6.
    fn eta_terms(&self, eta: f64) -> SeriesTerms {
        std::array::from_fn(|j| {
            let k = 2.0 * (j as f64 + 1.0);
            [(k * eta).cosh(), (k * eta).sinh()]
        })
    }

    /// Lon/lat of (ξ, η), given their series terms: a lattice's rows and
    /// columns share them (see [`Lattice`]).
    fn inverse_from(&self, xi: f64, eta: f64, xt: &SeriesTerms, et: &SeriesTerms) -> (f64, f64) {
        let (mut xi_p, mut eta_p) = (xi, eta);
        for (j, b) in self.beta.iter().enumerate() {
            xi_p -= b * xt[j][0] * et[j][0];
            eta_p -= b * xt[j][1] * et[j][1];
        }
        let chi = (xi_p.sin() / eta_p.cosh()).asin();
        let lam = eta_p.sinh().atan2(xi_p.cos());
        // Geodetic latitude from conformal latitude by Newton on the isometric latitude.
        let e = self.e;
        let psi_target = chi.sin().atanh();
        let mut phi = chi;
        for _ in 0..8 {
            let s = phi.sin();
            let psi = s.atanh() - e * (e * s).atanh();
            let dpsi = (1.0 - e * e) / ((1.0 - e * e * s * s) * phi.cos());
            let step = (psi - psi_target) / dpsi;
            phi -= step;
            if step.abs() < 1e-14 {
                break;
            }
        }
        (self.lon0 + lam.to_degrees(), phi.to_degrees())
    }
}

/// The inverse series' six pairs of terms in ξ or in η.
type SeriesTerms = [[f64; 2]; 6];

/// A lattice of metric points, `x0 + c × step` east and `y0 − r × step`
/// north, back in WGS 84: half of each point's inverse projection depends
/// on its row alone and half on its column alone, so those halves are
/// computed once per row and column (the province's merged grid is 26
/// million vertices on 10,000 lines). Each point comes out bit for bit as
/// [`MetricCrs::unproject`] gives it.
pub struct Lattice<'m> {
    tm: &'m TransverseMercator,
    /// Each column's η and terms.
    cols: Vec<(f64, SeriesTerms)>,
    /// Each row's ξ and terms.
    rows: Vec<(f64, SeriesTerms)>,
}

impl Lattice<'_> {
    /// Lon/lat of the point in column `c` and row `r`.
    pub fn lon_lat(&self, c: usize, r: usize) -> (f64, f64) {
        let (eta, et) = &self.cols[c];
        let (xi, xt) = &self.rows[r];
        self.tm.inverse_from(*xi, *eta, xt, et)
    }
}

/// CGCS2000 ellipsoid (equal to GRS 80 in a and f to the precision used).
const CGCS2000_A: f64 = 6_378_137.0;
const CGCS2000_F: f64 = 1.0 / 298.257_222_101;
const WGS84_F: f64 = 1.0 / 298.257_223_563;

impl MetricCrs {
    /// The CGCS2000 3° Gauss–Krüger zone whose central meridian is nearest
    /// to `lon`; UTM on WGS 84 outside the range China's zones cover.
    ///
    /// ```
    /// let m = riskatlas::crs::MetricCrs::for_longitude(119.95, 31.7);
    /// assert_eq!(m.epsg, 4549);
    /// ```
    pub fn for_longitude(lon: f64, lat: f64) -> MetricCrs {
        let cm = (lon / 3.0).round() * 3.0;
        if (75.0..=135.0).contains(&cm) {
            let epsg = 4534 + ((cm - 75.0) / 3.0) as u32;
            MetricCrs {
                epsg,
                name: format!("CGCS2000 / 3-degree Gauss-Kruger CM {}E", cm as i32),
                central_meridian: cm,
                tm: TransverseMercator::new(CGCS2000_A, CGCS2000_F, cm, 1.0, 500_000.0, 0.0),
            }
        } else {
            let zone = (((lon + 180.0) / 6.0).floor() as i32).clamp(0, 59) + 1;
            let cm = -183.0 + 6.0 * zone as f64;
            let south = lat < 0.0;
            MetricCrs {
                epsg: if south { 32700 } else { 32600 } + zone as u32,
                name: format!(
                    "WGS 84 / UTM zone {}{}",
                    zone,
                    if south { 'S' } else { 'N' }
                ),
                central_meridian: cm,
                tm: TransverseMercator::new(
                    CGCS2000_A,
                    WGS84_F,
                    cm,
                    0.9996,
                    500_000.0,
                    if south { 10_000_000.0 } else { 0.0 },
                ),
            }
        }
    }

    /// WGS 84 lon/lat (degrees) → projected easting/northing (metres).
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        self.tm.forward(lon, lat)
    }

    /// A lon/lat geometry of any kind (point, ring, polygon, multipolygon …)
    /// in this projection: the one place geometries are projected.
    pub fn to_metric<G>(&self, g: &G) -> G
    where
        G: geo::MapCoords<f64, f64, Output = G>,
    {
        g.map_coords(|c| {
            let (x, y) = self.project(c.x, c.y);
            geo::Coord { x, y }
        })
    }

    /// A geometry of this projection back in WGS 84 lon/lat.
    pub fn to_wgs84<G>(&self, g: &G) -> G
    where
        G: geo::MapCoords<f64, f64, Output = G>,
    {
        g.map_coords(|c| {
            let (x, y) = self.unproject(c.x, c.y);
            geo::Coord { x, y }
        })
    }

    /// Area of a lon/lat multipolygon in square metres, measured in this projection.
    pub fn area_m2(&self, mp: &geo::MultiPolygon<f64>) -> f64 {
        use geo::Area;
        self.to_metric(mp).unsigned_area()
    }

    /// The zone for an explicit EPSG code 4534–4554.
    pub fn for_epsg(code: u32) -> Option<MetricCrs> {
        (4534..=4554).contains(&code).then(|| {
            let cm = 75.0 + 3.0 * (code - 4534) as f64;
            MetricCrs::for_longitude(cm, 30.0)
        })
    }

    /// Projected easting/northing (metres) → WGS 84 lon/lat (degrees).
    pub fn unproject(&self, x: f64, y: f64) -> (f64, f64) {
        self.tm.inverse(x, y)
    }

    /// The lattice of `cols` × `rows` points from (`x0`, `y0`) at `step`
    /// metres, east and south, ready to be unprojected point by point.
    pub fn lattice(&self, [x0, y0]: [f64; 2], step: f64, cols: usize, rows: usize) -> Lattice<'_> {
        let tm = &self.tm;
        Lattice {
            tm,
            cols: (0..cols)
                .map(|c| tm.eta(x0 + c as f64 * step))
                .map(|eta| (eta, tm.eta_terms(eta)))
                .collect(),
            rows: (0..rows)
                .map(|r| tm.xi(y0 - r as f64 * step))
                .map(|xi| (xi, tm.xi_terms(xi)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in metres between two nearby lon/lat points (equirectangular,
    /// exact enough for centimetres).
    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        let lat = a.1.to_radians();
        let dx = (a.0 - b.0).to_radians() * 6_371_000.0 * lat.cos();
        let dy = (a.1 - b.1).to_radians() * 6_371_000.0;
        (dx * dx + dy * dy).sqrt()
    }

    /// A grid of points over mainland China and Hainan, 0.5° apart.
    fn china_grid() -> Vec<(f64, f64)> {
        let mut pts = Vec::new();
        let mut lat = 18.0;
        while lat <= 53.5 {
            let mut lon = 73.5;
            while lon <= 135.0 {
                pts.push((lon, lat));
                lon += 0.5;
            }
            lat += 0.5;
        }
        pts
    }

    #[test]
    fn gcj02_round_trip_under_5cm_over_china() {
        let mut worst: f64 = 0.0;
        for (lon, lat) in china_grid() {
            let g = wgs84_to_gcj02(lon, lat);
            worst = worst.max(metres(gcj02_to_wgs84(g.0, g.1), (lon, lat)));
            let w = gcj02_to_wgs84(lon, lat);
            worst = worst.max(metres(wgs84_to_gcj02(w.0, w.1), (lon, lat)));
        }
        assert!(worst < 0.05, "worst round trip {worst} m");
    }

    #[test]
    fn bd09_round_trip_under_5cm_over_china() {
        let mut worst: f64 = 0.0;
        for (lon, lat) in china_grid() {
            let b = wgs84_to_bd09(lon, lat);
            worst = worst.max(metres(bd09_to_wgs84(b.0, b.1), (lon, lat)));
        }
        assert!(worst < 0.05, "worst round trip {worst} m");
    }

    #[test]
    fn gcj02_offset_is_hundreds_of_metres_in_changzhou() {
        let p = (119.974, 31.811);
        let g = wgs84_to_gcj02(p.0, p.1);
        let d = metres(g, p);
        assert!((100.0..1000.0).contains(&d), "offset {d} m");
    }

    #[test]
    fn outside_china_is_not_shifted() {
        for p in [(139.69, 35.69), (2.35, 48.85), (-74.0, 40.7)] {
            assert_eq!(wgs84_to_gcj02(p.0, p.1), p);
            assert_eq!(gcj02_to_wgs84(p.0, p.1), p);
            assert_eq!(bd09_to_wgs84(p.0, p.1), p);
        }
    }

    #[test]
    fn parses_crs_names() {
        assert_eq!("WGS84".parse(), Ok(InputCrs::Wgs84));
        assert_eq!("gcj-02".parse(), Ok(InputCrs::Gcj02));
        assert_eq!("BD09".parse(), Ok(InputCrs::Bd09));
        assert_eq!("EPSG:4549".parse(), Ok(InputCrs::Epsg(4549)));
        assert!("mercator".parse::<InputCrs>().is_err());
    }

    #[test]
    fn a_lattice_unprojects_each_point_bit_for_bit() {
        for m in [
            MetricCrs::for_longitude(119.95, 31.7),
            MetricCrs::for_longitude(10.0, -33.9),
        ] {
            let (x0, y0) = m.project(m.central_meridian - 1.6, 31.9);
            let step = 100.0;
            let lattice = m.lattice([x0, y0], step, 300, 200);
            for c in (0..300).step_by(7).chain([299]) {
                for r in (0..200).step_by(3).chain([199]) {
                    let want = m.unproject(x0 + c as f64 * step, y0 - r as f64 * step);
                    let got = lattice.lon_lat(c, r);
                    assert_eq!(got.0.to_bits(), want.0.to_bits(), "{c} {r}");
                    assert_eq!(got.1.to_bits(), want.1.to_bits(), "{c} {r}");
                }
            }
        }
    }

    #[test]
    fn gauss_kruger_agrees_with_proj_and_round_trips() {
        let m = MetricCrs::for_longitude(119.9, 31.8);
        assert_eq!(m.epsg, 4549);
        let to_wgs = ToWgs84::new(InputCrs::Epsg(4549)).unwrap();
        for &(lon, lat) in &[(119.0, 31.0), (120.0, 32.0), (121.4, 33.9), (118.6, 30.2)] {
            let (x, y) = m.project(lon, lat);
            let back = m.unproject(x, y);
            assert!(metres(back, (lon, lat)) < 1e-4, "round trip at {lon},{lat}");
            let via_proj = to_wgs.convert(x, y).unwrap();
            assert!(
                metres(via_proj, (lon, lat)) < 1e-3,
                "PROJ disagrees at {lon},{lat}"
            );
        }
    }

    #[test]
    fn utm_outside_china_zones() {
        let m = MetricCrs::for_longitude(2.35, 48.85);
        assert_eq!(m.epsg, 32631);
        let (x, y) = m.project(2.35, 48.85);
        let back = m.unproject(x, y);
        assert!(metres(back, (2.35, 48.85)) < 1e-4);
    }
}
