//! The output folder as a transaction.
//!
//! A run never writes into its output folder. It takes a lock beside the
//! folder (`.<name>.lock`, an advisory `flock` that dies with the process),
//! writes everything into a staging folder beside it on the same file system
//! (`.<name>.staging-<pid>`), and as its very last step swaps the staging
//! folder in with one atomic `renameat2(RENAME_EXCHANGE)` (two renames where
//! the file system cannot exchange). So a reader — or a run killed at any
//! moment — sees either the previous complete output or the new complete
//! output, never a mix, and after a successful run the folder holds exactly
//! that run's files. A failed run removes its staging folder; one left by a
//! killed run is removed by the next run into the same folder.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

/// Why the output folder cannot be locked, staged or replaced.
#[derive(Debug, Error)]
pub enum StagingError {
    /// Another run holds the folder's lock.
    #[error("output folder {folder} is in use by another riskatlas run (pid {pid}); wait for it to finish or choose another --out")]
    Busy {
        /// The output folder as given.
        folder: String,
        /// Process id read from the lock file, or `unknown`.
        pid: String,
    },
    /// The folder may not be used or replaced, e.g. it overlaps an input or
    /// holds files that are not a riskatlas output.
    #[error("output folder {folder}: {reason}")]
    Refused {
        /// The output folder as given.
        folder: String,
        /// Why, worded to follow the folder's name.
        reason: String,
    },
    /// A file-system call on the folder, its lock file or its staging folder failed.
    #[error("output folder {folder}: {what}: {source}")]
    Io {
        /// The output folder as given.
        folder: String,
        /// What failed, e.g. `cannot lock it`.
        what: String,
        /// The error from the system.
        source: std::io::Error,
    },
}

/// An absolute, lexically normalised path (`..` and `.` resolved), with the
/// longest existing prefix resolved through symbolic links.
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    let mut clean = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    // Resolve links in the part that exists, so two spellings of a folder compare equal.
    let mut existing = clean.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(name) => {
                rest.push(name.to_os_string());
                existing.pop();
            }
            None => break,
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    for name in rest.into_iter().rev() {
        out.push(name);
    }
    out
}

/// Refuses an output folder that would overwrite or swallow an input: one
/// that is an input, contains an input (or the project file), or lies inside
/// an input given as a folder. Called before anything is read.
pub fn refuse_overlap<'a>(
    out: &Path,
    inputs: impl IntoIterator<Item = (&'a str, &'a Path)>,
) -> Result<(), StagingError> {
    let out_abs = absolute(out);
    for (what, input) in inputs {
        let input_abs = absolute(input);
        let reason = if input_abs.starts_with(&out_abs) {
            Some(format!(
                "it holds {what} {}; the run replaces the whole folder, so choose a folder of its own, e.g. {}",
                input_abs.display(),
                out_abs.join("out").display()
            ))
        } else if input_abs.is_dir() && out_abs.starts_with(&input_abs) {
            Some(format!(
                "it lies inside the input folder of {what} {}",
                input_abs.display()
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(StagingError::Refused {
                folder: out.display().to_string(),
                reason,
            });
        }
    }
    Ok(())
}

/// Whether a folder is empty or holds an earlier riskatlas output (its
/// `report.json` says so), i.e. may be replaced as a whole.
fn replaceable(dir: &Path) -> std::io::Result<bool> {
    if std::fs::read_dir(dir)?.next().is_none() {
        return Ok(true);
    }
    let report = match std::fs::read_to_string(dir.join("report.json")) {
        Ok(text) => text,
        Err(_) => return Ok(false),
    };
    Ok(serde_json::from_str::<serde_json::Value>(&report)
        .ok()
        .is_some_and(|v| v["tool"] == "riskatlas"))
}

/// A run's hold on its output folder; the staging folder it writes into.
pub struct OutputTxn {
    target: PathBuf,
    staging: PathBuf,
    /// Where the previous output waits while the new one is moved in, where
    /// the file system cannot exchange the two atomically.
    previous: PathBuf,
    lock_path: PathBuf,
    _lock: File,
    done: bool,
}

fn io<'a>(folder: &'a Path, what: &str) -> impl Fn(std::io::Error) -> StagingError + 'a {
    let what = what.to_string();
    move |source| StagingError::Io {
        folder: folder.display().to_string(),
        what: what.clone(),
        source,
    }
}

