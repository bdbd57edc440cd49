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
use super::capture::Capture;
use super::compile::{Compiled, Compiler};
use super::surface::{Surface, check_is_component};
use super::{PluginError, PluginErrorKind};
use crate::rules::{PluginRef, Slot};
use rand::SeedableRng;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter,
    Store, Trap,
};
use wasmtime_wasi::{
    HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView,
};

/// What one call of one plugin may spend. Every slot has a default ([`Limits::budget`]); an
/// operator can give one installation more ([`Raise`]): a plugin built with an interpreter
/// inside, such as componentize-py's, needs far more instructions than a Rust one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Budget {
    /// WebAssembly instructions one call may execute (wasmtime fuel: about one per
    /// instruction). Counted, not timed, so the same input gets the same answer under any load.
    pub instructions: u64,
    /// Linear memory one call may use, in bytes.
    pub memory: usize,
    /// Total size of the strings a call may return, in bytes.
    pub output: usize,
    /// Wall-clock time one call may take: a backstop for time spent outside instructions (a
    /// host call that blocks), far above what the instruction budget allows.
    pub backstop: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            instructions: 20_000_000,
            memory: 32 << 20,
            output: 64 << 10,
            backstop: Duration::from_secs(1),
        }
    }
}

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} instructions, {} memory, {} output, {} ms backstop",
            self.instructions,
            crate::size(self.memory),
            crate::size(self.output),
            self.backstop.as_millis()
        )
    }
}

/// An installation's own budget, as the parts it changes from its slot's default. Stored with
/// the installation as JSON; `{}` is the slot's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct Raise {
    /// Instructions one call may execute, instead of the slot's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "cli", arg(long, value_parser = clap::value_parser!(u64).range(1..)))]
    pub instructions: Option<u64>,
    /// Memory one call may use, in MiB, instead of the slot's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "cli", arg(long, value_parser = clap::value_parser!(u64).range(1..=4096)))]
    pub memory_mib: Option<u64>,
    /// Largest answer of one call, in KiB, instead of the slot's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "cli", arg(long, value_parser = clap::value_parser!(u64).range(1..=65_536)))]
    pub output_kib: Option<u64>,
    /// Wall-clock backstop of one call, in milliseconds, instead of the slot's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "cli", arg(long, value_parser = clap::value_parser!(u64).range(1..=60_000)))]
    pub backstop_ms: Option<u64>,
}

impl Raise {
    pub fn is_empty(&self) -> bool {
        *self == Raise::default()
    }

    /// `base` with this installation's parts in place of the default's.
    pub fn apply(&self, base: Budget) -> Budget {
        let to_usize = |v: u64, shift: u32| {
            usize::try_from(v.saturating_mul(1 << shift)).unwrap_or(usize::MAX)
        };
        Budget {
            instructions: self.instructions.unwrap_or(base.instructions),
            memory: self.memory_mib.map_or(base.memory, |m| to_usize(m, 20)),
            output: self.output_kib.map_or(base.output, |k| to_usize(k, 10)),
            backstop: self
                .backstop_ms
                .map_or(base.backstop, Duration::from_millis),
        }
    }
}

/// The engine's bounds: the default budget of each slot, and the ceilings no installation's
/// budget may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// The budget of a plugin installed without one of its own, per slot (in [`Slot::ALL`]
    /// order).
    pub budgets: [Budget; 3],
    /// The most memory any installation may be given, in bytes.
    pub memory_ceiling: usize,
    /// The longest backstop any installation may be given.
    pub backstop_ceiling: Duration,
    /// Plugin calls that may run at the same time; more wait for the pooling allocator.
    pub max_concurrent: u32,
    /// Bytes of compiled code kept in memory for components no longer (or not yet) serving,
    /// to prepare them again without loading them from disk.
    pub compiled_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            budgets: [Budget::default(); 3],
            memory_ceiling: 512 << 20,
            backstop_ceiling: Duration::from_secs(10),
            max_concurrent: 128,
            compiled_memory: 64 << 20,
        }
    }
}

