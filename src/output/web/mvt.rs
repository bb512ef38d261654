//! Mapbox Vector Tile 2.1 encoding: a tile's layers, their features, keys
//! and values, written as the protocol buffer the specification defines.
//!
//! Only what the tiles need is here: points and polygons with integer ids
//! and text, integer, real and boolean properties. Keys and values are
//! stored once per layer, in the order first met, so a tile's bytes depend
//! only on the features given, in their order.

/// Tile coordinates (0..extent across the tile, y down; may run past the
/// edges into the buffer).
pub type Xy = [i32; 2];

/// One polygon: its exterior ring and holes, each without the closing
/// vertex. The encoder winds them as the specification asks.
pub type TilePolygon = (Vec<Xy>, Vec<Vec<Xy>>);

/// A feature's geometry in tile coordinates.
#[derive(Debug, Clone, PartialEq)]
pub enum TileGeometry {
    /// One point.
    Point(Xy),
    /// One or more polygons.
    Polygons(Vec<TilePolygon>),
}

/// A property value, borrowed (null properties are given as `None`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prop<'a> {
    /// Text.
    Str(&'a str),
    /// An integer.
    Int(i64),
    /// A real.
    Real(f64),
    /// A boolean.
    Bool(bool),
}

/// One layer of a tile being built.
pub struct LayerBuilder {
    name: String,
    extent: u32,
    features: Vec<u8>,
    keys: Vec<String>,
    /// The value messages, end to end; `value_ends[i]` ends the i-th.
    values: Vec<u8>,
    value_ends: Vec<u32>,
    /// Value indices by their message's bytes.
    value_index: hashbrown::HashTable<u32>,
    /// For [`LayerBuilder::add_encoded`]: the key index of each field, once
    /// the field has been met (`u32::MAX` before).
    field_keys: Vec<u32>,
    count: usize,
    /// Scratch buffers, reused from feature to feature.
    tags: Vec<u32>,
    commands: Vec<u32>,
    message: Vec<u8>,
}

/// The i-th of the messages stored end to end in `bytes`, `ends[i]` ending each.
fn nth<'a>(bytes: &'a [u8], ends: &[u32], i: u32) -> &'a [u8] {
    let i = i as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &bytes[start..ends[i] as usize]
}

/// The hash of a value message.
fn hash(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x4d56_5432).hash_one(bytes)
}

impl LayerBuilder {
    /// An empty layer `name` of `extent` units across.
    pub fn new(name: &str, extent: u32) -> LayerBuilder {
        LayerBuilder {
            name: name.to_string(),
            extent,
            features: Vec::new(),
            keys: Vec::new(),
            values: Vec::new(),
            value_ends: Vec::new(),
            value_index: hashbrown::HashTable::new(),
            field_keys: Vec::new(),
            count: 0,
            tags: Vec::new(),
            commands: Vec::new(),
            message: Vec::new(),
        }
    }

    /// Whether no feature was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds a feature; null properties are left out, as MVT has no null.
    /// A polygon that winds to nothing (all rings degenerate) is skipped.
    pub fn add(&mut self, id: u64, props: &[(&str, Option<Prop>)], geometry: &TileGeometry) {
        let mut message = Vec::new();
        self.add_tagged(id, geometry, |b, tags| {
            for (key, value) in props {
                let Some(v) = value else { continue };
                tags.push(b.key(key));
                message.clear();
                value_message(*v, &mut message);
                tags.push(b.value(&message));
            }
        });
    }

