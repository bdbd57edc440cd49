//! The WebAssembly engine behind every plugin call: one `Engine` per process, components compiled
//! once (or loaded from the artifact cache) and pre-linked, and a fresh, bounded `Store` per call.
//!
//! Bounds on every call:
//! - a wall-clock deadline enforced by epoch interruption (a ticker thread advances the epoch);
//! - a memory cap enforced by a `ResourceLimiter` that traps on a refused growth;
//! - an output cap checked on the lifted result.
//!
//! The WASI context a std guest needs is built lazily, only if the guest touches WASI, and is
//! deterministic: no preopens, no environment, a clock stuck at the Unix epoch, a fixed random
//! sequence, no network. A call that never touches WASI pays nothing for it.

use super::bindings;
use super::cache::ArtifactCache;
use super::{PluginError, PluginErrorKind};
use crate::domain::rules::{PluginRef, Slot};
use rand::SeedableRng;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter,
    Store, Trap,
};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{
    HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView,
};

/// The bounds applied to every plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time one call may take.
    pub deadline: Duration,
    /// Linear memory one call may use, in bytes.
    pub max_memory: usize,
    /// Total size of the strings a call may return, in bytes.
    pub max_output: usize,
    /// Plugin calls that may run at the same time; more wait for the pooling allocator.
    pub max_concurrent: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: Duration::from_millis(50),
            max_memory: 32 << 20,
            max_output: 64 << 10,
            max_concurrent: 128,
        }
    }
}

/// Bytes of a guest's stderr kept for the error message of a failed call (a panic message).
const STDERR_CAPACITY: usize = 16 << 10;

/// The process-wide plugin engine.
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallState>,
    limits: Limits,
    tick: Duration,
    cache: Option<ArtifactCache>,
    stop_ticker: Arc<AtomicBool>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    /// Builds the engine. With `cache_dir`, compiled components are kept there across restarts.
    pub fn new(limits: Limits, cache_dir: Option<std::path::PathBuf>) -> anyhow::Result<Runtime> {
        let mut pool = PoolingAllocationConfig::new();
        let slots = limits.max_concurrent.max(1);
        pool.total_component_instances(slots)
            .total_core_instances(slots * 4)
            .total_memories(slots * 2)
            .total_tables(slots * 4)
            .max_memory_size(limits.max_memory);
        // Most of a fresh instance's cost is the kernel: page faults on first touch and
        // `madvise` on release. Where the kernel can report which pages a call dirtied
        // (PAGEMAP_SCAN, Linux 6.7+), keep warm slots resident and reset only those pages.
        if PoolingAllocationConfig::is_pagemap_scan_available() {
            pool.pagemap_scan(Enabled::Yes)
                .linear_memory_keep_resident(limits.max_memory)
                .table_keep_resident(1 << 20);
        } else {
            pool.linear_memory_keep_resident(64 << 10)
                .table_keep_resident(16 << 10);
        }

        let mut config = Config::new();
        config
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .memory_init_cow(true)
            .max_wasm_stack(1 << 20);
        let engine = Engine::new(&config)?;

        let mut linker = Linker::<CallState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        bindings::add_types_to_linker(&mut linker)?;

        // Ten ticks per deadline: a runaway call stops between 1.0 and 1.1 deadlines.
        let tick =
            (limits.deadline / 10).clamp(Duration::from_millis(1), Duration::from_millis(10));
        let stop_ticker = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = stop_ticker.clone();
            std::thread::Builder::new()
                .name("plugin-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })?;
        }

        let cache = cache_dir.map(|dir| ArtifactCache::new(dir, &engine));
        Ok(Runtime {
            engine,
            linker,
            limits,
            tick,
            cache,
            stop_ticker,
        })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Checks that `bytes` is a component that fits `slot`, compiles it (or loads it from the
    /// cache) and pre-links it. Every refusal names what is wrong, for the operator.
    pub fn prepare(
        &self,
        slot: Slot,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<bindings::SlotPre, String> {
        check_is_component(bytes)?;
        let component = match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, bytes, sha256),
            None => Component::new(&self.engine, bytes),
        }
        .map_err(|e| format!("the component does not compile: {e:#}"))?;
        self.check_imports(&component)?;
        check_exports(&self.engine, &component, slot)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| format!("the component cannot be linked: {e:#}"))?;
        bindings::SlotPre::new(slot, pre).map_err(|e| {
            format!(
                "the component exports `{}` with the wrong shape (built against another version of wit/helpdesk.wit?): {e:#}",
                bindings::export_name(slot)
            )
        })
    }

    /// Refuses imports the host does not provide, naming each, before linking would.
    fn check_imports(&self, component: &Component) -> Result<(), String> {
        let ty = component.component_type();
        let missing: Vec<String> = ty
            .imports(&self.engine)
            .map(|(name, _)| name)
            .filter(|name| !is_granted_import(name))
            .map(|name| format!("`{name}`"))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the component imports {}, which rule plugins are not granted (a rule plugin may import only WASI and helpdesk:plugins/types)",
                missing.join(", ")
            ))
        }
    }

    /// Runs `f` against a fresh instance of `pre` under the call limits.
    pub(super) fn call<P, T>(
        &self,
        plugin: &PluginRef,
        pre: &P,
        f: impl FnOnce(&mut Store<CallState>, &P) -> wasmtime::Result<T>,
    ) -> Result<T, PluginError> {
        let mut store = Store::new(
            &self.engine,
            CallState {
                limiter: Limiter {
                    max_memory: self.limits.max_memory,
                    denied: false,
                },
                wasi: None,
                stderr: None,
            },
        );
        store.limiter(|s| &mut s.limiter);
        let ticks = self
            .limits
            .deadline
            .as_nanos()
            .div_ceil(self.tick.as_nanos())
            .max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();

        let started = Instant::now();
        let result = f(&mut store, pre);
        result.map_err(|error| {
            let state = store.data();
            let kind = if state.limiter.denied {
                PluginErrorKind::MemoryLimit(self.limits.max_memory)
            } else if matches!(error.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
                PluginErrorKind::Timeout(self.limits.deadline)
            } else {
                let stderr = state
                    .stderr
                    .as_ref()
                    .map(|pipe| String::from_utf8_lossy(&pipe.contents()).trim().to_owned())
                    .unwrap_or_default();
                PluginErrorKind::Trap {
                    error: format!("{error:#}"),
                    stderr,
                }
            };
            let err = PluginError::new(plugin.clone(), kind);
            tracing::error!(
                plugin.name = %plugin.name,
                plugin.version = %plugin.version,
                plugin.sha256 = %plugin.sha256,
                plugin.id = plugin.id,
                elapsed_us = started.elapsed().as_micros() as u64,
                error = %err,
                "plugin call failed"
            );
            err
        })
    }

    /// Fails a call whose answer is larger than the output cap.
    pub(super) fn check_output(&self, plugin: &PluginRef, bytes: usize) -> Result<(), PluginError> {
        if bytes > self.limits.max_output {
            let err = PluginError::new(
                plugin.clone(),
                PluginErrorKind::OutputTooLarge {
                    bytes,
                    limit: self.limits.max_output,
                },
            );
            tracing::error!(plugin.name = %plugin.name, plugin.version = %plugin.version, plugin.sha256 = %plugin.sha256, error = %err, "plugin call failed");
            return Err(err);
        }
        Ok(())
    }
}

