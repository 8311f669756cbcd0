//! Stand-in for `prop-amm-submission-sdk`: storage size, return-data helpers, and the FFI wrappers the appended
//! native exports call. A panic inside the strategy is caught: compute_swap then returns 0 and after_swap leaves
//! storage unchanged, as a failed BPF call would, instead of aborting the host process.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

pub const STORAGE_SIZE: usize = 1024;

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum StorageError {
    TooLarge,
}

static PANICS: AtomicU64 = AtomicU64::new(0);
static QUIET: Once = Once::new();

#[inline]
pub fn set_return_data_u64(value: u64) {
    pinocchio::program::set_return_data(&value.to_le_bytes());
}

#[inline]
pub fn set_return_data_bytes(data: &[u8]) {
    pinocchio::program::set_return_data(data);
}

/// `sol_set_storage`: only the size is checked natively, where `after_swap` writes its storage slice directly.
#[inline]
pub fn set_storage(storage: &[u8]) -> Result<(), StorageError> {
    if storage.len() > STORAGE_SIZE {
        return Err(StorageError::TooLarge);
    }
    Ok(())
}

/// How many strategy calls have panicked in this library so far.
pub fn panic_count() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

fn quiet_panics() {
    // The strategy's panics become outputs of 0; printing each one would flood the worker's stderr.
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

pub fn ffi_compute_swap(data: *const u8, len: usize, compute_swap: fn(&[u8]) -> u64) -> u64 {
    if data.is_null() {
        return 0;
    }
    quiet_panics();
    // SAFETY: the host passes a buffer of `len` readable bytes that outlives the call.
    let input = unsafe { std::slice::from_raw_parts(data, len) };
    catch_unwind(|| compute_swap(input)).unwrap_or_else(|_| {
        PANICS.fetch_add(1, Ordering::Relaxed);
        0
    })
}

pub fn ffi_after_swap<F: FnOnce(&[u8], &mut [u8])>(
    data: *const u8,
    data_len: usize,
    storage: *mut u8,
    storage_len: usize,
    after_swap: F,
) {
    if data.is_null() || storage.is_null() {
        return;
    }
    quiet_panics();
    // SAFETY: the host passes `data_len` readable bytes and `storage_len` writable bytes, not overlapping.
    let (input, storage) = unsafe {
        (std::slice::from_raw_parts(data, data_len), std::slice::from_raw_parts_mut(storage, storage_len))
    };
    let mut scratch = storage.to_vec();
    match catch_unwind(AssertUnwindSafe(|| after_swap(input, &mut scratch))) {
        Ok(()) => storage.copy_from_slice(&scratch),
        Err(_) => {
            PANICS.fetch_add(1, Ordering::Relaxed);
        }
    }
}
