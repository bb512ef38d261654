//! The `riskatlas` command line: parses arguments, calls the library, prints
//! the error chain and maps the outcome to an exit code
//! (0 done, 1 done but some records were rejected, 2 failed).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use riskatlas::generate::{Recipe, Sizes};
use riskatlas::ingest::config::Project;
use riskatlas::maps::render::MapOptions;
use riskatlas::pipeline::{self, GenerateOptions, Outcome};
use riskatlas::progress::Progress;

/// mimalloc: many small strings cross from the reading thread to the checking thread, which glibc malloc handles slowly.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's option `arena_eager_commit` (its number in mimalloc 3's `mi_option_t`).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Has mimalloc commit its arenas' memory as it is used, not all at once:
/// a million-record load peaks some 40 MB lower, no slower. It must run
/// before the first allocation, so it is a constructor, run before `main`.
#[used]
#[link_section = ".init_array"]
static LAZY_COMMIT: extern "C" fn() = {
    extern "C" fn lazy_commit() {
        // SAFETY: setting an option is safe at any time; this runs before any allocation.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) }
    }
    lazy_commit
};

#[derive(Parser)]
#[command(
    name = "riskatlas",
    version,
    about = "Electronic safety-risk maps (安全风险分布电子图) from safety-supervision data"
)]
#[command(
    after_help = "Exit codes: 0 done, 1 done but some records were rejected (see rejects.csv), 2 failed."
)]
struct Cli {
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve an output folder on this machine and print the web map's address.
    Serve {
        /// The output folder of `riskatlas run`.
        out: PathBuf,
        /// The port (0: any free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The address to listen on; 127.0.0.1 keeps it to this machine.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
    },
    /// Run the whole pipeline: load, validate, join, write the layers, rejects and report.
    Run {
        /// The project file (TOML); input paths in it are relative to it.
        project: PathBuf,
        /// Output folder (created if missing; files in it are replaced atomically).
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Load and validate the inputs only; print the accounting and the first rejects.
    Check {
        /// The project file (TOML).
        project: PathBuf,
        /// Also write rejects.csv and report.json into this folder.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Compare two runs' outputs (last year's and this year's): the change
    /// lists and a summary of what changed.
    Compare {
        /// The older output folder (e.g. last year's `out`).
        old: PathBuf,
        /// The newer output folder.
        new: PathBuf,
        /// Folder for the change lists, raster, maps and report.json (replaced atomically).
        #[arg(long)]
        out: PathBuf,
        /// No change maps.
        #[arg(long)]
        no_maps: bool,
        /// The CJK font of the change maps [default: Noto Sans CJK SC].
        #[arg(long)]
        font: Option<PathBuf>,
    },
    /// Write realistic synthetic inputs and a project file for a boundary file.
    Generate {
        /// GeoJSON boundaries with properties adcode, name, level (city/district/town), parent.
        #[arg(long, required_unless_present = "evolve_from")]
        boundaries: Option<PathBuf>,
        /// Make the next year of a data set written by `generate` (with --year):
        /// its records a year on, the changes listed in evolution.csv.
        #[arg(long, conflicts_with_all = ["boundaries", "seed", "enterprises", "hazard_sources", "hidden_dangers", "targets", "bad_rows"], requires = "year")]
        evolve_from: Option<PathBuf>,
        /// Random seed: the same seed gives byte-identical files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of enterprises.
        #[arg(long, default_value_t = 3000)]
        enterprises: usize,
        /// Number of hazard units [default: enterprises / 10].
        #[arg(long)]
        hazard_sources: Option<usize>,
        /// Number of hidden dangers [default: enterprises / 6].
        #[arg(long)]
        hidden_dangers: Option<usize>,
        /// Number of vulnerable targets [default: enterprises / 3].
        #[arg(long)]
        targets: Option<usize>,
        /// Data year written into the records and the project file [default: 2026].
        #[arg(long)]
        year: Option<i32>,
        /// Append deliberately bad rows to every input and list them in expected_rejects.csv.
        #[arg(long)]
        bad_rows: bool,
        /// A folder of base layers (built_up, water, railways, roads,
        /// places .geojson and attribution.txt) to copy beside the data and
        /// name in the project file's [basemap].
        #[arg(long, conflicts_with = "evolve_from")]
        basemap: Option<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
}

fn exit_for(outcome: &Outcome) -> ExitCode {
    riskatlas::note!(
        "done: {} records read, {} accepted, {} rejected{}",
        outcome.read,
        outcome.accepted,
        outcome.rejected,
        outcome
            .out_dir
            .as_ref()
            .map(|d| format!("; outputs in {}", d.display()))
            .unwrap_or_default()
    );
    if outcome.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    riskatlas::output::write::gpkg::configure_sqlite();
    riskatlas::ingest::load::configure_gdal();
    let progress = Progress::new(cli.quiet);
    let result: Result<ExitCode, Box<dyn std::error::Error>> = (|| match cli.command {
        Command::Serve { out, port, host } => {
            riskatlas::serve::serve(&out, (host, port).into(), |addr| {
                riskatlas::note!(
                    "serving {} at http://{addr}/{}/ (Ctrl-C to stop)",
                    out.display(),
                    riskatlas::output::web::DIR
                );
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { project, out } => {
            let project = Project::load(&project)?;
            Ok(exit_for(&pipeline::run(&project, &out, &progress)?))
        }
        Command::Compare {
            old,
            new,
            out,
            no_maps,
            font,
        } => {
            let maps = MapOptions {
                font,
                pdf: true,
                ..MapOptions::default()
            };
            let maps = (!no_maps).then_some(&maps);
            for line in pipeline::compare(&old, &new, &out, maps)? {
                riskatlas::note!("{line}");
            }
            riskatlas::note!("changes in {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { project, report } => {
            let project = Project::load(&project)?;
            Ok(exit_for(&pipeline::check(
                &project,
                report.as_deref(),
                &progress,
            )?))
        }
        Command::Generate {
            boundaries,
            evolve_from,
            seed,
            enterprises,
            hazard_sources,
            hidden_dangers,
            targets,
            year,
            bad_rows,
            basemap,
            out,
        } => {
            let opts = match (evolve_from, boundaries) {
                (Some(from), _) => {
                    GenerateOptions::evolve_from(&from, year.expect("clap requires it"), out)?
                }
                (None, boundaries) => {
                    let mut sizes = Sizes::for_enterprises(enterprises);
                    sizes.hazard_units = hazard_sources.unwrap_or(sizes.hazard_units);
                    sizes.hidden_dangers = hidden_dangers.unwrap_or(sizes.hidden_dangers);
                    sizes.targets = targets.unwrap_or(sizes.targets);
                    GenerateOptions {
                        boundaries: boundaries.expect("clap requires it"),
                        out,
                        recipe: Recipe::new(seed, year.unwrap_or(2026), &sizes, bad_rows),
                        basemap,
                    }
                }
            };
            let written = pipeline::generate(&opts, &progress)?;
            riskatlas::note!(
                "wrote {} ({} deliberately bad rows)",
                written.project.display(),
                written.expected.len()
            );
            Ok(ExitCode::SUCCESS)
        }
    })();
    result.unwrap_or_else(|e| {
        riskatlas::note!("error: {e}");
        ExitCode::from(2)
    })
}