    /// [`LayerBuilder::add`] with the values already encoded as value
    /// messages ([`value_message`]), `None` for null: `keys[i]` names the
    /// i-th, and every feature of a layer comes with the same `keys`. The
    /// tiles' features are added so, as their properties are kept (a tile
    /// then neither decodes nor re-encodes them).
    pub fn add_encoded<'v>(
        &mut self,
        id: u64,
        keys: &[String],
        values: impl Iterator<Item = Option<&'v [u8]>>,
        geometry: &TileGeometry,
    ) {
        self.add_tagged(id, geometry, |b, tags| {
            if b.field_keys.len() != keys.len() {
                debug_assert!(b.field_keys.is_empty(), "one set of keys per layer");
                b.field_keys = vec![u32::MAX; keys.len()];
            }
            for (i, value) in values.enumerate() {
                let Some(v) = value else { continue };
                // Keys are indexed in the order first met, as `key` does.
                if b.field_keys[i] == u32::MAX {
                    b.field_keys[i] = b.key(&keys[i]);
                }
                tags.push(b.field_keys[i]);
                tags.push(b.value(v));
            }
        });
    }

    /// Adds a feature whose tags `tag` pushes, unless its geometry is
    /// nothing to draw (then no key or value is stored either).
    fn add_tagged(
        &mut self,
        id: u64,
        geometry: &TileGeometry,
        tag: impl FnOnce(&mut LayerBuilder, &mut Vec<u32>),
    ) {
        let mut commands = std::mem::take(&mut self.commands);
        let Some(kind) = encode_geometry(geometry, &mut commands) else {
            self.commands = commands;
            return;
        };
        let mut tags = std::mem::take(&mut self.tags);
        tags.clear();
        tag(self, &mut tags);
        self.push_feature(id, kind, tags, commands);
    }

    /// Writes the feature message of `id` with its tags and geometry.
    fn push_feature(&mut self, id: u64, kind: u64, tags: Vec<u32>, commands: Vec<u32>) {
        let mut f = std::mem::take(&mut self.message);
        f.clear();
        varint_field(&mut f, 1, id);
        packed_field(&mut f, 2, &tags);
        varint_field(&mut f, 3, kind);
        packed_field(&mut f, 4, &commands);
        bytes_field(&mut self.features, 2, &f);
        self.count += 1;
        (self.tags, self.commands, self.message) = (tags, commands, f);
    }

    /// The key's index (a layer has a few keys: a scan is quickest).
    fn key(&mut self, key: &str) -> u32 {
        if let Some(i) = self.keys.iter().position(|k| k == key) {
            return i as u32;
        }
        self.keys.push(key.to_string());
        (self.keys.len() - 1) as u32
    }

    /// The index of the value whose message is `message`, stored the first
    /// time it is met (a real by its bits, so equal values are one).
    fn value(&mut self, message: &[u8]) -> u32 {
        let h = hash(message);
        let found = {
            let (values, ends) = (&self.values, &self.value_ends);
            self.value_index
                .find(h, |&i| nth(values, ends, i) == message)
                .copied()
        };
        if let Some(i) = found {
            return i;
        }
        let i = self.value_ends.len() as u32;
        self.values.extend_from_slice(message);
        self.value_ends.push(self.values.len() as u32);
        let (values, ends) = (&self.values, &self.value_ends);
        self.value_index
            .insert_unique(h, i, |&j| hash(nth(values, ends, j)));
        i
    }

    /// The layer message.
    fn encode(&self, out: &mut Vec<u8>) {
        let mut l = Vec::with_capacity(self.features.len() + self.values.len() + 64);
        varint_field(&mut l, 15, 2);
        bytes_field(&mut l, 1, self.name.as_bytes());
        l.extend_from_slice(&self.features);
        for k in &self.keys {
            bytes_field(&mut l, 3, k.as_bytes());
        }
        for i in 0..self.value_ends.len() {
            bytes_field(&mut l, 4, nth(&self.values, &self.value_ends, i as u32));
        }
        varint_field(&mut l, 5, u64::from(self.extent));
        bytes_field(out, 3, &l);
    }
}

/// The tile of `layers` (empty layers left out); empty if all are.
pub fn encode_tile(layers: &[LayerBuilder]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in layers.iter().filter(|l| !l.is_empty()) {
        l.encode(&mut out);
    }
    out
}

