//! Legends: symbols with their meaning and counts, grouped under headings,
//! measured before the map is laid out (so the layout can find them a
//! corner) and drawn where the layout puts them. A legend that is taller
//! than the map flows into a second column.

use tiny_skia::Color;

use super::{colour, Page, Rect};

/// Draws a swatch centred at (x, y), `size` px across.
pub type Painter = Box<dyn Fn(&mut Page, f32, f32, f32)>;

/// One symbol and what it stands for.
pub struct Entry {
    /// Draws the symbol.
    pub paint: Painter,
    /// Its meaning, with a count where one means something.
    pub text: String,
    /// The colour the symbol shows on the map itself, where it has one
    /// (listed in `maps.json`, so a reader can find it on the map).
    pub colour: Option<Color>,
}

/// Entries under a heading.
pub struct Section {
    /// The heading (企业风险等级 …); none for a legend of one group.
    pub heading: Option<String>,
    /// The entries, in drawing-priority order.
    pub entries: Vec<Entry>,
}

/// A map's legend.
#[derive(Default)]
pub struct Legend {
    /// The groups of entries.
    pub sections: Vec<Section>,
    /// Small lines under the entries: what is left out, per-unit counts.
    pub notes: Vec<String>,
}

/// A swatch filled with `fill` (already at the opacity the map uses),
/// outlined thinly: an area fill or a grid grade.
pub fn fill_swatch(fill: Color) -> Painter {
    Box::new(move |page: &mut Page, x, y, size| {
        let edge = colour(&page.style.furniture.swatch_outline, 1.0);
        page.rect(
            Rect {
                l: x - size * 0.55,
                t: y - size * 0.42,
                r: x + size * 0.55,
                b: y + size * 0.42,
            },
            Some(fill),
            Some((edge, 0.8)),
        );
    })
}

impl Legend {
    /// A section; sections with no entries are left out.
    pub fn section(&mut self, heading: &str, entries: Vec<Entry>) {
        if !entries.is_empty() {
            self.sections.push(Section {
                heading: Some(heading.to_string()),
                entries,
            });
        }
    }

    fn metrics(page: &Page) -> Metrics {
        let size = page.pt(page.style.text.legend_pt);
        let small = page.pt(page.style.text.small_pt);
        Metrics {
            size,
            small,
            line: size * 1.65,
            heading: size * 1.55,
            note: small * 1.45,
            pad: page.mm(3.0),
            gap: page.mm(4.0),
        }
    }

    /// The sections split into columns no taller than `max_height` px
    /// (the title line, the notes and the padding counted in the first).
    fn columns(&self, page: &Page, max_height: f32) -> Vec<Vec<&Section>> {
        let m = Legend::metrics(page);
        let fixed = 2.0 * m.pad + m.line + self.notes_height(&m);
        let mut cols: Vec<Vec<&Section>> = vec![Vec::new()];
        let mut used = fixed;
        for s in &self.sections {
            let h = section_height(s, &m);
            if used + h > max_height && !cols.last().expect("a column").is_empty() {
                cols.push(Vec::new());
                used = fixed;
            }
            cols.last_mut().expect("a column").push(s);
            used += h;
        }
        cols
    }

    fn notes_height(&self, m: &Metrics) -> f32 {
        if self.notes.is_empty() {
            0.0
        } else {
            m.small * 0.6 + self.notes.len() as f32 * m.note
        }
    }

    /// Width and height in px when drawn no taller than `max_height`
    /// (where one column is taller, the sections flow into more).
    pub fn size(&self, page: &Page, max_height: f32) -> (f32, f32) {
        let m = Legend::metrics(page);
        let cols = self.columns(page, max_height);
        let entries_width: f32 = cols.iter().map(|c| column_width(page, c, &m)).sum::<f32>()
            + m.gap * (cols.len() - 1) as f32;
        let notes_width = self
            .notes
            .iter()
            .map(|n| page.measure(n, m.small).0)
            .fold(0.0, f32::max);
        let height = cols
            .iter()
            .map(|c| c.iter().map(|s| section_height(s, &m)).sum::<f32>())
            .fold(0.0, f32::max)
            + 2.0 * m.pad
            + m.line
            + self.notes_height(&m);
        let heading = page.measure("图  例", m.size).0;
        let width = entries_width.max(notes_width).max(heading);
        (width + 2.0 * m.pad, height)
    }

    /// Draws the legend in `r` (as sized by [`Legend::size`] with the same
    /// `max_height`) on its box; the box is then off limits to labels.
    pub fn draw(&self, page: &mut Page, r: Rect, max_height: f32) {
        let m = Legend::metrics(page);
        let furniture = &page.style.furniture;
        let fill = colour(&furniture.box_, furniture.legend_alpha);
        let edge = colour(&page.style.frame.colour, 1.0);
        page.rect(r, Some(fill), Some((edge, 1.0)));
        let ink = colour(&page.style.text.colour, 1.0);
        let muted = colour(&page.style.text.colour, 0.75);
        page.text("图  例", r.l + m.pad, r.t + m.pad, m.size, ink, None);
        let top = r.t + m.pad + m.line;
        let mut x = r.l + m.pad;
        let mut bottom = top;
        for col in self.columns(page, max_height) {
            let mut y = top;
            for s in &col {
                if let Some(h) = &s.heading {
                    page.text(h, x, y + m.size * 0.1, m.size * 0.92, muted, None);
                    y += m.heading;
                }
                for e in &s.entries {
                    (e.paint)(page, x + m.size * 0.6, y + m.size * 0.6, m.size);
                    page.text(&e.text, x + m.size * 1.8, y, m.size, ink, None);
                    y += m.line;
                }
            }
            bottom = bottom.max(y);
            x += column_width(page, &col, &m) + m.gap;
        }
        let mut y = bottom + m.small * 0.6;
        for n in &self.notes {
            page.text(n, r.l + m.pad, y, m.small, ink, None);
            y += m.note;
        }
        page.taken.push(r);
        page.furniture("legend", r);
        for e in self.sections.iter().flat_map(|s| &s.entries) {
            let hex = e.colour.map(|c| {
                let c = c.to_color_u8();
                format!("#{:02X}{:02X}{:02X}", c.red(), c.green(), c.blue())
            });
            page.info.legend.push(super::LegendItem {
                text: e.text.clone(),
                colour: hex,
            });
        }
        page.info.legend_notes.extend(self.notes.iter().cloned());
    }
}

/// Sizes in px of a legend's parts.
struct Metrics {
    size: f32,
    small: f32,
    line: f32,
    heading: f32,
    note: f32,
    pad: f32,
    gap: f32,
}

/// A column's width in px: its widest entry (swatch and text) or heading.
fn column_width(page: &Page, col: &[&Section], m: &Metrics) -> f32 {
    col.iter()
        .flat_map(|s| {
            let head = s.heading.as_deref().map(|h| page.measure(h, m.size).0);
            s.entries
                .iter()
                .map(|e| page.measure(&e.text, m.size).0 + m.size * 1.8)
                .chain(head)
        })
        .fold(0.0, f32::max)
}

fn section_height(s: &Section, m: &Metrics) -> f32 {
    s.heading.as_ref().map_or(0.0, |_| m.heading) + s.entries.len() as f32 * m.line
}
