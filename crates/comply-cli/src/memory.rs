//! Memory the server no longer uses goes back to the operating system (decision 0034).
//!
//! mimalloc returns freed memory to the system only when a thread calls into it: the
//! freed pages are scheduled to be released `purge_delay` later, and the release runs
//! on a later allocation. A server that goes idle after a burst allocates nothing more,
//! so what a burst freed stayed resident (decision 0034 has the measurements). A thread of our own asks mimalloc
//! now and then to release what is due.

use std::time::Duration;

/// How often freed memory is released: after a burst, RSS falls within about twice this.
const EVERY: Duration = Duration::from_secs(1);

/// Starts the releasing thread, for the lifetime of the process. Also used by
/// `comply-loadgen` (through `#[path]`), so that its embedded server measures this.
pub fn return_freed_memory() -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("memory-release".into())
        .spawn(|| {
            // A thread that has not allocated has no mimalloc heap yet, and
            // `mi_collect` on it returns before reaching the arenas.
            // SAFETY: no preconditions; idempotent.
            unsafe { libmimalloc_sys::mi_thread_init() };
            loop {
                std::thread::sleep(EVERY);
                // SAFETY: `mi_collect` has no preconditions; with `false` it releases only
                // what mimalloc has already scheduled, program-wide.
                unsafe { libmimalloc_sys::mi_collect(false) };
            }
        })
        .map(drop)
}
