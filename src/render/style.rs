//! Terminal colors for the printers, through the `colored` crate.
//!
//! Whether to color is decided once per run (from `--color`, `NO_COLOR` and `CLICOLOR_FORCE`, in
//! `config`): the binary sets `colored`'s override from it, and each printer is handed the same
//! answer when it is made. Without color, text is written as it is, with no work at all.

use std::io::{self, Write};

use colored::{ColoredString, Colorize};

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
    fn apply(self, text: String) -> ColoredString {
        match self {
            Style::Plain => text.normal(),
            Style::Bold => text.bold(),
            Style::Dim => text.dimmed(),
            Style::Red => text.red(),
            Style::Green => text.green(),
            Style::Yellow => text.yellow(),
            Style::Cyan => text.cyan(),
            Style::BoldRed => text.red().bold(),
            Style::BoldGreen => text.green().bold(),
            Style::BoldYellow => text.yellow().bold(),
        }
    }
}

/// Writes `pieces` in `style` (styled only when `color` is on).
pub fn paint(out: &mut (impl Write + ?Sized), color: bool, style: Style, pieces: &[&str]) -> io::Result<()> {
    if color && style != Style::Plain {
        write!(out, "{}", style.apply(pieces.concat()))
    } else {
        pieces.iter().try_for_each(|piece| out.write_all(piece.as_bytes()))
    }
}
