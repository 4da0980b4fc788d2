//! Settling the promises of many native calls with one wake-up of the JS thread.
//!
//! napi-rs's `spawn_future_with_callback` creates a threadsafe function (a libuv handle, a
//! reference, a queue) for every call and wakes the event loop once per completed call. With
//! 1,024 concurrent small writes that is 1,024 handles set up on the JS thread and 1,024
//! separate wake-ups. Here each JS thread (the main thread, or a worker's) has one threadsafe
//! function for all calls: a call makes a plain promise (`napi_create_promise`), its future runs
//! on the same tokio runtime, and on completion it queues the settling and wakes the JS thread
//! only when the queue was empty; the JS thread then settles every queued promise in one go.
//! The threadsafe function keeps the process alive only while calls are in flight.

use std::cell::Cell;
use std::ffi::c_void;
use std::future::Future;
use std::ptr;
use std::sync::Mutex;

use napi::bindgen_prelude::*;
use napi::{check_status, sys};
use remote_store_core as core;

/// Builds the settling value on the JS thread: the resolution, or the rejection (`Err`).
type Settle = Box<dyn FnOnce(sys::napi_env) -> std::result::Result<sys::napi_value, Error> + Send>;

struct Done {
    deferred: Deferred,
    settle: Settle,
}

/// A promise's deferred, sent to a tokio thread and back.
#[derive(Clone, Copy)]
struct Deferred(sys::napi_deferred);

// Safety: the deferred is only used on the JS thread that created it (in `drain`).
unsafe impl Send for Deferred {}

/// One JS thread's queue of completed calls and the threadsafe function that drains it.
struct Hub {
    tsfn: sys::napi_threadsafe_function,
    /// Completed calls; `None` once the environment is gone (the threadsafe function with it).
    queue: Mutex<Option<Vec<Done>>>,
    /// Calls started and not yet settled (JS thread only).
    in_flight: Cell<usize>,
}

// Safety: `tsfn` is thread-safe by napi's contract; `in_flight` is only touched on the JS
// thread that owns the hub (when calls start, and in `drain`).
unsafe impl Send for Hub {}
unsafe impl Sync for Hub {}

thread_local! {
    /// This JS thread's hub (leaked: one small allocation per JS thread for the process's life).
    static HUB: Cell<Option<&'static Hub>> = const { Cell::new(None) };
}

fn hub(env: &Env) -> Result<&'static Hub> {
    if let Some(h) = HUB.with(|h| h.get()) {
        return Ok(h);
    }
    let hub: &'static mut Hub = Box::leak(Box::new(Hub {
        tsfn: ptr::null_mut(),
        queue: Mutex::new(Some(Vec::new())),
        in_flight: Cell::new(0),
    }));
    let raw = env.raw();
    let mut name = ptr::null_mut();
    let label = "remote-store settle";
    check_status!(unsafe {
        sys::napi_create_string_utf8(raw, label.as_ptr().cast(), label.len() as isize, &mut name)
    })?;
    let context = hub as *mut Hub as *mut c_void;
    let mut tsfn = ptr::null_mut();
    check_status!(unsafe {
        sys::napi_create_threadsafe_function(
            raw,
            ptr::null_mut(),
            ptr::null_mut(),
            name,
            0,
            1,
            ptr::null_mut(),
            None,
            context,
            Some(drain),
            &mut tsfn,
        )
    })?;
    // Idle, it does not keep the process alive (see `spawn`).
    check_status!(unsafe { sys::napi_unref_threadsafe_function(raw, tsfn) })?;
    check_status!(unsafe { sys::napi_add_env_cleanup_hook(raw, Some(teardown), context) })?;
    hub.tsfn = tsfn;
    let hub: &'static Hub = hub;
    HUB.with(|h| h.set(Some(hub)));
    Ok(hub)
}

