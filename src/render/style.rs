//! Terminal colors for the printers: the styles are `colored`'s, the decision is ours.
//!
//! Whether to color is decided once per run (from `--color`, `NO_COLOR` and `CLICOLOR_FORCE`, in
//! `config`) and carried by each printer (its `View`, or the flag it is made with), as ripgrep's
//! printers carry theirs: nothing global is switched, so two printers in one process may differ
//! and a test can render both ways. Without color, text is written as it is, with no work at all.

use std::io::{self, Write};

use colored::Color;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Bold,
    Dim,
    Red,
    Green,
    Yellow,
    Cyan,
    BoldRed,
    BoldGreen,
    BoldYellow,
}

impl Style {
    /// The weight (`1` bold, `2` dim) and the foreground colour it is written with; both `None`
    /// for plain text.
    fn parts(self) -> (Option<&'static str>, Option<Color>) {
        match self {
            Style::Plain => (None, None),
            Style::Bold => (Some("1"), None),
            Style::Dim => (Some("2"), None),
            Style::Red => (None, Some(Color::Red)),
            Style::Green => (None, Some(Color::Green)),
            Style::Yellow => (None, Some(Color::Yellow)),
            Style::Cyan => (None, Some(Color::Cyan)),
            Style::BoldRed => (Some("1"), Some(Color::Red)),
            Style::BoldGreen => (Some("1"), Some(Color::Green)),
            Style::BoldYellow => (Some("1"), Some(Color::Yellow)),
        }
    }
}

/// Writes `pieces` in `style` (styled only when `color` is on), opened as `colored` opens it
/// (weight first, then the foreground) and closed with a reset.
pub fn paint<P: AsRef<[u8]>>(
    out: &mut (impl Write + ?Sized),
    color: bool,
    style: Style,
    pieces: &[P],
) -> io::Result<()> {
    let (weight, foreground) = if color { style.parts() } else { (None, None) };
    match (weight, &foreground) {
        (Some(weight), Some(foreground)) => write!(out, "\x1b[{weight};{}m", foreground.to_fg_str())?,
        (Some(weight), None) => write!(out, "\x1b[{weight}m")?,
        (None, Some(foreground)) => write!(out, "\x1b[{}m", foreground.to_fg_str())?,
        (None, None) => {}
    }
    pieces.iter().try_for_each(|piece| out.write_all(piece.as_ref()))?;
    if weight.is_some() || foreground.is_some() {
        out.write_all(b"\x1b[0m")?;
    }
    Ok(())
}
