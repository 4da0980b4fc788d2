//! Giving freed memory back to the operating system.
//!
//! glibc keeps freed memory of large buffers in its heaps (its mmap threshold grows after the
//! first large free), so a process that decoded and dropped a 512 MiB table keeps most of
//! that as RSS. After large frees we ask it to return what it can.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Freed bytes since the last trim; a trim happens once this many have accumulated.
const TRIM_AFTER: usize = 32 * 1024 * 1024;

static FREED: AtomicUsize = AtomicUsize::new(0);

/// Record that `bytes` of large buffers were freed; trims the heap once enough have been.
pub fn freed(bytes: usize) {
    let total = FREED.fetch_add(bytes, Ordering::Relaxed) + bytes;
    if total >= TRIM_AFTER && FREED.compare_exchange(total, 0, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        trim();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // Safety: malloc_trim only inspects and releases the allocator's own free memory.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
