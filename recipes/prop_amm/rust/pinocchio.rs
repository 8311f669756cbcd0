//! Stand-in for `pinocchio` 0.7: the types, macros and return-data call that strategies name.
//! Natively the entrypoint is compiled out (`feature = "no-entrypoint"`); `entrypoint!` only type-checks the
//! processor's signature, and return data goes to a thread-local buffer.

pub mod pubkey {
    pub type Pubkey = [u8; 32];
}

pub mod account_info {
    /// Strategies receive no accounts; the type exists so signatures compile.
    pub struct AccountInfo {
        _private: (),
    }
}

pub mod program_error {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum ProgramError {
        Custom(u32),
        InvalidArgument,
        InvalidInstructionData,
        InvalidAccountData,
        AccountDataTooSmall,
        NotEnoughAccountKeys,
    }
}

pub mod program {
    use std::cell::RefCell;

    thread_local! {
        static RETURN_DATA: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    /// `sol_set_return_data`: at most 1024 bytes are kept, as on Solana.
    pub fn set_return_data(data: &[u8]) {
        RETURN_DATA.with(|r| {
            let mut r = r.borrow_mut();
            r.clear();
            r.extend_from_slice(&data[..data.len().min(1024)]);
        });
    }

    pub fn get_return_data() -> Vec<u8> {
        RETURN_DATA.with(|r| r.borrow().clone())
    }
}

pub use account_info::AccountInfo;
pub use program_error::ProgramError;
pub use pubkey::Pubkey;

pub type ProgramResult = Result<(), ProgramError>;

pub const SUCCESS: u64 = 0;

#[macro_export]
macro_rules! entrypoint {
    ($process_instruction:ident) => {
        const _: fn(&$crate::pubkey::Pubkey, &[$crate::account_info::AccountInfo], &[u8]) -> $crate::ProgramResult =
            $process_instruction;
    };
}

#[macro_export]
macro_rules! msg {
    ($($arg:tt)*) => {{
        let _ = ::core::format_args!($($arg)*);
    }};
}
