//! A GeoPackage (OGC 12-128r18) written directly through SQLite.
//!
//! Going through GDAL costs tens of microseconds per feature, which at
//! province scale (millions of features) is most of a run; a prepared
//! statement in one transaction per layer costs about one. The file holds what
//! GDAL and QGIS read: the required metadata tables, one feature table per
//! layer with `fid` and `geom` (standard GeoPackage binary: header, envelope,
//! little-endian WKB), an R-tree spatial index written whole ([`super::rtree`])
//! with the standard triggers (created after the bulk insert, since they
//! call functions only GDAL/QGIS register), and the Chinese field aliases in
//! `gpkg_data_columns`, and each layer's default QGIS style (QML and SLD) in
//! `layer_styles`, the table QGIS reads and writes.
//! Timestamps are pinned so the same inputs give the same bytes.

use std::path::{Path, PathBuf};

use geo::BoundingRect;
use rusqlite::{params, Connection};

use super::{io_err, oriented_rings, temp_path, OrientedRing, WriteError};
use crate::output::layers::{FieldType, GeometryKind, LayerDef, Row, Shape, Value};
use crate::output::qgis;

const SRS_WGS84: i32 = 4326;

const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

/// Turns off SQLite's memory statistics, which take a process-wide lock on
/// every allocation (a province's GeoPackage makes millions). Takes effect
/// only before SQLite's first use, so it is called at start-up.
pub fn configure_sqlite() {
    // SAFETY: sqlite3_config is called with an option and the one int it
    // takes; before SQLite is initialised it only sets the flag, after it
    // returns SQLITE_MISUSE and changes nothing.
    unsafe {
        rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
    }
}

/// Writes layers into a new GeoPackage at a temporary name; `finish` renames it.
pub struct GpkgWriter {
    conn: Connection,
    path: PathBuf,
    tmp: PathBuf,
    stamp: String,
}

fn sql_err(path: &Path) -> impl Fn(rusqlite::Error) -> WriteError + '_ {
    move |e| WriteError::Gdal {
        path: path.to_path_buf(),
        message: format!("SQLite: {e}"),
    }
}