/// Opens and locks the lock file, making sure the file locked is still the
/// one at `path` (a finishing run unlinks it while holding the lock).
fn take_lock(path: &Path, folder: &Path) -> Result<File, StagingError> {
    use std::os::unix::fs::MetadataExt;
    for _ in 0..10 {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io(folder, "cannot create the lock file beside it"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(StagingError::Busy {
                    folder: folder.display().to_string(),
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid.into()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(io(folder, "cannot lock it")(e));
            }
        }
        let same = match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => false,
        };
        if same {
            file.set_len(0)
                .map_err(io(folder, "cannot write the lock file"))?;
            file.rewind()
                .map_err(io(folder, "cannot write the lock file"))?;
            write!(file, "{}", std::process::id())
                .map_err(io(folder, "cannot write the lock file"))?;
            return Ok(file);
        }
    }
    Err(StagingError::Refused {
        folder: folder.display().to_string(),
        reason: "its lock file keeps changing; is another run starting and stopping?".into(),
    })
}

/// Swaps two paths atomically (Linux `renameat2` with `RENAME_EXCHANGE`).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings for the call's duration.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl OutputTxn {
    /// Locks `out`, clears what a killed run left beside it, checks that it
    /// may be replaced, and creates the staging folder.
    pub fn begin(out: &Path) -> Result<OutputTxn, StagingError> {
        let target = absolute(out);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| StagingError::Refused {
                folder: out.display().to_string(),
                reason: "is not a folder that can be replaced (the file-system root?)".into(),
            })?;
        let parent = target.parent().unwrap_or(Path::new("/")).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(io(out, "cannot create its parent folder"))?;
        let lock_path = parent.join(format!(".{name}.lock"));
        let lock = take_lock(&lock_path, out)?;
        // From here on, dropping `txn` on an error unlocks and cleans up.
        let txn = OutputTxn {
            staging: parent.join(format!(".{name}.staging-{}", std::process::id())),
            previous: parent.join(format!(".{name}.previous-{}", std::process::id())),
            target,
            lock_path,
            _lock: lock,
            done: false,
        };
        // Under the lock, any staging folder of this output is a killed run's.
        let leftovers = [format!(".{name}.staging-"), format!(".{name}.previous-")];
        for entry in std::fs::read_dir(&parent)
            .map_err(io(out, "cannot list its parent folder"))?
            .flatten()
        {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if leftovers.iter().any(|p| file_name.starts_with(p.as_str())) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        if txn.target.exists() {
            if !txn.target.is_dir() {
                return Err(StagingError::Refused {
                    folder: out.display().to_string(),
                    reason: "exists and is not a folder".into(),
                });
            }
            if !replaceable(&txn.target).map_err(io(out, "cannot read it"))? {
                return Err(StagingError::Refused {
                    folder: out.display().to_string(),
                    reason: "holds files that are not a riskatlas output; the run replaces the \
                             whole folder, so choose an empty or new folder"
                        .into(),
                });
            }
        }
        std::fs::create_dir(&txn.staging).map_err(io(out, "cannot write beside it"))?;
        Ok(txn)
    }

    /// The folder to write this run's outputs into.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The output folder the run will replace.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Puts the staged outputs in place of the output folder, atomically.
    pub fn commit(mut self) -> Result<(), StagingError> {
        let out = self.target.clone();
        if self.target.exists() {
            match exchange(&self.staging, &self.target) {
                Ok(()) => {}
                Err(_) => {
                    // No atomic exchange here: the folder is briefly absent,
                    // never a mix.
                    std::fs::rename(&self.target, &self.previous)
                        .map_err(io(&out, "cannot move the previous output aside"))?;
                    if let Err(e) = std::fs::rename(&self.staging, &self.target) {
                        let _ = std::fs::rename(&self.previous, &self.target);
                        return Err(io(&out, "cannot move the new output in")(e));
                    }
                    self.staging = self.previous.clone();
                }
            }
            // The staging path now holds the previous output.
            let _ = std::fs::remove_dir_all(&self.staging);
        } else {
            std::fs::rename(&self.staging, &self.target)
                .map_err(io(&out, "cannot move the new output in"))?;
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for OutputTxn {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
        // Unlinked while still locked: a run waiting on the old file sees
        // the change and locks the new one (see `take_lock`).
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Every file under `dir` with its size in bytes, relative paths with `/`, sorted.
pub fn manifest(dir: &Path) -> std::io::Result<Vec<(String, u64)>> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, u64)>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            let meta = entry.metadata()?;
            if meta.is_dir() {
                walk(base, &path, out)?;
            } else {
                let rel = path.strip_prefix(base).unwrap_or(&path);
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, meta.len()));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_is_refused_and_a_commit_replaces_the_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let first = OutputTxn::begin(&out).unwrap();
        let err = OutputTxn::begin(&out).err().unwrap().to_string();
        assert!(
            err.contains("in use") && err.contains(&std::process::id().to_string()),
            "{err}"
        );
        std::fs::write(first.path().join("report.json"), r#"{"tool":"riskatlas"}"#).unwrap();
        std::fs::write(first.path().join("a.txt"), "1").unwrap();
        first.commit().unwrap();
        assert!(out.join("a.txt").exists());
        // The next run replaces every file: nothing stale is left.
        let second = OutputTxn::begin(&out).unwrap();
        std::fs::write(second.path().join("report.json"), r#"{"tool":"riskatlas"}"#).unwrap();
        second.commit().unwrap();
        assert!(!out.join("a.txt").exists());
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("out")],
            "no debris beside the output"
        );
    }

    #[test]
    fn a_failed_run_leaves_the_previous_output_and_no_debris() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("report.json"), r#"{"tool":"riskatlas"}"#).unwrap();
        {
            let txn = OutputTxn::begin(&out).unwrap();
            std::fs::write(txn.path().join("half.geojson"), "{").unwrap();
        } // dropped without commit
        assert_eq!(
            manifest(&out).unwrap(),
            vec![("report.json".to_string(), 20)]
        );
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn folders_that_are_not_outputs_or_hold_inputs_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let docs = tmp.path().join("docs");
        std::fs::create_dir(&docs).unwrap();
        std::fs::write(docs.join("thesis.docx"), "x").unwrap();
        let err = OutputTxn::begin(&docs).err().unwrap().to_string();
        assert!(err.contains("not a riskatlas output"), "{err}");
        assert!(docs.join("thesis.docx").exists());
        let input = tmp.path().join("data").join("e.csv");
        std::fs::create_dir_all(input.parent().unwrap()).unwrap();
        std::fs::write(&input, "id\n").unwrap();
        let err = refuse_overlap(
            &tmp.path().join("data"),
            [("[inputs.enterprises]", input.as_path())],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("e.csv"), "{err}");
        let err = refuse_overlap(
            &tmp.path().join("data/../data/./"),
            [("x", input.as_path())],
        );
        assert!(err.is_err(), "another spelling of the same folder");
        assert!(refuse_overlap(&tmp.path().join("data/out"), [("x", input.as_path())]).is_ok());
        let folder_input = tmp.path().join("data");
        assert!(refuse_overlap(
            &tmp.path().join("data/out"),
            [("x", folder_input.as_path())]
        )
        .is_err());
    }
}
