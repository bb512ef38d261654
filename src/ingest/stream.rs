//! Checking an input's records on every core while the file is read, in
//! file order.
//!
//! The reader stays on the calling thread (GDAL datasets are not `Sync`) and
//! hands chunks of raw records round-robin to one checking thread per core.
//! Each checks its chunks and admits the good records — for points that
//! includes the join to the units — and a collecting thread takes the chunks
//! back in file order, so the ledger and the duplicate-id check see the
//! records exactly as the file holds them. Only what is accepted is kept:
//! no record waits in a staging list for a second pass, which is what keeps
//! a province's million enterprises within a few hundred bytes each.

use std::collections::BTreeMap;
use std::sync::{mpsc, Arc, Condvar, Mutex};

use crate::crs::ToWgs84;
use crate::ingest::config::InputSpec;
use crate::ingest::load::{self, LoadError, MessageScope, RawRecord, ReadSummary};
use crate::ingest::validate::{duplicate_id, Checker, FieldError, Ledger};
use crate::model::{IdIndex, SourceRef};
use crate::progress::Progress;
use indicatif::ProgressBar as Counter;

/// Records handed from the reading thread to a checking thread at a time.
const CHUNK: usize = 8192;

/// Chunks waiting for each checking thread (the bound keeps the reader
/// from running ahead of the checks).
const QUEUED: usize = 2;

/// A record that has the id its input's duplicate check looks at.
pub trait Keyed {
    /// The record's id.
    fn key(&self) -> &str;
}

/// The records of an input that passed every check, in file order, with
/// the index of their ids (empty for an input whose ids need not be unique).
pub struct Admitted<U> {
    /// The accepted records.
    pub records: Vec<U>,
    /// Positions in `records` by id.
    pub index: IdIndex,
}

/// One record after its checks.
enum Item<U> {
    /// With its id's hash, taken while the id is fresh in this thread's cache.
    Accepted(SourceRef, u64, U),
    Rejected(SourceRef, Option<String>, FieldError),
}

/// What the checking threads tell the collector.
enum Out<U> {
    /// How many records the file is expected to hold (to size the lists once).
    Expect(usize),
    /// A checked chunk and its place in the file.
    Chunk(usize, Vec<Item<U>>),
}

/// Reads `spec` and runs `check` on every record, in parallel, counting
/// each record and sending every failure to `ledger` in file order; a
/// record whose id an earlier accepted record has is rejected as a
/// duplicate. Returns the accepted records and how the file was read.
pub fn check_input<U: Keyed + Send>(
    spec: &InputSpec,
    ledger: &mut Ledger,
    progress: &Progress,
    check: impl Fn(&Checker, &RawRecord) -> Result<U, FieldError> + Sync,
) -> Result<(Admitted<U>, ReadSummary), LoadError> {
    let nothing_to_wait_for = Gate::opened(());
    check_input_then(
        spec,
        ledger,
        progress,
        check,
        &nothing_to_wait_for,
        |_, _| Ok(()),
    )
}

