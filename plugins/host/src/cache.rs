//! Compiled components kept on disk, so a restart or a second replica loads a plugin in
//! milliseconds instead of compiling it again.
//!
//! An artifact is named by the component's sha256 and a hash of the engine's compatibility
//! settings (wasmtime version, target, configuration), so a host never loads an artifact built
//! for another engine. Only this directory's own artifacts are ever deserialized: it lives in the
//! host's data directory, which is as trusted as the binary itself.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use wasmtime::Engine;
use wasmtime::component::Component;

#[derive(Debug)]
pub struct ArtifactCache {
    dir: PathBuf,
    engine_hash: String,
}

impl ArtifactCache {
    pub fn new(dir: PathBuf, engine: &Engine) -> ArtifactCache {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        ArtifactCache {
            dir,
            engine_hash: format!("{:016x}", hasher.finish()),
        }
    }

    /// Where the artifact of the component `sha256` is kept.
    pub(crate) fn path(&self, sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{sha256}-{}.cwasm", self.engine_hash))
    }

    /// The artifact for `sha256`, if this cache holds a readable one. One that cannot be read
    /// only costs time: the component is compiled again.
    pub(crate) fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.path(sha256);
        // Read into memory rather than mmap the file: a file truncated under a live mapping
        // kills the process with SIGBUS, and the cache must never be able to crash the server.
        let artifact = std::fs::read(&path).ok()?;
        // SAFETY: the file was written by `store` below or by this binary's own compiler child
        // (`compile::compile_artifact`), from a component this engine's configuration compiled,
        // under a name that binds it to these exact bytes and engine settings; wasmtime still
        // checks the header and refuses artifacts of another engine.
        #[allow(unsafe_code)]
        match unsafe { Component::deserialize(engine, &artifact) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable plugin artifact");
                None
            }
        }
    }

    /// Keeps the artifact of `component`; a cache that cannot be written only costs time.
    pub(crate) fn store(&self, component: &Component, sha256: &str) {
        let path = self.path(sha256);
        let stored = (|| -> anyhow::Result<()> {
            std::fs::create_dir_all(&self.dir)?;
            let artifact = component.serialize()?;
            // Write then rename, so a concurrent reader never sees half a file.
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&tmp, artifact)?;
            std::fs::rename(&tmp, &path)?;
            Ok(())
        })();
        if let Err(e) = stored {
            tracing::warn!(path = %path.display(), error = %e, "could not cache plugin artifact");
        }
    }
}