/// Appends the value message of `v` (the specification's `Value`: text,
/// double, sint64 or bool).
pub fn value_message(v: Prop, out: &mut Vec<u8>) {
    match v {
        Prop::Str(s) => bytes_field(out, 1, s.as_bytes()),
        Prop::Real(r) => {
            out.push((3 << 3) | 1);
            out.extend_from_slice(&r.to_bits().to_le_bytes());
        }
        Prop::Int(i) => varint_field(out, 6, zigzag64(i)),
        Prop::Bool(b) => varint_field(out, 7, u64::from(b)),
    }
}

/// The length of the value message at the start of `bytes`, as
/// [`value_message`] writes them.
pub fn value_message_len(bytes: &[u8]) -> usize {
    match bytes[0] {
        0x0A => {
            let (len, n) = read_varint(&bytes[1..]);
            1 + n + len as usize
        }
        0x19 => 9,
        0x30 | 0x38 => 1 + read_varint(&bytes[1..]).1,
        tag => panic!("not a value message written here: tag {tag:#x}"),
    }
}

/// The varint at the start of `bytes`, and how many bytes it takes.
fn read_varint(bytes: &[u8]) -> (u64, usize) {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate() {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return (v, i + 1);
        }
    }
    panic!("a whole varint")
}

const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;

