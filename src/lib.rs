//! `tiwhook`: an inspector for Tencent Cloud Interactive Whiteboard (TIW) callbacks.
//!
//! The flow runs one way, and the modules are laid out along it (docs/ARCHITECTURE.md draws it):
//! [`read`] turns inputs into parsed documents, [`judge`] turns each document into a typed
//! [`judge::report::Report`], and [`render`] prints reports. [`pipeline`] drives that flow for the
//! reading commands, and [`commands`] holds one file per subcommand. The options are declared in
//! [`cli`] and resolved once in [`config`].

pub mod byte_search;
pub mod cli;
pub mod codes;
pub mod commands;
pub mod config;
pub mod delivery;
pub mod exit_codes;
pub mod json_string;
pub mod judge;
pub mod pipeline;
pub mod random;
pub mod read;
pub mod render;
pub mod resign;
pub mod sanitize;
#[cfg(test)]
mod testing;
pub mod timefmt;