/// [`check_input`] with a last check, `then`, that needs what `gate` lets
/// through: records checked before the gate opens wait for it on their
/// checking thread, which goes on with the next chunk meanwhile. When the
/// gate is abandoned, the records are dropped unchecked and the counts say so
/// (the caller then has an error of its own to give).
pub fn check_input_then<U: Keyed + Send, T: Send + Sync>(
    spec: &InputSpec,
    ledger: &mut Ledger,
    progress: &Progress,
    check: impl Fn(&Checker, &RawRecord) -> Result<U, FieldError> + Sync,
    gate: &Gate<T>,
    then: impl Fn(&T, &mut U) -> Result<(), FieldError> + Sync,
) -> Result<(Admitted<U>, ReadSummary), LoadError> {
    let then = &then;
    let threads = rayon::current_num_threads().max(1);
    let bar = progress.counter(&format!("reading {}", spec.display_path));
    let check = &check;
    let (results_tx, results_rx) = mpsc::channel::<Out<U>>();
    // This input's GDAL messages, whichever of its threads raises them.
    let messages = MessageScope::new();
    let _in_scope = messages.enter();
    std::thread::scope(|scope| {
        let collector = std::thread::Builder::new()
            .name("collect".into())
            .spawn_scoped(scope, || collect(spec, ledger, results_rx))
            .expect("a thread can be started");
        let results = &results_tx;
        let start = |summary: &ReadSummary| -> Result<Feed, String> {
            ToWgs84::new(summary.crs).map_err(|e| e.to_string())?;
            let _ = results.send(Out::Expect(summary.expected.unwrap_or(0)));
            let crs = summary.crs;
            let senders = (0..threads)
                .map(|k| {
                    let (tx, rx) = mpsc::sync_channel::<(usize, Vec<RawRecord>)>(QUEUED);
                    let results = results.clone();
                    std::thread::Builder::new()
                        .name(format!("check-{k}"))
                        .spawn_scoped(scope, move || {
                            let _in_scope = messages.enter();
                            // PROJ objects are per thread: each makes its own converter.
                            let to_wgs = ToWgs84::new(crs).expect("the CRS was checked");
                            let checker = Checker::new(spec, to_wgs);
                            let mut waiting = Vec::new();
                            for (seq, chunk) in rx {
                                waiting.push((seq, check_chunk(&checker, chunk, check)));
                                let through = match gate.peek() {
                                    Passage::Shut => continue,
                                    Passage::Open(t) => t,
                                    Passage::Abandoned => return,
                                };
                                if !finish_chunks(&mut waiting, &*through, then, &results) {
                                    return;
                                }
                            }
                            if !waiting.is_empty() {
                                if let Some(through) = gate.wait() {
                                    finish_chunks(&mut waiting, &*through, then, &results);
                                }
                            }
                        })
                        .expect("a thread can be started");
                    tx
                })
                .collect();
            Ok(Feed {
                senders,
                buffer: Vec::with_capacity(CHUNK),
                sent: 0,
            })
        };
        let read = load::read_input(spec, start, |feed, raw| feed.push(raw, &bar));
        let read = read.map(|(feed, summary)| {
            feed.finish(&bar);
            summary
        });
        drop(results_tx);
        let admitted = collector
            .join()
            .expect("the collecting thread does not panic");
        bar.finish_and_clear();
        read.map(|summary| (admitted, summary))
    })
}

/// The reading side: fills chunks and deals them to the checking threads in turn.
struct Feed {
    senders: Vec<mpsc::SyncSender<(usize, Vec<RawRecord>)>>,
    buffer: Vec<RawRecord>,
    sent: usize,
}

impl Feed {
    fn push(&mut self, raw: RawRecord, bar: &Counter) {
        self.buffer.push(raw);
        if self.buffer.len() == CHUNK {
            self.send(bar);
        }
    }

    fn send(&mut self, bar: &Counter) {
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        bar.inc(chunk.len() as u64);
        let to = &self.senders[self.sent % self.senders.len()];
        // A closed channel means its thread stopped; the collector then
        // lacks that chunk's records and the counts show it.
        let _ = to.send((self.sent, chunk));
        self.sent += 1;
    }

    /// Sends the last, partial chunk; dropping the senders ends the threads.
    fn finish(mut self, bar: &Counter) {
        if !self.buffer.is_empty() {
            self.send(bar);
        }
    }
}

/// Runs the last check on the chunks that waited for it and sends them to
/// the collector; false once the collector is gone.
fn finish_chunks<U: Keyed, T>(
    waiting: &mut Vec<(usize, Vec<Item<U>>)>,
    through: &T,
    then: &impl Fn(&T, &mut U) -> Result<(), FieldError>,
    results: &mpsc::Sender<Out<U>>,
) -> bool {
    waiting.drain(..).all(|(seq, items)| {
        let items = items
            .into_iter()
            .map(|item| match item {
                Item::Accepted(source, hash, mut u) => match then(through, &mut u) {
                    Ok(()) => Item::Accepted(source, hash, u),
                    // The record's key is its id as the file gives it.
                    Err(e) => Item::Rejected(source, Some(u.key().to_string()), e),
                },
                rejected => rejected,
            })
            .collect();
        results.send(Out::Chunk(seq, items)).is_ok()
    })
}

/// What a last check needs, which may still be in the making when the
/// records are read (the units' index, built while the enterprises are read).
pub struct Gate<T> {
    state: Mutex<Passage<T>>,
    changed: Condvar,
}

/// Where a [`Gate`] stands.
enum Passage<T> {
    Shut,
    Open(Arc<T>),
    Abandoned,
}

impl<T> Passage<T> {
    fn copy(&self) -> Passage<T> {
        match self {
            Passage::Shut => Passage::Shut,
            Passage::Open(t) => Passage::Open(t.clone()),
            Passage::Abandoned => Passage::Abandoned,
        }
    }
}

