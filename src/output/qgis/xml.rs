//! A small, indenting XML writer for the styles and the project: enough for
//! documents built in order, element by element, with every text escaped.

use std::fmt::Write as _;

/// An XML document being written.
pub struct Xml {
    out: String,
    open: Vec<&'static str>,
}

/// Escapes text for an attribute value or element content.
fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
}

impl Xml {
    /// A document starting with `prolog` (an XML declaration or a DOCTYPE).
    pub fn new(prolog: &str) -> Xml {
        let mut out = String::with_capacity(16 * 1024);
        out.push_str(prolog);
        out.push('\n');
        Xml {
            out,
            open: Vec::new(),
        }
    }

    fn start(&mut self, tag: &str, attrs: &[(&str, &str)]) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
        self.out.push('<');
        self.out.push_str(tag);
        for (k, v) in attrs {
            let _ = write!(self.out, " {k}=\"");
            escape(&mut self.out, v);
            self.out.push('"');
        }
    }

    /// Opens an element whose children follow.
    pub fn open(&mut self, tag: &'static str, attrs: &[(&str, &str)]) -> &mut Xml {
        self.start(tag, attrs);
        self.out.push_str(">\n");
        self.open.push(tag);
        self
    }

    /// An element without children.
    pub fn empty(&mut self, tag: &str, attrs: &[(&str, &str)]) -> &mut Xml {
        self.start(tag, attrs);
        self.out.push_str("/>\n");
        self
    }

    /// An element holding only text.
    pub fn text(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) -> &mut Xml {
        self.start(tag, attrs);
        self.out.push('>');
        escape(&mut self.out, text);
        let _ = writeln!(self.out, "</{tag}>");
        self
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) -> &mut Xml {
        let tag = self.open.pop().expect("an element is open");
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
        let _ = writeln!(self.out, "</{tag}>");
        self
    }

    /// The document; every element must be closed.
    pub fn finish(self) -> String {
        assert!(self.open.is_empty(), "unclosed: {:?}", self.open);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_and_escapes() {
        let mut x = Xml::new("<?xml version=\"1.0\"?>");
        x.open("a", &[("k", "x<\"&'>")]);
        x.text("b", &[], "企业 & 隐患");
        x.empty("c", &[]);
        x.close();
        assert_eq!(
            x.finish(),
            "<?xml version=\"1.0\"?>\n<a k=\"x&lt;&quot;&amp;&apos;&gt;\">\n  <b>企业 &amp; 隐患</b>\n  <c/>\n</a>\n"
        );
    }
}
