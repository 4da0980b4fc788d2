//! Giving freed memory back to the operating system, and reusing large buffers first.
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
//!
//! A buffer of at least [`REUSE_MIN`] bytes that the host frees is kept for [`REUSE_FOR`]
//! instead, for the next read of about its size ([`buffer`]), and freed after that. Such a
//! buffer is its own mapping: freed, it is unmapped, and the next one faults in every page
//! afresh (262,144 page faults, ~1.1 s of CPU, for each 1 GiB read). Reads of the same large
//! object one after another are the common case (a job over a list of objects); a process that
//! stops reading gets the memory back [`REUSE_FOR`] later.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

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

/// A byte buffer handed to the host: kept for reuse when it is large ([`buffer`]), else freed
/// through [`drop_elsewhere`] and counted by [`freed`].
pub fn release_bytes(mut data: Vec<u8>) {
    if data.capacity() >= REUSE_MIN {
        if let Some(reuse) = Reuse::get() {
            match reuse.keep(data, Instant::now()) {
                None => return,
                Some(refused) => data = refused,
            }
        }
    }
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

/// Freed buffers at least this large are kept for reuse (see the module's documentation).
pub const REUSE_MIN: usize = 64 * 1024 * 1024;
/// How long a kept buffer waits for a read to reuse it before it is freed. The collector frees a
/// result while the next read runs, rarely before it starts, so a kept buffer serves the read
/// after that one and must outlast a whole read: about 1 s for 1 GiB here.
pub const REUSE_FOR: Duration = Duration::from_secs(2);
/// Most bytes kept at once; a buffer that would exceed it is freed at once.
const REUSE_MAX_BYTES: usize = 2 * 1024 * 1024 * 1024;

/// An empty buffer with room for `n` bytes: a kept one (see the module's documentation) when
/// one fits, else a new allocation; and whether it is a kept one, whose pages are mapped
/// already ([`populate`] has nothing to do there). Its spare capacity holds stale bytes of an
/// earlier read: callers write all `n` bytes before they set its length, as they do with new
/// memory.
pub fn buffer(n: usize) -> (Vec<u8>, bool) {
    if n >= REUSE_MIN {
        if let Some(kept) = Reuse::get().and_then(|r| r.take(n)) {
            return (kept, true);
        }
    }
    (Vec::with_capacity(n), false)
}

/// Maps the pages under `dst` in one call (`MADV_POPULATE_WRITE`, Linux 5.14+) before a body
/// is copied into it, instead of taking one page fault per 4 KiB as the copy first touches them:
/// fresh memory then costs ~40 % less CPU (64 MiB faulted and filled: 21–26 ms against 35 ms
/// here). Pages already mapped are walked all the same (~5 ms per 64 MiB), so a buffer known to
/// be mapped is not populated. Best effort: on an older kernel or another system it does
/// nothing, and the copy faults the pages in as before.
/// Returns whether the pages were mapped.
pub fn populate(dst: &mut [std::mem::MaybeUninit<u8>]) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        const PAGE: usize = 4096;
        let start = dst.as_mut_ptr() as usize;
        let first = start.next_multiple_of(PAGE);
        let last = (start + dst.len()) / PAGE * PAGE;
        // SAFETY: the range lies inside `dst`, memory this buffer owns and may write;
        // populating maps its pages and changes none of its bytes.
        last > first
            && unsafe { libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_POPULATE_WRITE) } == 0
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = dst;
        false
    }
}

/// Large freed buffers waiting for reuse, and the thread that frees them when their time is up.
struct Reuse {
    kept: Mutex<Vec<Kept>>,
    wake: Condvar,
    max_bytes: usize,
}

struct Kept {
    buf: Vec<u8>,
    until: Instant,
}

impl Reuse {
    fn new(max_bytes: usize) -> Reuse {
        Reuse { kept: Mutex::new(Vec::new()), wake: Condvar::new(), max_bytes }
    }

