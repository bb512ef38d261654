//! Rewrites a GeoJSON file's coordinates from GCJ-02 to WGS 84 with the
//! loader's own inverse, rounded to 1e-6° as the bundled boundaries are.
//! This is how `fixtures/boundaries/` were converted from the Amap-derived
//! originals (see their README).
//!
//! Usage: `cargo run --release --example gcj02_to_wgs84 -- IN.geojson OUT.geojson`

use serde_json::Value;

/// Converts every [lon, lat] pair under `v`, in place.
fn convert(v: &mut Value) {
    let Value::Array(items) = v else { return };
    if let [Value::Number(x), Value::Number(y)] = items.as_slice() {
        let (lon, lat) = riskatlas::crs::gcj02_to_wgs84(
            x.as_f64().expect("a number"),
            y.as_f64().expect("a number"),
        );
        let round = |d: f64| Value::from((d * 1e6).round() / 1e6);
        *items = vec![round(lon), round(lat)];
    } else {
        items.iter_mut().for_each(convert);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        return Err("usage: gcj02_to_wgs84 IN.geojson OUT.geojson".into());
    };
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(input)?)?;
    for f in doc["features"]
        .as_array_mut()
        .ok_or("not a FeatureCollection")?
    {
        convert(&mut f["geometry"]["coordinates"]);
    }
    std::fs::write(output, serde_json::to_string(&doc)? + "\n")?;
    Ok(())
}