impl Limits {
    /// The limits as one argument, for a compiler in a child process.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn decode(s: &str) -> anyhow::Result<Limits> {
        Ok(serde_json::from_str(s)?)
    }

    /// The default budget of `slot`.
    pub fn budget(&self, slot: Slot) -> Budget {
        self.budgets[slot.index()]
    }

    /// The same budget for every slot.
    pub fn with_budget(self, budget: Budget) -> Limits {
        Limits {
            budgets: [budget; 3],
            ..self
        }
    }

    /// Refuses a budget past the ceilings, or one too small to run anything.
    pub fn check(&self, budget: &Budget) -> Result<(), String> {
        if budget.memory > self.memory_ceiling {
            return Err(format!(
                "a budget of {} MiB memory is over this server's ceiling of {} MiB (HELPDESK_PLUGIN_MEMORY_CEILING_MIB)",
                budget.memory >> 20,
                self.memory_ceiling >> 20
            ));
        }
        if budget.backstop > self.backstop_ceiling {
            return Err(format!(
                "a backstop of {} ms is over this server's ceiling of {} ms",
                budget.backstop.as_millis(),
                self.backstop_ceiling.as_millis()
            ));
        }
        if budget.instructions == 0 || budget.memory < 64 << 10 || budget.output == 0 {
            return Err(
                "a budget needs at least 1 instruction, 64 KiB of memory and 1 byte of output"
                    .into(),
            );
        }
        if budget.backstop.is_zero() {
            return Err("a budget needs a backstop of at least 1 ms".into());
        }
        Ok(())
    }
}

/// What one call, or a run of calls, spent, and what it logged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    pub calls: u32,
    pub instructions: u64,
    /// The largest linear memory any of the calls reached, in bytes.
    pub peak_memory: usize,
    pub elapsed: Duration,
    /// The lines the calls logged (the `log` import) and wrote to stdout or stderr, in order.
    pub logs: Vec<LogLine>,
}

impl Usage {
    fn add(&mut self, other: Usage) {
        self.calls += other.calls;
        self.instructions += other.instructions;
        self.peak_memory = self.peak_memory.max(other.peak_memory);
        self.elapsed += other.elapsed;
        self.logs.extend(other.logs);
    }
}

/// A line a plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
    /// What the plugin wrote to stdout or stderr.
    Output,
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Output => "output",
        })
    }
}

/// Lines one call may log, and the bytes kept of each.
const LOG_LINES: usize = 32;
const LOG_LINE_BYTES: usize = 1024;

