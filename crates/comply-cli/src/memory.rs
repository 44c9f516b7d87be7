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

/// SQLite allocates through the C library, not mimalloc. glibc gives each thread that
/// allocates concurrently an arena of its own (up to 8 per core), and sqlx runs every
/// pooled SQLite connection on its own thread: memory freed in one arena is not reused
/// by the others, and the floor left after load rose with the number of arenas
/// (a 60 s soak ended at 378 MiB idle with glibc's default, 217 MiB with two
/// arenas). Call before any thread is started.
pub fn limit_c_allocator_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_ARENA_MAX: std::ffi::c_int = -8;
        unsafe extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: glibc's documented tunable, set before other threads exist.
        unsafe { mallopt(M_ARENA_MAX, 2) };
    }
}

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