impl<T> Gate<T> {
    /// A gate to be opened (or abandoned) later.
    pub fn shut() -> Gate<T> {
        Gate {
            state: Mutex::new(Passage::Shut),
            changed: Condvar::new(),
        }
    }

    /// A gate open from the start.
    pub fn opened(t: T) -> Gate<T> {
        let gate = Gate::shut();
        gate.open(Arc::new(t));
        gate
    }

    /// Lets `t` through to every waiting and later record.
    pub fn open(&self, t: Arc<T>) {
        self.set(Passage::Open(t));
    }

    /// Nothing will come through: the waiting records are dropped.
    pub fn abandon(&self) {
        self.set(Passage::Abandoned);
    }

    fn set(&self, passage: Passage<T>) {
        *self
            .state
            .lock()
            .expect("no thread panics holding the gate") = passage;
        self.changed.notify_all();
    }

    fn peek(&self) -> Passage<T> {
        self.state
            .lock()
            .expect("no thread panics holding the gate")
            .copy()
    }

    /// Waits until the gate is opened (`Some`) or abandoned (`None`).
    fn wait(&self) -> Option<Arc<T>> {
        let state = self
            .state
            .lock()
            .expect("no thread panics holding the gate");
        let state = self
            .changed
            .wait_while(state, |s| matches!(s, Passage::Shut))
            .expect("no thread panics holding the gate");
        match &*state {
            Passage::Open(t) => Some(t.clone()),
            _ => None,
        }
    }
}

fn check_chunk<U: Keyed>(
    checker: &Checker,
    chunk: Vec<RawRecord>,
    check: &(impl Fn(&Checker, &RawRecord) -> Result<U, FieldError> + Sync),
) -> Vec<Item<U>> {
    let id_field = checker.spec.kind.id_field();
    chunk
        .into_iter()
        .map(|raw| match check(checker, &raw) {
            Ok(u) => Item::Accepted(raw.source, IdIndex::hash(u.key()), u),
            Err(e) => {
                let id = checker.id_of(&raw, id_field);
                Item::Rejected(raw.source, id, e)
            }
        })
        .collect()
}

/// Takes the checked chunks back in file order and keeps the accepted
/// records, catching duplicate ids as it goes.
fn collect<U: Keyed>(
    spec: &InputSpec,
    ledger: &mut Ledger,
    results: mpsc::Receiver<Out<U>>,
) -> Admitted<U> {
    let mut keep = Keeper {
        spec,
        ledger,
        records: Vec::new(),
        rows: Vec::new(),
        index: IdIndex::default(),
    };
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    for out in results {
        match out {
            Out::Expect(n) => keep.expect(n),
            Out::Chunk(seq, items) => {
                waiting.insert(seq, items);
                while let Some(items) = waiting.remove(&next) {
                    next += 1;
                    items.into_iter().for_each(|item| keep.take(item));
                }
            }
        }
    }
    Admitted {
        records: keep.records,
        index: keep.index,
    }
}

/// The collector's state: the accepted records, their rows and id index.
struct Keeper<'a, U> {
    spec: &'a InputSpec,
    ledger: &'a mut Ledger,
    records: Vec<U>,
    rows: Vec<u64>,
    index: IdIndex,
}

impl<U: Keyed> Keeper<'_, U> {
    fn unique(&self) -> bool {
        self.spec.kind.unique_ids()
    }

    fn expect(&mut self, n: usize) {
        self.records.reserve_exact(n);
        if self.unique() {
            self.rows.reserve_exact(n);
            self.index = IdIndex::with_capacity(n);
        }
    }

    fn take(&mut self, item: Item<U>) {
        let kind = self.spec.kind;
        self.ledger.count_read(kind);
        match item {
            Item::Rejected(source, id, e) => self.ledger.reject(kind, source, id, e),
            Item::Accepted(_, _, u) if !self.unique() => self.records.push(u),
            Item::Accepted(source, hash, u) => {
                let i = self.records.len();
                self.records.push(u);
                let records = &self.records;
                match self.index.insert_hashed(i, hash, |j| records[j].key()) {
                    Ok(()) => self.rows.push(source.row),
                    Err(first) => {
                        let u = self.records.pop().expect("just pushed");
                        let id_field = kind.id_field();
                        let column = self.spec.column(id_field).unwrap_or(id_field);
                        let e = duplicate_id(column, u.key(), self.rows[first]);
                        self.ledger
                            .reject(kind, source, Some(u.key().to_string()), e);
                    }
                }
            }
        }
    }
}
