//! Compiled components: kept in memory within a byte budget, on disk in the artifact cache, and
//! compiled, where a [`Compiler`] is set, by a child process.
//!
//! Compiling a component with an interpreter inside (componentize-py's, componentize-js's) takes
//! a minute and hundreds of megabytes, which the allocator keeps long after. In a child process,
//! that memory goes back when it exits, and a component that crashes or exhausts the compiler
//! takes only the child down. The server then loads the artifact the child wrote, as it would
//! after a restart.

use super::cache::ArtifactCache;
use super::runtime::Limits;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How to run the compiler in a child process: `program args… <limits> <wasm> <artifact>`; it
/// must build the same engine from the limits given (the server's own binary does, with
/// `helpdesk plugin compile-artifact`).
#[derive(Debug, Clone)]
pub struct Compiler {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// The longest a child may compile one component.
const CHILD_TIME: Duration = Duration::from_secs(15 * 60);

/// Compiled components of one engine.
#[derive(Debug)]
pub(crate) struct Compiled {
    cache: Option<ArtifactCache>,
    compiler: Option<Compiler>,
    memo: Mutex<Memo>,
    /// One compile per component at a time: the second asker waits and finds it compiled.
    compiling: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// The components used most recently, newest last, within `budget` bytes of compiled code.
#[derive(Debug, Default)]
struct Memo {
    entries: Vec<(String, Component, usize)>,
    bytes: usize,
    budget: usize,
}

impl Memo {
    fn get(&mut self, sha256: &str) -> Option<Component> {
        let at = self.entries.iter().position(|(s, _, _)| s == sha256)?;
        let entry = self.entries.remove(at);
        let component = entry.1.clone();
        self.entries.push(entry);
        Some(component)
    }

