// Exercises the wincode stand-in: attributes, pub/pub(crate) fields, bools, nested arrays, SchemaWrite.
const NAME: &str = "Wincode shapes";

#[derive(wincode::SchemaRead)]
struct Instruction {
    #[allow(dead_code)]
    pub side: u8,
    pub(crate) input: u64,
    reserve_x: u64,
    reserve_y: u64,
    flag: bool,
    pairs: [[u8; 2]; 511],
    last: i8,
}

#[derive(wincode::SchemaWrite)]
struct Written {
    a: u16,
    b: bool,
    c: [u32; 3],
}

pub fn compute_swap(data: &[u8]) -> u64 {
    let ix: Instruction = match wincode::deserialize(data) {
        Ok(ix) => ix,
        Err(_) => return 1,
    };
    if ix.flag || ix.pairs[510] != [0, 0] || ix.last != 0 || ix.reserve_x == 0 || ix.reserve_y == 0 {
        return 2;
    }
    let written = wincode::serialize(&Written { a: 7, b: true, c: [1, 2, 3] }).unwrap();
    let short: Result<Instruction, _> = wincode::deserialize(&data[..100]);
    ix.input * 1000 + written.len() as u64 * 10 + short.is_err() as u64
}
