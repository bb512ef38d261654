//! QGIS styles of the outputs, made from `styles/` and the layer catalogue:
//! each layer's QML (rule-based symbols, labels, Chinese aliases, editor
//! widgets) and SLD, which the GeoPackage keeps in `layer_styles` and the
//! GeoJSON files beside them; and the exposure raster's QML.

pub mod project;
mod qml;
mod sld;
pub mod symbology;
mod xml;

use crate::ingest::config::Thresholds;
use crate::output::layers::{def, Layer};

/// The QML of a vector layer, as QGIS 3.22 reads it.
pub fn layer_qml(layer: Layer) -> String {
    qml::vector(def(layer), &symbology::symbology(layer))
}

/// The SLD 1.1 of a vector layer.
pub fn layer_sld(layer: Layer) -> String {
    sld::vector(layer, &symbology::symbology(layer))
}

/// The QML of `exposure.tif`: a discrete ramp at the run's grade thresholds.
pub fn raster_qml(t: &Thresholds) -> String {
    qml::raster(t.yellow, t.orange, t.red)
}

/// The QML beside the comparison's change raster: a colour per step.
pub fn change_raster_qml() -> String {
    qml::change_raster()
}