    /// None when the thread that frees kept buffers could not be started: then nothing is kept.
    fn get() -> Option<&'static Reuse> {
        static REUSE: OnceLock<Option<&'static Reuse>> = OnceLock::new();
        *REUSE.get_or_init(|| {
            let r: &'static Reuse = Box::leak(Box::new(Reuse::new(REUSE_MAX_BYTES)));
            std::thread::Builder::new().name("remote-store-reuse".into()).spawn(move || r.run()).ok().map(|_| r)
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Kept>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `buf` until [`REUSE_FOR`] after `now`; hands it back when the pool is full.
    fn keep(&self, mut buf: Vec<u8>, now: Instant) -> Option<Vec<u8>> {
        let mut kept = self.lock();
        let held: usize = kept.iter().map(|k| k.buf.capacity()).sum();
        if held + buf.capacity() > self.max_bytes {
            return Some(buf);
        }
        buf.clear();
        kept.push(Kept { buf, until: now + REUSE_FOR });
        self.wake.notify_one();
        None
    }

    /// The smallest kept buffer with room for `n` bytes and at most a quarter more: a larger one
    /// would hold its surplus for as long as the host keeps the result.
    fn take(&self, n: usize) -> Option<Vec<u8>> {
        let mut kept = self.lock();
        let fits = |c: usize| c >= n && c - n <= n / 4;
        let i = (0..kept.len()).filter(|&i| fits(kept[i].buf.capacity())).min_by_key(|&i| kept[i].buf.capacity())?;
        Some(kept.swap_remove(i).buf)
    }

    /// Removes the buffers whose time is up at `now`, for the caller to free outside the lock.
    fn expire(kept: &mut Vec<Kept>, now: Instant) -> Vec<Kept> {
        let (gone, stay) = std::mem::take(kept).into_iter().partition(|k| k.until <= now);
        *kept = stay;
        gone
    }

    fn run(&self) {
        let mut kept = self.lock();
        loop {
            let gone = Reuse::expire(&mut kept, Instant::now());
            if !gone.is_empty() {
                // Unmapping takes milliseconds per 100 MiB: not under the lock.
                drop(kept);
                drop(gone);
                kept = self.lock();
                continue;
            }
            kept = match kept.iter().map(|k| k.until).min() {
                None => self.wake.wait(kept).unwrap_or_else(|e| e.into_inner()),
                Some(next) => {
                    let wait = next.saturating_duration_since(Instant::now());
                    self.wake.wait_timeout(kept, wait).unwrap_or_else(|e| e.into_inner()).0
                }
            };
        }
    }
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

    #[test]
    fn a_kept_buffer_serves_the_next_read_of_about_its_size_once() {
        let reuse = Reuse::new(REUSE_MAX_BYTES);
        let mut buf = Vec::with_capacity(REUSE_MIN);
        buf.push(7u8);
        let ptr = buf.as_ptr();
        assert!(reuse.keep(buf, Instant::now()).is_none());
        assert!(reuse.take(REUSE_MIN / 2).is_none(), "a buffer twice the size asked for is not handed out");
        assert!(reuse.take(REUSE_MIN + 1).is_none(), "nor one too small");
        let again = reuse.take(REUSE_MIN - REUSE_MIN / 8).expect("a buffer of about the size is reused");
        assert_eq!((again.as_ptr(), again.len()), (ptr, 0), "the same memory, empty");
        assert!(reuse.take(REUSE_MIN).is_none(), "and only once");
    }

    #[test]
    fn kept_buffers_are_freed_when_their_time_is_up_and_never_beyond_the_cap() {
        let reuse = Reuse::new(REUSE_MIN + REUSE_MIN / 2);
        let t0 = Instant::now();
        assert!(reuse.keep(Vec::with_capacity(REUSE_MIN), t0).is_none());
        let refused = reuse.keep(Vec::with_capacity(REUSE_MIN), t0).expect("over the cap: handed back");
        assert_eq!(refused.capacity(), REUSE_MIN);
        let mut kept = reuse.lock();
        assert!(Reuse::expire(&mut kept, t0 + REUSE_FOR / 2).is_empty(), "kept while its time runs");
        assert_eq!(Reuse::expire(&mut kept, t0 + REUSE_FOR).len(), 1, "freed when it is up");
        assert!(kept.is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn populate_maps_fresh_pages_and_keeps_written_bytes() {
        fn thread_faults() -> i64 {
            // SAFETY: getrusage fills the struct it is given.
            let mut u: libc::rusage = unsafe { std::mem::zeroed() };
            unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
            u.ru_minflt
        }
        const HALF: usize = 8 << 20;
        let mut v: Vec<u8> = (0..HALF).map(|i| i as u8).collect();
        v.reserve_exact(HALF);
        let cap = v.capacity();
        // SAFETY: the whole allocation, as the uninitialised memory a body is read into.
        let all = unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<std::mem::MaybeUninit<u8>>(), cap) };
        assert!(populate(all), "MADV_POPULATE_WRITE is in every kernel since 5.14");
        assert!(v.iter().enumerate().all(|(i, b)| *b == i as u8), "written bytes unchanged");
        let before = thread_faults();
        v.resize(cap, 1);
        let faults = thread_faults() - before;
        assert!(faults < (HALF / 4096 / 10) as i64, "{faults} page faults writing the populated half");
    }
}
