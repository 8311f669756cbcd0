//! Stand-in for the `wincode` crate: what strategies use of it, offline and std-only.
//! `deserialize` reads a `#[derive(SchemaRead)]` struct from bytes: fields in order, little-endian, bools as one
//! byte (0 or 1), arrays element by element. Trailing bytes are ignored; too few bytes is an error.

pub use wincode_derive::{SchemaRead, SchemaWrite};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    UnexpectedEnd,
    InvalidBool(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {}

pub type ReadResult<T> = Result<T, ReadError>;
pub type WriteResult<T> = Result<T, WriteError>;
pub type Error = ReadError;

pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    #[inline]
    pub fn take<const N: usize>(&mut self) -> ReadResult<[u8; N]> {
        let end = self.pos.checked_add(N).ok_or(ReadError::UnexpectedEnd)?;
        let bytes = self.data.get(self.pos..end).ok_or(ReadError::UnexpectedEnd)?;
        self.pos = end;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }
}

pub trait Decode: Sized {
    fn decode(reader: &mut Reader<'_>) -> ReadResult<Self>;

    /// A placeholder value, used only while an array decode is failing.
    fn zero() -> Self;

    /// Decode `N` values in a row; bytes override this with one copy.
    fn decode_array<const N: usize>(reader: &mut Reader<'_>) -> ReadResult<[Self; N]> {
        let mut failed = None;
        let out = core::array::from_fn(|_| {
            if failed.is_some() {
                return Self::zero();
            }
            Self::decode(reader).unwrap_or_else(|e| {
                failed = Some(e);
                Self::zero()
            })
        });
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

pub trait Encode {
    fn encode(&self, out: &mut Vec<u8>);
}

macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            #[inline]
            fn decode(reader: &mut Reader<'_>) -> ReadResult<Self> {
                Ok(<$t>::from_le_bytes(reader.take::<{ core::mem::size_of::<$t>() }>()?))
            }

            fn zero() -> Self {
                0
            }
        }
        impl Encode for $t {
            #[inline]
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
int_codec!(u16, u32, u64, u128, i8, i16, i32, i64, i128);

impl Decode for u8 {
    #[inline]
    fn decode(reader: &mut Reader<'_>) -> ReadResult<Self> {
        Ok(reader.take::<1>()?[0])
    }

    fn zero() -> Self {
        0
    }

    #[inline]
    fn decode_array<const N: usize>(reader: &mut Reader<'_>) -> ReadResult<[u8; N]> {
        reader.take::<N>()
    }
}

impl Encode for u8 {
    #[inline]
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
}

impl Decode for bool {
    #[inline]
    fn decode(reader: &mut Reader<'_>) -> ReadResult<Self> {
        match reader.take::<1>()?[0] {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(ReadError::InvalidBool(b)),
        }
    }

    fn zero() -> Self {
        false
    }
}

impl Encode for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
}

impl<T: Decode, const N: usize> Decode for [T; N] {
    #[inline]
    fn decode(reader: &mut Reader<'_>) -> ReadResult<Self> {
        T::decode_array::<N>(reader)
    }

    fn zero() -> Self {
        core::array::from_fn(|_| T::zero())
    }
}

impl<T: Encode, const N: usize> Encode for [T; N] {
    fn encode(&self, out: &mut Vec<u8>) {
        for item in self.iter() {
            item.encode(out);
        }
    }
}

pub trait SchemaRead: Sized {
    fn read_from(reader: &mut Reader<'_>) -> ReadResult<Self>;
}

pub trait SchemaWrite {
    fn write_to(&self, out: &mut Vec<u8>);
}

/// Decode a `T` from the start of `data`.
#[inline]
pub fn deserialize<T: SchemaRead>(data: &[u8]) -> ReadResult<T> {
    T::read_from(&mut Reader::new(data))
}

/// Encode `value` into a new byte vector.
pub fn serialize<T: SchemaWrite + ?Sized>(value: &T) -> WriteResult<Vec<u8>> {
    let mut out = Vec::new();
    value.write_to(&mut out);
    Ok(out)
}
