//! Giving freed memory back to the operating system.
//!
//! glibc keeps freed memory of large buffers in its heaps (its mmap threshold grows after the
//! first large free), so a process that decoded and dropped a 512 MiB table, or read and
//! dropped thousands of large objects, keeps most of that as RSS. After large frees we ask it
//! to return what it can.
//!
//! Trimming is not free: pages given back fault in again when the heap is reused, which cost
//! a streaming read 30–45% of its throughput when every 32 MiB freed trimmed at once on the
//! freeing (JS) thread. So one background thread trims, at most once per [`MIN_INTERVAL`],
//! and a burst of frees that ends between two trims is trimmed after it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

/// Freed bytes since the last trim request; a trim is requested once this many have accumulated.
const TRIM_AFTER: usize = 32 * 1024 * 1024;

/// The shortest time between two trims.
pub const MIN_INTERVAL: Duration = Duration::from_millis(500);

static FREED: AtomicUsize = AtomicUsize::new(0);

/// Record that `bytes` of large buffers were freed; requests a trim once enough have been.
/// Cheap: an atomic add, and a wake-up of the trimming thread once per [`TRIM_AFTER`] bytes.
pub fn freed(bytes: usize) {
    let total = FREED.fetch_add(bytes, Ordering::Relaxed) + bytes;
    if total >= TRIM_AFTER && FREED.compare_exchange(total, 0, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        Trimmer::get().request();
    }
}

/// Values holding at least this many bytes are dropped on the freeing thread, not the caller's.
pub const DROP_ELSEWHERE_MIN: usize = 1024 * 1024;

/// Drops `value`, which holds `bytes` of buffers, on a background thread when it is large.
///
/// The caller is usually the JS thread running a garbage-collection finalizer, and unmapping a
/// large allocation takes milliseconds there (6–17 ms per 100 MiB measured with strace): event-
/// loop delay for every large read or Arrow table dropped. Small values are dropped at once.
pub fn drop_elsewhere<T: Send + 'static>(value: T, bytes: usize) {
    if bytes < DROP_ELSEWHERE_MIN {
        drop(value);
        return;
    }
    match freeing_thread() {
        // A failed send hands the value back inside the error; it is dropped here then.
        Some(tx) => drop(tx.send(Box::new(value))),
        None => drop(value),
    }
}

/// A byte buffer handed to the host: freed through [`drop_elsewhere`], counted by [`freed`].
pub fn release_bytes(data: Vec<u8>) {
    struct Counted(Vec<u8>);
    impl Drop for Counted {
        fn drop(&mut self) {
            let bytes = self.0.capacity();
            drop(std::mem::take(&mut self.0));
            freed(bytes);
        }
    }
    let bytes = data.capacity();
    drop_elsewhere(Counted(data), bytes);
}

type Garbage = Box<dyn Send>;

/// The thread that drops what [`drop_elsewhere`] sends it (None if it could not be started:
/// then values are dropped by their caller, which costs delay, never correctness).
fn freeing_thread() -> Option<&'static Sender<Garbage>> {
    static SENDER: OnceLock<Option<Sender<Garbage>>> = OnceLock::new();
    SENDER
        .get_or_init(|| {
            let (tx, rx) = channel::<Garbage>();
            std::thread::Builder::new()
                .name("remote-store-free".into())
                .spawn(move || rx.into_iter().for_each(drop))
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

/// The trimming thread and its one flag: is a trim wanted.
struct Trimmer {
    wanted: Mutex<bool>,
    wake: Condvar,
}

impl Trimmer {
    fn get() -> &'static Trimmer {
        static TRIMMER: OnceLock<&'static Trimmer> = OnceLock::new();
        TRIMMER.get_or_init(|| {
            let t: &'static Trimmer = Box::leak(Box::new(Trimmer { wanted: Mutex::new(false), wake: Condvar::new() }));
            // Without the thread, memory stays with the allocator (reused, only not returned):
            // a failure to spawn costs RSS, never correctness.
            let _ = std::thread::Builder::new().name("remote-store-trim".into()).spawn(move || t.run());
            t
        })
    }

    fn request(&self) {
        let mut wanted = self.wanted.lock().unwrap_or_else(|e| e.into_inner());
        *wanted = true;
        self.wake.notify_one();
    }

    fn run(&self) {
        loop {
            {
                let mut wanted = self.wanted.lock().unwrap_or_else(|e| e.into_inner());
                while !*wanted {
                    wanted = self.wake.wait(wanted).unwrap_or_else(|e| e.into_inner());
                }
                *wanted = false;
            }
            trim();
            // Requests made meanwhile are served after the pause, by one trim.
            std::thread::sleep(MIN_INTERVAL);
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // Safety: malloc_trim only inspects and releases the allocator's own free memory; it takes
    // each arena's lock, so it may run beside allocations on other threads.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    /// Tells on drop which thread dropped it.
    struct Tell(std::sync::mpsc::SyncSender<Option<String>>);
    impl Drop for Tell {
        fn drop(&mut self) {
            let _ = self.0.send(std::thread::current().name().map(str::to_string));
        }
    }

    #[test]
    fn large_values_are_dropped_on_the_freeing_thread_small_ones_at_once() {
        let (tx, rx) = sync_channel(2);
        drop_elsewhere(Tell(tx.clone()), DROP_ELSEWHERE_MIN);
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap().as_deref(), Some("remote-store-free"));
        let here = std::thread::current().name().map(str::to_string);
        drop_elsewhere(Tell(tx), DROP_ELSEWHERE_MIN - 1);
        assert_eq!(rx.try_recv().unwrap(), here, "a small value is dropped before drop_elsewhere returns");
    }
}
