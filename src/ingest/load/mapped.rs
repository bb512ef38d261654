//! A text file mapped into memory and read once from start to end, its
//! pages handed back to the kernel behind the reader.
//!
//! Reading a province's 100 MB CSV into a buffer would keep all of it in
//! memory to the end of the load; mapped, the pages already parsed are
//! dropped every few megabytes, so the file costs a few megabytes whatever
//! its size. The mapping is private and never written: a dropped page that
//! is touched again is read again from the file, unchanged.

use std::cell::Cell;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Bytes between two hand-backs of the pages behind the reader.
const RELEASE_STEP: usize = 8 << 20;

/// A read-only private mapping of a whole file.
pub struct Mapped {
    ptr: *mut libc::c_void,
    len: usize,
    /// Bytes from the start already handed back (a multiple of the page size).
    released: Cell<usize>,
    page: usize,
}

impl Mapped {
    /// Maps the file at `path` (an empty file maps to no bytes).
    pub fn open(path: &Path) -> std::io::Result<Mapped> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| std::io::Error::other("file too large to map"))?;
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        if len == 0 {
            return Ok(Mapped {
                ptr: std::ptr::null_mut(),
                len,
                released: Cell::new(0),
                page,
            });
        }
        // SAFETY: a fresh read-only private mapping of an open file; the
        // descriptor may close once it is mapped.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the range is the mapping just made; the advice only tunes read-ahead.
        unsafe { libc::madvise(ptr, len, libc::MADV_SEQUENTIAL) };
        Ok(Mapped {
            ptr,
            len,
            released: Cell::new(0),
            page,
        })
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` maps `len` readable bytes for the life of `self`.
        // Pages handed back read again from the file with the same content
        // (the mapping is private and never written).
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }

    /// Hands back the pages wholly before byte `offset` once a step's worth
    /// has been read; the reader will not need them again (if it does, they
    /// are read again from the file).
    pub fn release_before(&self, offset: usize) {
        let end = offset.min(self.len) / self.page * self.page;
        let start = self.released.get();
        if end < start + RELEASE_STEP {
            return;
        }
        // SAFETY: [start, end) lies inside the mapping and is page-aligned;
        // dropping pages of an unwritten private file mapping keeps its content.
        unsafe {
            libc::madvise(
                self.ptr.cast::<u8>().add(start).cast(),
                end - start,
                libc::MADV_DONTNEED,
            )
        };
        self.released.set(end);
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: unmaps exactly the mapping made in `open`.
            unsafe { libc::munmap(self.ptr, self.len) };
        }
    }
}

/// Physical lines of the file from byte `from` (line breaks, plus a last line without one),
/// counted a step at a time with the pages counted handed back.
pub fn count_lines(file: &Mapped, from: usize) -> u64 {
    let bytes = &file.bytes()[from..];
    let mut lines = 0;
    let mut start = 0;
    while start < bytes.len() {
        let mut end = (start + RELEASE_STEP).min(bytes.len());
        // A "\r\n" is one break: never end a step between its two bytes.
        if bytes[end - 1] == b'\r' && end < bytes.len() {
            end += 1;
        }
        lines += super::csv::physical_lines(&bytes[start..end]);
        // A step that ends inside a line counted that line as complete.
        if end < bytes.len() && !matches!(bytes[end - 1], b'\n' | b'\r') {
            lines -= 1;
        }
        start = end;
        file.release_before(from + start);
    }
    // The parse that follows reads from the start again.
    file.released.set(0);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_counted_in_steps_match_one_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        // Lines of every ending, long enough for several steps, with a
        // "\r\n" and a line straddling the step boundaries.
        let mut text = Vec::new();
        let mut i = 0u64;
        while text.len() < 3 * RELEASE_STEP + 1000 {
            let ending: &[u8] = match i % 3 {
                0 => b"\n",
                1 => b"\r\n",
                _ => b"\r",
            };
            text.extend_from_slice(format!("{i},名称{i},x").as_bytes());
            text.extend_from_slice(ending);
            i += 1;
        }
        text.extend_from_slice(b"last line without a break");
        for cut in [
            text.len(),
            RELEASE_STEP,
            RELEASE_STEP + 1,
            2 * RELEASE_STEP - 1,
        ] {
            std::fs::write(&path, &text[..cut]).unwrap();
            let file = Mapped::open(&path).unwrap();
            let whole = super::super::csv::physical_lines(&text[..cut]);
            assert_eq!(count_lines(&file, 0), whole, "cut at {cut}");
            assert_eq!(file.bytes(), &text[..cut], "content after release");
        }
    }
}
