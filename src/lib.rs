//! `tiwhook`: an inspector for Tencent Cloud Interactive Whiteboard (TIW) callbacks.
//!
//! The flow runs one way: [`source`] opens the inputs, [`frame`] and [`document`] cut them into
//! parsed documents, [`validate`] and [`signature`] judge each one against the declarations of
//! [`events`], [`report`] holds the verdict, and [`render`] prints it. [`run`] drives the flow for
//! the binary, whose options [`cli`] declares and [`config`] resolves once.

pub mod cli;
pub mod config;
pub mod document;
pub mod events;
pub mod example;
pub mod exit_codes;
pub mod frame;
pub mod listen;
pub mod locate;
pub mod render;
pub mod report;
pub mod run;
pub mod sanitize;
pub mod sign;
pub mod signature;
pub mod source;
pub mod tape;
pub mod timefmt;
pub mod timeline;
pub mod validate;
