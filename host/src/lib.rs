//! The help-desk host: accounts, tickets and email in Rust, with the rules every vendor wants
//! different delegated to WebAssembly component plugins. See ARCHITECTURE.md for the map.

// The OpenAPI document's schemas are one `json!` literal, deeper than the default allows.
#![recursion_limit = "256"]

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod db;
pub mod decisions;
pub mod domain;
pub mod http;
pub mod i18n;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod plugins;
pub mod requests;
pub mod webhooks;

pub use http::{AppState, app};