impl GpkgWriter {
    /// Creates the file with the required tables; `stamp` is the
    /// `last_change` time of every layer (ISO 8601, UTC).
    pub fn create(path: &Path, stamp: &str) -> Result<GpkgWriter, WriteError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let tmp = temp_path(path);
        let _ = std::fs::remove_file(&tmp);
        let err = sql_err(path);
        let conn = Connection::open(&tmp).map_err(&err)?;
        conn.execute_batch(
            "PRAGMA application_id = 1196444487;
             PRAGMA user_version = 10300;
             PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             PRAGMA page_size = 4096;
             PRAGMA cache_size = -65536;
             PRAGMA temp_store = MEMORY;
             CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
                 organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
             CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
                 description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
                 min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
                 CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
             CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
                 srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
                 CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
                 CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
                 CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
             CREATE TABLE gpkg_tile_matrix_set (table_name TEXT NOT NULL PRIMARY KEY, srs_id INTEGER NOT NULL, min_x DOUBLE NOT NULL,
                 min_y DOUBLE NOT NULL, max_x DOUBLE NOT NULL, max_y DOUBLE NOT NULL);
             CREATE TABLE gpkg_tile_matrix (table_name TEXT NOT NULL, zoom_level INTEGER NOT NULL, matrix_width INTEGER NOT NULL,
                 matrix_height INTEGER NOT NULL, tile_width INTEGER NOT NULL, tile_height INTEGER NOT NULL, pixel_x_size DOUBLE NOT NULL,
                 pixel_y_size DOUBLE NOT NULL, CONSTRAINT pk_ttm PRIMARY KEY (table_name, zoom_level));
             CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
                 scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
             CREATE TABLE gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT,
                 description TEXT, mime_type TEXT, constraint_name TEXT,
                 CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
                 CONSTRAINT gdc_tn UNIQUE (table_name, name));
             CREATE TABLE gpkg_data_column_constraints (constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT,
                 min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
                 CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
             CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, f_table_catalog TEXT(256),
                 f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30),
                 styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
                 update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));
             INSERT INTO gpkg_extensions VALUES ('gpkg_data_columns', NULL, 'gpkg_schema',
                 'http://www.geopackage.org/spec121/#extension_schema', 'read-write');
             INSERT INTO gpkg_extensions VALUES ('gpkg_data_column_constraints', NULL, 'gpkg_schema',
                 'http://www.geopackage.org/spec121/#extension_schema', 'read-write');",
        )
        .map_err(&err)?;
        conn.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES
               ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
               ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
               ('WGS 84 geodetic', ?1, 'EPSG', 4326, ?2, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')",
            params![SRS_WGS84, WGS84_WKT],
        )
        .map_err(&err)?;
        // QGIS reads its styles table through GDAL, which lists only
        // registered tables.
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change, srs_id)
             VALUES ('layer_styles', 'attributes', 'layer_styles', ?1, 0)",
            params![stamp],
        )
        .map_err(&err)?;
        Ok(GpkgWriter {
            conn,
            path: path.to_path_buf(),
            tmp,
            stamp: stamp.to_string(),
        })
    }

    /// Starts a layer: one transaction holds its table, rows, index and metadata.
    pub fn begin_layer(&mut self, def: &'static LayerDef) -> Result<OpenLayer, WriteError> {
        let err = sql_err(&self.path);
        let columns: Vec<String> = def
            .fields
            .iter()
            .map(|f| {
                let ty = match (f.kind, f.width) {
                    (FieldType::String, None) => "TEXT".to_string(),
                    (FieldType::String, Some(w)) => format!("TEXT({w})"),
                    (FieldType::Integer, _) => "INTEGER".to_string(),
                    (FieldType::Real, _) => "REAL".to_string(),
                    (FieldType::Date, _) => "DATE".to_string(),
                    (FieldType::Boolean, _) => "BOOLEAN".to_string(),
                };
                format!("\"{}\" {ty}", f.name)
            })
            .collect();
        self.conn
            .execute_batch(&format!(
                "BEGIN;
                 CREATE TABLE \"{name}\" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom {geom}, {cols});
                 CREATE VIRTUAL TABLE \"rtree_{name}_geom\" USING rtree(id, minx, maxx, miny, maxy);",
                name = def.name,
                geom = geometry_type_name(def.geometry),
                cols = columns.join(", "),
            ))
            .map_err(&err)?;
        Ok(OpenLayer {
            def,
            extent: [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ],
            envelopes: Vec::new(),
        })
    }

    /// Inserts the next rows of an open layer.
    pub fn add_rows(&mut self, layer: &mut OpenLayer, rows: &[Row]) -> Result<(), WriteError> {
        insert_rows(&self.conn, layer, rows).map_err(sql_err(&self.path))
    }

    /// Ends a layer: its R-tree, metadata and triggers, and the commit.
    pub fn end_layer(&mut self, layer: OpenLayer) -> Result<(), WriteError> {
        let err = sql_err(&self.path);
        let OpenLayer {
            def,
            extent,
            mut envelopes,
        } = layer;
        let name = def.name.as_str();
        // Packed in spatial order, neighbours share the R-tree's nodes. Each
        // key is made once, not at every comparison; the sort is stable and
        // the envelopes come in fid order, so ties stay in fid order.
        debug_assert!(envelopes.is_sorted_by_key(|(fid, _)| *fid));
        envelopes.sort_by_cached_key(|(_, e)| z_order((e[0] + e[1]) / 2.0, (e[2] + e[3]) / 2.0));
        super::rtree::write(&self.conn, &format!("rtree_{name}_geom"), &envelopes).map_err(&err)?;
        let extent = if envelopes.is_empty() {
            [0.0; 4]
        } else {
            extent
        };
        register_layer(&self.conn, def, &self.stamp, extent).map_err(&err)?;
        self.conn
            .execute_batch(&format!("{} COMMIT;", rtree_triggers(name)))
            .map_err(&err)
    }

    /// Closes the file and renames it into place.
    pub fn finish(self) -> Result<(), WriteError> {
        let GpkgWriter {
            conn, path, tmp, ..
        } = self;
        conn.close().map_err(|(_, e)| sql_err(&path)(e))?;
        std::fs::rename(&tmp, &path).map_err(io_err(&path))
    }
}

/// A layer being written: its extent (min x, min y, max x, max y) and the
/// envelopes of its rows so far, for the R-tree written at its end.
pub struct OpenLayer {
    def: &'static LayerDef,
    extent: [f64; 4],
    envelopes: Vec<(i64, [f64; 4])>,
}

impl OpenLayer {
    /// The layer's name.
    pub fn name(&self) -> &str {
        self.def.name.as_str()
    }
}

/// Rows inserted by one statement. The table's AUTOINCREMENT key reads and
/// writes `sqlite_sequence` once per statement, not per row; the tables hold
/// the same whatever the batch (only that page's free space may differ).
const ROWS_PER_INSERT: usize = 64;

/// `INSERT INTO "table" VALUES (?, …), …` for `rows` rows of `columns` values.
pub(super) fn insert_sql(table: &str, columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    format!(
        "INSERT INTO \"{table}\" VALUES {}",
        vec![row; rows].join(", ")
    )
}