    fn put(&mut self, sha256: &str, component: &Component) {
        let size = size_of(component);
        if let Some(at) = self.entries.iter().position(|(s, _, _)| s == sha256) {
            let (_, _, old) = self.entries.remove(at);
            self.bytes -= old;
        }
        // One larger than the whole budget is not kept: the artifact cache has it.
        if size > self.budget {
            return;
        }
        while self.bytes + size > self.budget && !self.entries.is_empty() {
            let (_, _, old) = self.entries.remove(0);
            self.bytes -= old;
        }
        self.entries
            .push((sha256.to_owned(), component.clone(), size));
        self.bytes += size;
    }
}

/// The bytes of compiled code a component holds in memory.
pub(crate) fn size_of(component: &Component) -> usize {
    let range = component.image_range();
    (range.end as usize).saturating_sub(range.start as usize)
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Compiled {
    pub(crate) fn new(
        cache: Option<ArtifactCache>,
        compiler: Option<Compiler>,
        budget: usize,
    ) -> Compiled {
        Compiled {
            // Without a cache to hand the artifact over, a child cannot help.
            compiler: compiler.filter(|_| cache.is_some()),
            cache,
            memo: Mutex::new(Memo {
                budget,
                ..Memo::default()
            }),
            compiling: Mutex::default(),
        }
    }

    /// The bytes of compiled code kept in memory now.
    pub(crate) fn memo_bytes(&self) -> usize {
        locked(&self.memo).bytes
    }

    /// The compiled component for `bytes`: from memory, from the artifact cache, or compiled.
    pub(crate) fn get(
        &self,
        engine: &Engine,
        limits: &Limits,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<Component, String> {
        if let Some(c) = locked(&self.memo).get(sha256) {
            return Ok(c);
        }
        let turn = locked(&self.compiling)
            .entry(sha256.to_owned())
            .or_default()
            .clone();
        let _mine = locked(&turn);
        let component = self.load_or_compile(engine, limits, bytes, sha256);
        locked(&self.compiling).remove(sha256);
        let component = component?;
        locked(&self.memo).put(sha256, &component);
        Ok(component)
    }

    fn load_or_compile(
        &self,
        engine: &Engine,
        limits: &Limits,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<Component, String> {
        // Another caller may have compiled it while this one waited its turn.
        if let Some(c) = locked(&self.memo).get(sha256) {
            return Ok(c);
        }
        let refuse = |e: &dyn std::fmt::Display| format!("the component does not compile: {e:#}");
        let Some(cache) = &self.cache else {
            return Component::new(engine, bytes).map_err(|e| refuse(&e));
        };
        if let Some(c) = cache.load(engine, sha256) {
            return Ok(c);
        }
        match &self.compiler {
            Some(compiler) => {
                let started = Instant::now();
                compile_in_child(compiler, limits, bytes, &cache.path(sha256))?;
                tracing::info!(sha256, took = ?started.elapsed(), "plugin compiled in a child process");
                cache.load(engine, sha256).ok_or_else(|| {
                    "the component was compiled, but its artifact could not be loaded".to_owned()
                })
            }
            None => {
                let component = Component::new(engine, bytes).map_err(|e| refuse(&e))?;
                cache.store(&component, sha256);
                Ok(component)
            }
        }
    }
}

/// Runs `compiler` on `bytes`, which writes the artifact to `artifact`.
fn compile_in_child(
    compiler: &Compiler,
    limits: &Limits,
    bytes: &[u8],
    artifact: &Path,
) -> Result<(), String> {
    let dir = artifact.parent().unwrap_or(Path::new("."));
    let trouble = |e: &dyn std::fmt::Display| format!("the plugin compiler could not run: {e}");
    std::fs::create_dir_all(dir).map_err(|e| trouble(&e))?;
    let wasm = tempfile::Builder::new()
        .prefix(".compile-")
        .suffix(".wasm")
        .tempfile_in(dir)
        .map_err(|e| trouble(&e))?;
    std::fs::write(wasm.path(), bytes).map_err(|e| trouble(&e))?;
    let mut child = std::process::Command::new(&compiler.program)
        .args(&compiler.args)
        .arg(limits.encode())
        .arg(wasm.path())
        .arg(artifact)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| trouble(&e))?;
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut s) = stderr {
            use std::io::Read;
            let _ = s.read_to_string(&mut text);
        }
        text
    });
    let deadline = Instant::now() + CHILD_TIME;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the component does not compile: it took longer than {} minutes",
                    CHILD_TIME.as_secs() / 60
                ));
            }
            Err(e) => return Err(trouble(&e)),
        }
    };
    let said = reader.join().unwrap_or_default();
    if status.success() {
        return Ok(());
    }
    let said = said.trim();
    let tail = said
        .char_indices()
        .rev()
        .nth(2000)
        .map_or(said, |(i, _)| &said[i..]);
    Err(match status.code() {
        Some(_) if !tail.is_empty() => format!("the component does not compile: {tail}"),
        _ => format!("the component does not compile: the compiler stopped ({status})"),
    })
}

/// What the child process does: compiles `wasm` with the engine `limits` describe and writes
/// the artifact to `artifact`, whole or not at all.
pub fn compile_artifact(limits: &str, wasm: &Path, artifact: &Path) -> anyhow::Result<()> {
    let limits = Limits::decode(limits)?;
    let runtime = super::Runtime::new(limits, None)?;
    let bytes = std::fs::read(wasm)?;
    let component = Component::new(runtime.engine(), &bytes)?;
    let dir = artifact.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".artifact-")
        .tempfile_in(dir)?;
    std::fs::write(tmp.path(), component.serialize()?)?;
    tmp.persist(artifact)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memo_keeps_the_newest_within_its_bytes() {
        let engine = Engine::default();
        let [x, y, z] =
            helpdesk_bundled_plugins::DEFAULTS.map(|b| Component::new(&engine, b.wasm).unwrap());
        let largest = [&x, &y, &z].map(size_of).into_iter().max().unwrap();
        assert!(largest > 0);
        let mut memo = Memo {
            budget: largest * 2,
            ..Memo::default()
        };
        memo.put("a", &x);
        memo.put("b", &y);
        assert!(memo.get("a").is_some(), "a is the newest now");
        memo.put("c", &z);
        assert!(memo.bytes <= memo.budget);
        assert!(memo.get("c").is_some(), "the newest stays");
        assert!(memo.get("b").is_none(), "the least recently used went");
        let mut tiny = Memo {
            budget: 1,
            ..Memo::default()
        };
        tiny.put("big", &x);
        assert!(tiny.get("big").is_none() && tiny.bytes == 0);
    }
}