/// The WASI interfaces a std guest may import, all served from the empty context; and the
/// contract's own types-only interface.
fn is_granted_import(name: &str) -> bool {
    name.starts_with("wasi:") || name.starts_with("helpdesk:plugins/types@")
}

/// Tells a core module, or something that is not WebAssembly, from a component.
fn check_is_component(bytes: &[u8]) -> Result<(), String> {
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => Err(
            "this is a core WebAssembly module, not a component: build the plugin for the wasm32-wasip2 target (or wrap it with `wasm-tools component new`)".into(),
        ),
        Some([0, b'a', b's', b'm', _, _, 1, 0]) => Ok(()),
        _ => Err("this is not a WebAssembly component (it does not start with the `\\0asm` component header)".into()),
    }
}

fn check_exports(engine: &Engine, component: &Component, slot: Slot) -> Result<(), String> {
    let wanted = bindings::export_name(slot);
    let ty = component.component_type();
    let exports: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();
    if exports.contains(&wanted) {
        return Ok(());
    }
    let found = if exports.is_empty() {
        "no interfaces".to_owned()
    } else {
        exports
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let hint = Slot::ALL
        .into_iter()
        .find(|other| exports.contains(&bindings::export_name(*other)))
        .map(|other| format!("; it looks like a {other} plugin"))
        .unwrap_or_default();
    Err(format!(
        "the component does not implement the {slot} slot: it does not export `{wanted}` (it exports {found}){hint}"
    ))
}

/// Per-call store state.
#[allow(missing_debug_implementations)] // WasiCtx has no Debug; nothing here is worth printing.
pub struct CallState {
    limiter: Limiter,
    wasi: Option<(WasiCtx, ResourceTable)>,
    stderr: Option<MemoryOutputPipe>,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        if self.wasi.is_none() {
            let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
            let ctx = WasiCtxBuilder::new()
                .stderr(stderr.clone())
                .wall_clock(EpochClock)
                .monotonic_clock(EpochClock)
                .secure_random(rand::rngs::StdRng::seed_from_u64(0))
                .insecure_random(rand::rngs::StdRng::seed_from_u64(0))
                .insecure_random_seed(0)
                .allow_ip_name_lookup(false)
                .allow_tcp(false)
                .allow_udp(false)
                .build();
            self.stderr = Some(stderr);
            self.wasi = Some((ctx, ResourceTable::new()));
        }
        let (ctx, table) = self.wasi.as_mut().expect("initialised above");
        WasiCtxView { ctx, table }
    }
}

/// A clock stuck at the Unix epoch: plugins decide from their inputs, never from the time.
struct EpochClock;

impl HostWallClock for EpochClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for EpochClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Caps linear memory and remembers a refusal, so the failure is reported as a memory overrun
/// rather than as whatever trap the guest hits next.
struct Limiter {
    max_memory: usize,
    denied: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            self.denied = true;
            wasmtime::bail!("memory cap of {} bytes reached", self.max_memory);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
