//! riskatlas turns a city's safety-supervision data into its electronic
//! safety-risk maps (安全风险分布电子图): it loads boundaries, enterprises,
//! hazard sources, hidden dangers and vulnerable targets through GDAL,
//! validates every record, joins them to the administrative units and writes
//! RFC 7946 GeoJSON, a GeoPackage, the rejects and a report.
//!
//! One module per pipeline stage; [`model`] holds the domain types and only
//! [`ingest::load`], [`compare::read`] and [`output::write`] touch files.
//! [`compare`] sets two years' outputs side by side.

#![warn(missing_docs)]

pub mod analysis;
pub mod compare;
pub mod crs;
pub mod generate;
pub mod ingest;
pub mod maps;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod serve;

pub mod styles;
