//! `riskatlas serve`: the output folder over HTTP on this machine, so the
//! web map opens in a browser (pages that load tiles and scripts cannot run
//! from `file://`). Static files only, with range requests, which the
//! PMTiles reader uses to fetch single tiles.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::output::web;

/// Why the folder cannot be served.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The folder has no web map.
    #[error("{}: no {}/index.html here; run `riskatlas run` with the web map enabled (the default) to make one", path.display(), web::DIR)]
    NoWebMap {
        /// The folder given.
        path: PathBuf,
    },
    /// The address could not be bound or served.
    #[error("http://{addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// Serves `out_dir` on `addr` until interrupted; `ready` is told the bound
/// address (the port may be 0 for any free one).
pub fn serve(
    out_dir: &Path,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    if !out_dir.join(web::DIR).join("index.html").is_file() {
        return Err(ServeError::NoWebMap {
            path: out_dir.to_path_buf(),
        });
    }
    let io = |source| ServeError::Io { addr, source };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(io)?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(io)?;
        let bound = listener.local_addr().map_err(io)?;
        ready(bound);
        let app =
            axum::Router::new().fallback_service(tower_http::services::ServeDir::new(out_dir));
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|source| ServeError::Io {
                addr: bound,
                source,
            })
    })
}
