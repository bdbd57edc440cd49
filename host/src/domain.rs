//! The help desk's own concepts, free of storage, HTTP and WebAssembly details.

pub mod rules;
pub mod text;
