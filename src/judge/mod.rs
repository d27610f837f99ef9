//! Judging: from a parsed document to a [`Report`](report::Report), decided once.
//!
//! [`events`] declares every callback `tiwhook` knows, as data; [`walk`] checks a document against
//! those declarations and the signature rules of [`signature`], and records what it found in a
//! [`report::Report`]: the verdict, the findings, and each field's value, typed. Printers read
//! nothing else; the finding codes are listed in [`crate::codes`]. [`tasks`] follows tasks across the
//! reports of a stream, for `timeline`. [`body`] judges a request body as a whole.

pub mod body;
pub mod events;
pub mod report;
pub mod signature;
pub mod tasks;
pub mod walk;

pub use walk::{Policy, judge, judge_broken, judge_item, judge_reusing};