/// Inserts rows of an open layer, numbering them on from the rows before.
fn insert_rows(conn: &Connection, layer: &mut OpenLayer, rows: &[Row]) -> rusqlite::Result<()> {
    let name = layer.def.name.as_str();
    let per_row = layer.def.fields.len() + 2;
    let full_batch = insert_sql(name, per_row, ROWS_PER_INSERT);
    let mut blob = Vec::with_capacity(1024);
    layer.envelopes.reserve(rows.len());
    for batch in rows.chunks(ROWS_PER_INSERT) {
        let mut insert = match batch.len() {
            ROWS_PER_INSERT => conn.prepare_cached(&full_batch)?,
            n => conn.prepare_cached(&insert_sql(name, per_row, n))?,
        };
        for (b, row) in batch.iter().enumerate() {
            let fid = layer.envelopes.len() as i64 + 1;
            blob.clear();
            let env = encode(&row.shape, &mut blob);
            let extent = &mut layer.extent;
            *extent = [
                extent[0].min(env[0]),
                extent[1].min(env[2]),
                extent[2].max(env[1]),
                extent[3].max(env[3]),
            ];
            // Bound one by one: no list of parameters to make for every row.
            let first = b * per_row;
            insert.raw_bind_parameter(first + 1, fid)?;
            insert.raw_bind_parameter(first + 2, blob.as_slice())?;
            for (k, v) in row.values.iter().enumerate() {
                insert.raw_bind_parameter(first + k + 3, Bind(v))?;
            }
            layer.envelopes.push((fid, env));
        }
        insert.raw_execute()?;
    }
    Ok(())
}

/// The layer's rows in the GeoPackage's tables of contents, geometry
/// columns, extensions and data columns (the Chinese aliases QGIS shows).
fn register_layer(
    tx: &Connection,
    def: &LayerDef,
    stamp: &str,
    extent: [f64; 4],
) -> rusqlite::Result<()> {
    let name = def.name.as_str();
    tx.execute(
        "INSERT INTO gpkg_contents VALUES (?1, 'features', ?2, '', ?3, ?4, ?5, ?6, ?7, ?8)",
        params![name, def.title, stamp, extent[0], extent[1], extent[2], extent[3], SRS_WGS84],
    )?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, ?3, 0, 0)",
        params![name, geometry_type_name(def.geometry), SRS_WGS84],
    )?;
    tx.execute(
        "INSERT INTO gpkg_extensions VALUES (?1, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        params![name],
    )?;
    for f in &def.fields {
        tx.execute(
            "INSERT INTO gpkg_data_columns VALUES (?1, ?2, ?3, ?3, NULL, NULL, NULL)",
            params![name, f.name, f.alias],
        )?;
    }
    tx.execute(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column,
             styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time)
         VALUES ('', '', ?1, 'geom', ?2, ?3, ?4, 1, ?5, '', NULL, ?6)",
        params![
            name,
            def.title,
            qgis::layer_qml(def.name),
            qgis::layer_sld(def.name),
            format!("riskatlas {}", env!("CARGO_PKG_VERSION")),
            stamp
        ],
    )?;
    Ok(())
}

fn geometry_type_name(g: GeometryKind) -> &'static str {
    match g {
        GeometryKind::Point => "POINT",
        GeometryKind::MultiPolygon => "MULTIPOLYGON",
    }
}

/// A field value bound without copying.
struct Bind<'a>(&'a Value);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Str(s) => ValueRef::Text(s.as_bytes()),
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
        }))
    }
}

/// The standard R-tree maintenance triggers (GeoPackage 1.2, F.3).
fn rtree_triggers(t: &str) -> String {
    let r = format!("\"rtree_{t}_geom\"");
    let values = "VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom))";
    format!(
        "CREATE TRIGGER \"rtree_{t}_geom_insert\" AFTER INSERT ON \"{t}\" WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
           BEGIN INSERT OR REPLACE INTO {r} {values}; END;
         CREATE TRIGGER \"rtree_{t}_geom_update1\" AFTER UPDATE OF geom ON \"{t}\" WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
           BEGIN INSERT OR REPLACE INTO {r} {values}; END;
         CREATE TRIGGER \"rtree_{t}_geom_update2\" AFTER UPDATE OF geom ON \"{t}\" WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
           BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;
         CREATE TRIGGER \"rtree_{t}_geom_update3\" AFTER UPDATE ON \"{t}\" WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
           BEGIN DELETE FROM {r} WHERE id = OLD.fid; INSERT OR REPLACE INTO {r} {values}; END;
         CREATE TRIGGER \"rtree_{t}_geom_update4\" AFTER UPDATE ON \"{t}\" WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
           BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END;
         CREATE TRIGGER \"rtree_{t}_geom_delete\" AFTER DELETE ON \"{t}\" WHEN old.geom NOT NULL
           BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;"
    )
}

