//! Terminal colors for the printers, written as ANSI SGR codes without allocating.
//!
//! Whether to color is decided once, by the global override of the `colored` crate that the
//! binary sets from `--color`, `NO_COLOR` and `CLICOLOR_FORCE`; printers read it when they are made.

use std::io::{self, Write};

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
    fn code(self) -> &'static [u8] {
        match self {
            Style::Plain => b"",
            Style::Bold => b"\x1b[1m",
            Style::Dim => b"\x1b[2m",
            Style::Red => b"\x1b[31m",
            Style::Green => b"\x1b[32m",
            Style::Yellow => b"\x1b[33m",
            Style::Cyan => b"\x1b[36m",
            Style::BoldRed => b"\x1b[1;31m",
            Style::BoldGreen => b"\x1b[1;32m",
            Style::BoldYellow => b"\x1b[1;33m",
        }
    }
}

/// Whether output is to be colored, as resolved for this run.
pub fn color_enabled() -> bool {
    colored::control::SHOULD_COLORIZE.should_colorize()
}

/// Writes `pieces` in `style` (styled only when `color` is on).
pub fn paint(out: &mut (impl Write + ?Sized), color: bool, style: Style, pieces: &[&str]) -> io::Result<()> {
    let styled = color && style != Style::Plain;
    if styled {
        out.write_all(style.code())?;
    }
    for piece in pieces {
        out.write_all(piece.as_bytes())?;
    }
    if styled {
        out.write_all(b"\x1b[0m")?;
    }
    Ok(())
}
