//! The help desk's own concepts, free of storage, HTTP and WebAssembly details.

pub use helpdesk_plugin_host::rules;
pub mod custom;
pub mod fields;
pub mod markdown;
pub mod net;
pub mod text;