/// Z-order (Morton) key of a lon/lat position quantised to 2¹⁶ steps per axis.
fn z_order(lon: f64, lat: f64) -> u64 {
    let q = |v: f64, lo: f64, span: f64| (((v - lo) / span).clamp(0.0, 1.0) * 65535.0) as u64;
    let (x, y) = (q(lon, -180.0, 360.0), q(lat, -90.0, 180.0));
    let spread = |mut v: u64| {
        v = (v | (v << 8)) & 0x00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333;
        (v | (v << 1)) & 0x5555_5555
    };
    spread(x) | (spread(y) << 1)
}

fn push_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn push_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn push_ring(out: &mut Vec<u8>, ring: OrientedRing) {
    push_u32(out, ring.len() as u32);
    ring.for_each(|_, c| {
        push_f64(out, c.x);
        push_f64(out, c.y);
    });
}

/// Encodes a geometry as GeoPackage binary; returns its envelope
/// `[min_x, max_x, min_y, max_y]`.
fn encode(shape: &Shape, out: &mut Vec<u8>) -> [f64; 4] {
    out.extend_from_slice(b"GP");
    out.push(0); // version 1
    match shape {
        Shape::Point(p) => {
            out.push(0b0000_0001); // little endian, no envelope
            out.extend_from_slice(&SRS_WGS84.to_le_bytes());
            out.push(1);
            push_u32(out, 1);
            push_f64(out, p.x());
            push_f64(out, p.y());
            [p.x(), p.x(), p.y(), p.y()]
        }
        Shape::MultiPolygon(mp) => {
            let env = mp
                .bounding_rect()
                .map_or([0.0; 4], |r| [r.min().x, r.max().x, r.min().y, r.max().y]);
            out.push(0b0000_0011); // little endian, envelope [minx, maxx, miny, maxy]
            out.extend_from_slice(&SRS_WGS84.to_le_bytes());
            for v in env {
                push_f64(out, v);
            }
            out.push(1);
            push_u32(out, 6);
            push_u32(out, mp.0.len() as u32);
            for poly in &mp.0 {
                out.push(1);
                push_u32(out, 3);
                push_u32(out, 1 + poly.interiors().len() as u32);
                for ring in oriented_rings(poly) {
                    push_ring(out, ring);
                }
            }
            env
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, MultiPolygon, Point};

    /// A layer added in parts gives the same file, byte for byte, as the
    /// layer added whole: rows numbered on, one extent, one R-tree.
    #[test]
    fn a_layer_in_parts_is_the_layer_whole() {
        use crate::output::layers::{def, sample_rows, Layer};
        let dir = tempfile::tempdir().unwrap();
        let d = def(Layer::HiddenDangers);
        let rows = sample_rows(d, 3000);
        let stamp = "2026-10-31T00:00:00.000Z";
        let write = |name: &str, part: usize| {
            let path = dir.path().join(name);
            let mut w = GpkgWriter::create(&path, stamp).unwrap();
            let mut open = w.begin_layer(d).unwrap();
            for rows in rows.chunks(part) {
                w.add_rows(&mut open, rows).unwrap();
            }
            w.end_layer(open).unwrap();
            w.finish().unwrap();
            path
        };
        let (whole, parts) = (write("whole.gpkg", rows.len()), write("parts.gpkg", 700));
        assert_eq!(
            std::fs::read(&whole).unwrap(),
            std::fs::read(&parts).unwrap()
        );
        let conn = Connection::open(&parts).unwrap();
        let n: i64 = conn
            .query_row(
                &format!("SELECT max(fid) FROM \"{}\"", d.name.as_str()),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 3000);
    }

    #[test]
    fn point_blob_is_header_then_wkb() {
        let mut b = Vec::new();
        encode(&Shape::Point(Point::new(120.5, 31.25)), &mut b);
        assert_eq!(&b[..4], b"GP\x00\x01");
        assert_eq!(i32::from_le_bytes(b[4..8].try_into().unwrap()), 4326);
        assert_eq!(b[8], 1, "WKB little endian");
        assert_eq!(
            u32::from_le_bytes(b[9..13].try_into().unwrap()),
            1,
            "WKB point"
        );
        assert_eq!(f64::from_le_bytes(b[13..21].try_into().unwrap()), 120.5);
        assert_eq!(b.len(), 29);
    }

    #[test]
    fn multipolygon_blob_has_its_envelope() {
        let mp = MultiPolygon(vec![
            polygon![(x: 1., y: 2.), (x: 3., y: 2.), (x: 3., y: 5.), (x: 1., y: 5.)],
        ]);
        let mut b = Vec::new();
        let env = encode(&Shape::MultiPolygon(mp), &mut b);
        assert_eq!(env, [1.0, 3.0, 2.0, 5.0]);
        assert_eq!(b[3], 0b11);
        let read = |i: usize| f64::from_le_bytes(b[8 + 8 * i..16 + 8 * i].try_into().unwrap());
        assert_eq!([read(0), read(1), read(2), read(3)], env);
    }
}