/// The environment goes away (process exit, a worker ends): later completions are dropped.
unsafe extern "C" fn teardown(context: *mut c_void) {
    let hub = unsafe { &*(context as *const Hub) };
    // Under the lock: no completion is calling the threadsafe function while it is released.
    let mut queue = hub.queue.lock().unwrap_or_else(|e| e.into_inner());
    *queue = None;
    unsafe { sys::napi_release_threadsafe_function(hub.tsfn, sys::ThreadsafeFunctionReleaseMode::abort) };
    drop(queue);
    HUB.with(|h| h.set(None));
}

/// On the JS thread: settle every queued call.
unsafe extern "C" fn drain(env: sys::napi_env, _cb: sys::napi_value, context: *mut c_void, _data: *mut c_void) {
    if env.is_null() {
        return; // the threadsafe function is being torn down
    }
    let hub = unsafe { &*(context as *const Hub) };
    let batch = hub.queue.lock().unwrap_or_else(|e| e.into_inner()).as_mut().map(std::mem::take).unwrap_or_default();
    let n = batch.len();
    for done in batch {
        let mut scope = ptr::null_mut();
        unsafe { sys::napi_open_handle_scope(env, &mut scope) };
        match (done.settle)(env) {
            Ok(value) => unsafe { sys::napi_resolve_deferred(env, done.deferred.0, value) },
            Err(e) => unsafe { sys::napi_reject_deferred(env, done.deferred.0, JsError::from(e).into_value(env)) },
        };
        unsafe { sys::napi_close_handle_scope(env, scope) };
    }
    let left = hub.in_flight.get().saturating_sub(n);
    hub.in_flight.set(left);
    if left == 0 && n > 0 {
        unsafe { sys::napi_unref_threadsafe_function(env, hub.tsfn) };
    }
}

/// Run a core future on the addon's tokio runtime and settle the returned promise on the JS
/// thread: resolved with `convert(value)`, or rejected with the coded JS error.
pub(crate) fn spawn<'env, T, V, F, C>(env: &'env Env, fut: F, convert: C) -> Result<PromiseRaw<'env, V>>
where
    T: 'static + Send,
    V: ToNapiValue,
    F: 'static + Send + Future<Output = core::Result<T>>,
    C: 'static + Send + FnOnce(&'env Env, T) -> Result<V>,
{
    let hub = hub(env)?;
    let raw = env.raw();
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    check_status!(unsafe { sys::napi_create_promise(raw, &mut deferred, &mut promise) })?;
    if hub.in_flight.get() == 0 {
        // Calls in flight keep the process alive, as napi-rs's own promises do.
        check_status!(unsafe { sys::napi_ref_threadsafe_function(raw, hub.tsfn) })?;
    }
    hub.in_flight.set(hub.in_flight.get() + 1);
    let deferred = Deferred(deferred);
    napi::bindgen_prelude::spawn(async move {
        let result = fut.await;
        let settle: Settle = Box::new(move |raw| {
            let env = Env::from_raw(raw);
            // Safety: `env` lives for this settling, on the JS thread; the lifetime is only
            // what the conversion's signature names (as napi-rs's own spawn does).
            let env: &'env Env = unsafe { std::mem::transmute::<&Env, &'env Env>(&env) };
            match result {
                Ok(v) => {
                    let v = convert(env, v)?;
                    unsafe { V::to_napi_value(raw, v) }
                }
                Err(e) => Err(crate::js_error(env, e)),
            }
        });
        let done = Done { deferred, settle };
        let mut queue = hub.queue.lock().unwrap_or_else(|e| e.into_inner());
        // Environment gone: nobody waits for the promise.
        let Some(pending) = queue.as_mut() else { return };
        pending.push(done);
        if pending.len() == 1 {
            // Non-blocking, under the lock (see `teardown`).
            unsafe {
                sys::napi_call_threadsafe_function(
                    hub.tsfn,
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                )
            };
        }
    });
    Ok(PromiseRaw::new(raw, promise))
}