thread_local! {
    static METER: std::cell::RefCell<Option<Usage>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` and adds up what every plugin call it made on this thread spent and logged. Calls
/// are synchronous on the calling thread, so the sum is exactly `f`'s.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let outer = METER.replace(Some(Usage::default()));
    let value = f();
    let usage = METER.replace(outer).unwrap_or_default();
    METER.with_borrow_mut(|m| {
        if let Some(outer) = m {
            outer.add(usage.clone());
        }
    });
    (value, usage)
}

/// Bytes of a guest's stdout and stderr kept per call, for the log and for the message of a
/// failed call (a panic message).
const OUTPUT_CAPACITY: usize = 16 << 10;

/// The process-wide plugin engine.
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallState>,
    limits: Limits,
    tick: Duration,
    /// Compiled components: in memory within `Limits::compiled_memory`, on disk, or compiled.
    /// Preparing the same bytes again (one example config after another, install after test, a
    /// replica's refresh) reuses the compile.
    compiled: Compiled,
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
        Runtime::with_compiler(limits, cache_dir, None)
    }

    /// [`Runtime::new`], compiling components in a child process with `compiler` (which needs
    /// `cache_dir` to hand the artifact over).
    pub fn with_compiler(
        limits: Limits,
        cache_dir: Option<std::path::PathBuf>,
        compiler: Option<Compiler>,
    ) -> anyhow::Result<Runtime> {
        let mut pool = PoolingAllocationConfig::new();
        let slots = limits.max_concurrent.max(1);
        pool.total_component_instances(slots)
            .total_core_instances(slots * 4)
            .total_memories(slots * 2)
            .total_tables(slots * 4)
            .max_memory_size(limits.memory_ceiling);
        let usual_memory = limits.budgets.iter().map(|b| b.memory).max().unwrap_or(0);
        // Most of a fresh instance's cost is the kernel: page faults on first touch and
        // `madvise` on release. Where the kernel can report which pages a call dirtied
        // (PAGEMAP_SCAN, Linux 6.7+), keep warm slots resident and reset only those pages.
        if PoolingAllocationConfig::is_pagemap_scan_available() {
            pool.pagemap_scan(Enabled::Yes)
                .linear_memory_keep_resident(usual_memory)
                .table_keep_resident(1 << 20);
        } else {
            pool.linear_memory_keep_resident(64 << 10)
                .table_keep_resident(16 << 10);
        }

        let mut config = Config::new();
        config
            .epoch_interruption(true)
            .consume_fuel(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .memory_init_cow(true)
            .max_wasm_stack(1 << 20);
        let engine = Engine::new(&config)?;

        let mut linker = Linker::<CallState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        bindings::add_to_linker(&mut linker)?;

        // A tick of a tenth of the shortest default backstop, between 1 and 10 ms.
        let shortest = limits
            .budgets
            .iter()
            .map(|b| b.backstop)
            .min()
            .unwrap_or_default();
        let tick = (shortest / 10).clamp(Duration::from_millis(1), Duration::from_millis(10));
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
            compiled: Compiled::new(cache, compiler, limits.compiled_memory),
            stop_ticker,
        })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Checks that `bytes` is a component that fits `slot`, compiles it (or loads it from the
    /// cache) and pre-links it. Every refusal names what is wrong, for the operator. What can be
    /// read from the binary (its imports and exports) is checked before the compile, which can
    /// take a minute for a component with an interpreter inside.
    pub fn prepare(
        &self,
        slot: Slot,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<bindings::SlotPre, String> {
        check_is_component(bytes)?;
        let surface = Surface::read(bytes)?;
        surface.check_imports()?;
        let contract = surface.check_exports(slot)?;
        let component = self.compile(bytes, sha256)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| format!("the component cannot be linked: {e:#}"))?;
        bindings::check_signatures(&pre, slot, contract)?;
        bindings::SlotPre::new(slot, contract, pre).map_err(|e| {
            format!(
                "the component exports `{}` with the wrong shape (built against another version of wit/helpdesk.wit?): {e:#}",
                bindings::export_name(slot, contract)
            )
        })
    }

    /// The compiled component for `bytes`: from memory, from the artifact cache, or compiled.
    fn compile(&self, bytes: &[u8], sha256: &str) -> Result<Component, String> {
        self.compiled.get(&self.engine, &self.limits, bytes, sha256)
    }

    /// Bytes of compiled code kept in memory for reuse now (at most `Limits::compiled_memory`).
    pub fn compiled_memory(&self) -> usize {
        self.compiled.memo_bytes()
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs `f` against a fresh instance of `pre` within `budget`.
    pub(super) fn call<P, T>(
        &self,
        plugin: &PluginRef,
        budget: &Budget,
        pre: &P,
        f: impl FnOnce(&mut Store<CallState>, &P) -> wasmtime::Result<T>,
    ) -> Result<T, PluginError> {
        let mut store = Store::new(
            &self.engine,
            CallState {
                limiter: Limiter {
                    max_memory: budget.memory,
                    peak: 0,
                    denied: None,
                },
                wasi: None,
                output: None,
                logs: Vec::new(),
                dropped_lines: 0,
            },
        );
        store.limiter(|s| &mut s.limiter);
        // The ticker does not start with the call, so one tick more than the backstop holds:
        // a call stops between its backstop and one tick (at most 10 ms) after it.
        let ticks = budget.backstop.as_nanos().div_ceil(self.tick.as_nanos()) as u64 + 1;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        store
            .set_fuel(budget.instructions)
            .expect("fuel is enabled on the engine");

        let started = Instant::now();
        let result = f(&mut store, pre);
        let elapsed = started.elapsed();
        let output = store.data().output.as_ref().map(Capture::text);
        let mut logs = std::mem::take(&mut store.data_mut().logs);
        if let Some(text) = output.as_deref().filter(|t| !t.is_empty()) {
            logs.push(LogLine {
                level: LogLevel::Output,
                message: text.to_owned(),
            });
        }
        let dropped = store.data().dropped_lines;
        if dropped > 0 {
            logs.push(LogLine {
                level: LogLevel::Warn,
                message: format!(
                    "{dropped} more lines were dropped (at most {LOG_LINES} per call)"
                ),
            });
        }
        for line in &logs {
            let (name, version, sha256) = (&plugin.name, &plugin.version, &plugin.sha256);
            let message = &line.message;
            match line.level {
                LogLevel::Debug => {
                    tracing::debug!(plugin.name = %name, plugin.version = %version, plugin.sha256 = %sha256, "plugin: {message}")
                }
                LogLevel::Info | LogLevel::Output => {
                    tracing::info!(plugin.name = %name, plugin.version = %version, plugin.sha256 = %sha256, "plugin: {message}")
                }
                LogLevel::Warn => {
                    tracing::warn!(plugin.name = %name, plugin.version = %version, plugin.sha256 = %sha256, "plugin: {message}")
                }
                LogLevel::Error => {
                    tracing::error!(plugin.name = %name, plugin.version = %version, plugin.sha256 = %sha256, "plugin: {message}")
                }
            }
        }
        let usage = Usage {
            calls: 1,
            instructions: budget.instructions - store.get_fuel().unwrap_or(0),
            peak_memory: store.data().limiter.peak,
            elapsed,
            logs,
        };
        let instructions = usage.instructions;
        METER.with_borrow_mut(|m| {
            if let Some(total) = m {
                total.add(usage);
            }
        });
        result.map_err(|error| {
            let state = store.data();
            let kind = if let Some(wanted) = state.limiter.denied {
                PluginErrorKind::MemoryLimit {
                    limit: budget.memory,
                    wanted,
                }
            } else {
                match error.downcast_ref::<Trap>() {
                    Some(Trap::OutOfFuel) => PluginErrorKind::OutOfFuel(budget.instructions),
                    Some(Trap::Interrupt) => PluginErrorKind::Timeout(budget.backstop),
                    _ => PluginErrorKind::Trap {
                        error: format!("{error:#}"),
                        stderr: output.unwrap_or_default(),
                    },
                }
            };
            let err = PluginError::new(plugin.clone(), kind);
            tracing::error!(
                plugin.name = %plugin.name,
                plugin.version = %plugin.version,
                plugin.sha256 = %plugin.sha256,
                plugin.id = plugin.id,
                elapsed_us = elapsed.as_micros() as u64,
                instructions,
                error = %err,
                "plugin call failed"
            );
            err
        })
    }
}

/// A runtime and the budget of the plugin it is calling: what every call in `bindings` needs.
#[derive(Debug, Clone, Copy)]
pub struct Bounds<'a> {
    pub runtime: &'a Runtime,
    pub budget: &'a Budget,
}

impl Bounds<'_> {
    pub(super) fn call<P, T>(
        &self,
        plugin: &PluginRef,
        pre: &P,
        f: impl FnOnce(&mut Store<CallState>, &P) -> wasmtime::Result<T>,
    ) -> Result<T, PluginError> {
        self.runtime.call(plugin, self.budget, pre, f)
    }

    /// Fails a call whose answer is larger than the output budget.
    pub(super) fn check_output(&self, plugin: &PluginRef, bytes: usize) -> Result<(), PluginError> {
        if bytes > self.budget.output {
            let err = PluginError::new(
                plugin.clone(),
                PluginErrorKind::OutputTooLarge {
                    bytes,
                    limit: self.budget.output,
                },
            );
            tracing::error!(plugin.name = %plugin.name, plugin.version = %plugin.version, plugin.sha256 = %plugin.sha256, error = %err, "plugin call failed");
            return Err(err);
        }
        Ok(())
    }
}

/// Per-call store state.
#[allow(missing_debug_implementations)] // WasiCtx has no Debug; nothing here is worth printing.
pub struct CallState {
    limiter: Limiter,
    wasi: Option<(WasiCtx, ResourceTable)>,
    output: Option<Capture>,
    logs: Vec<LogLine>,
    dropped_lines: u32,
}

impl CallState {
    /// Keeps a line the plugin logged, within the per-call bounds.
    pub(crate) fn log(&mut self, level: bindings::Level, mut message: String) {
        if self.logs.len() >= LOG_LINES {
            self.dropped_lines += 1;
            return;
        }
        if message.len() > LOG_LINE_BYTES {
            let mut cut = LOG_LINE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let level = match level {
            bindings::Level::Debug => LogLevel::Debug,
            bindings::Level::Info => LogLevel::Info,
            bindings::Level::Warn => LogLevel::Warn,
            bindings::Level::Error => LogLevel::Error,
        };
        self.logs.push(LogLine { level, message });
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        if self.wasi.is_none() {
            let output = Capture::new(OUTPUT_CAPACITY);
            let ctx = WasiCtxBuilder::new()
                .stdout(output.clone())
                .stderr(output.clone())
                .wall_clock(EpochClock)
                .monotonic_clock(EpochClock)
                .secure_random(rand::rngs::StdRng::seed_from_u64(0))
                .insecure_random(rand::rngs::StdRng::seed_from_u64(0))
                .insecure_random_seed(0)
                .allow_ip_name_lookup(false)
                .allow_tcp(false)
                .allow_udp(false)
                .build();
            self.output = Some(output);
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

/// Caps linear memory, remembers the peak, and remembers a refusal (with the size asked for),
/// so the failure is reported as a memory overrun rather than as whatever trap the guest hits
/// next. The first "growth" is the memory a component declares: a cap below it is reported the
/// same way, when the component is first instantiated.
struct Limiter {
    max_memory: usize,
    peak: usize,
    denied: Option<usize>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            self.denied = Some(desired);
            wasmtime::bail!(
                "memory budget of {} reached ({} wanted)",
                crate::size(self.max_memory),
                crate::size(desired)
            );
        }
        self.peak = self.peak.max(desired);
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