fn command(id: u32, count: usize) -> u32 {
    id | ((count as u32) << 3)
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The geometry type, its command integers written to `cmds`; `None`
/// for nothing to draw.
fn encode_geometry(g: &TileGeometry, cmds: &mut Vec<u32>) -> Option<u64> {
    cmds.clear();
    match g {
        TileGeometry::Point([x, y]) => {
            cmds.extend([command(MOVE_TO, 1), zigzag(*x), zigzag(*y)]);
            Some(1)
        }
        TileGeometry::Polygons(polygons) => {
            let mut cursor = [0i32, 0];
            for (exterior, holes) in polygons {
                let ext = clean_ring(exterior);
                if ext.len() < 3 || ring_area2(&ext) == 0 {
                    continue;
                }
                // Exteriors positive (clockwise on screen), holes negative.
                ring_commands(&ext, true, &mut cursor, cmds);
                for h in holes {
                    let h = clean_ring(h);
                    if h.len() >= 3 && ring_area2(&h) != 0 {
                        ring_commands(&h, false, &mut cursor, cmds);
                    }
                }
            }
            (!cmds.is_empty()).then_some(3)
        }
    }
}

/// The ring without repeated vertices or a closing vertex.
fn clean_ring(ring: &[Xy]) -> Vec<Xy> {
    let mut out: Vec<Xy> = Vec::with_capacity(ring.len());
    for &p in ring {
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

/// Twice the ring's area by the surveyor's formula in tile coordinates
/// (positive for a ring clockwise on screen).
fn ring_area2(ring: &[Xy]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

fn ring_commands(ring: &[Xy], exterior: bool, cursor: &mut Xy, cmds: &mut Vec<u32>) {
    let forward = (ring_area2(ring) > 0) == exterior;
    let ordered: Vec<Xy> = if forward {
        ring.to_vec()
    } else {
        ring.iter().rev().copied().collect()
    };
    let mut push = |p: Xy, cmds: &mut Vec<u32>| {
        cmds.push(zigzag(p[0] - cursor[0]));
        cmds.push(zigzag(p[1] - cursor[1]));
        *cursor = p;
    };
    cmds.push(command(MOVE_TO, 1));
    push(ordered[0], cmds);
    cmds.push(command(LINE_TO, ordered.len() - 1));
    for &p in &ordered[1..] {
        push(p, cmds);
    }
    cmds.push(command(CLOSE_PATH, 1));
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    varint(out, u64::from(field << 3));
    varint(out, v);
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    varint(out, u64::from((field << 3) | 2));
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Bytes of `v` as a varint.
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn packed_field(out: &mut Vec<u8>, field: u32, values: &[u32]) {
    let len: usize = values.iter().map(|&v| varint_len(u64::from(v))).sum();
    varint(out, u64::from((field << 3) | 2));
    varint(out, len as u64);
    for &v in values {
        varint(out, u64::from(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_feature_is_encoded_as_the_specification_example() {
        // The specification's example: a point at (25, 17) is [9, 50, 34].
        let mut cmds = Vec::new();
        let kind = encode_geometry(&TileGeometry::Point([25, 17]), &mut cmds);
        assert_eq!((kind, cmds), (Some(1), vec![9, 50, 34]));
    }

    #[test]
    fn polygons_are_wound_exterior_clockwise_on_screen_and_holes_the_other_way() {
        // Counter-clockwise on screen (y down) as given: reversed.
        let ccw = vec![[0, 0], [0, 10], [10, 10], [10, 0]];
        let hole_ccw = vec![[2, 2], [2, 4], [4, 4], [4, 2]];
        let mut cmds = Vec::new();
        let polygons = TileGeometry::Polygons(vec![(ccw, vec![hole_ccw])]);
        assert_eq!(encode_geometry(&polygons, &mut cmds), Some(3));
        // MoveTo(1), x, y, LineTo(3), 3 pairs, ClosePath: 11 per ring.
        assert_eq!(cmds.len(), 22);
        assert_eq!(cmds[0], 9);
        assert_eq!(cmds[3], command(LINE_TO, 3));
        assert_eq!(cmds[10], 15);
        let decode = |c: &[u32], start: Xy| {
            let un = |v: u32| ((v >> 1) as i32) ^ -((v & 1) as i32);
            let mut p = start;
            let mut ring = Vec::new();
            for pair in [&c[1..3], &c[4..6], &c[6..8], &c[8..10]] {
                p = [p[0] + un(pair[0]), p[1] + un(pair[1])];
                ring.push(p);
            }
            ring
        };
        let ext = decode(&cmds[..11], [0, 0]);
        assert!(ring_area2(&ext) > 0, "{ext:?}");
        let hole = decode(&cmds[11..], *ext.last().unwrap());
        assert!(ring_area2(&hole) < 0, "{hole:?}");
    }

    #[test]
    fn degenerate_polygons_are_left_out() {
        let flat = vec![[0, 0], [5, 0], [10, 0]];
        assert_eq!(
            encode_geometry(
                &TileGeometry::Polygons(vec![(flat, vec![])]),
                &mut Vec::new()
            ),
            None
        );
        let mut l = LayerBuilder::new("x", 4096);
        l.add(
            1,
            &[],
            &TileGeometry::Polygons(vec![(vec![[1, 1], [1, 1]], vec![])]),
        );
        assert!(l.is_empty());
        assert!(encode_tile(&[l]).is_empty());
    }

    #[test]
    fn varint_lengths_match_the_bytes_written() {
        for v in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            varint(&mut out, v);
            assert_eq!(varint_len(v), out.len(), "{v}");
        }
    }

    #[test]
    fn value_messages_are_measured_whole() {
        let long = "长".repeat(60);
        for v in [
            Prop::Str("常州"),
            Prop::Str(&long),
            Prop::Str(""),
            Prop::Real(2.5),
            Prop::Int(-3),
            Prop::Int(i64::MIN),
            Prop::Bool(true),
        ] {
            let mut m = Vec::new();
            value_message(v, &mut m);
            let n = m.len();
            m.extend_from_slice(&[0x0A, 0x00]);
            assert_eq!(value_message_len(&m), n, "{v:?}");
        }
    }

    #[test]
    fn keys_and_values_are_stored_once_per_layer() {
        let mut l = LayerBuilder::new("enterprises", 4096);
        for i in 0..3 {
            l.add(
                i,
                &[
                    ("grade", Some(Prop::Str("red"))),
                    ("n", Some(Prop::Int(7))),
                    ("none", None),
                ],
                &TileGeometry::Point([1, 2]),
            );
        }
        assert_eq!((l.keys.len(), l.value_ends.len(), l.count), (2, 2, 3));
        assert!(!encode_tile(&[l]).is_empty());
    }
}
