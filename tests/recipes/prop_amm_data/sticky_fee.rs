// Constant product whose fee depends on storage that after_swap writes: 30 bps until the first executed trade,
// then 100 bps. Storage bytes 8..16 hold the step of the last trade (read by the tests).
use prop_amm_submission_sdk::set_storage;

const NAME: &str = "Sticky fee";
const MODEL_USED: &str = "None";

#[derive(wincode::SchemaRead)]
struct ComputeSwapInstruction {
    side: u8,
    input_amount: u64,
    reserve_x: u64,
    reserve_y: u64,
    storage: [u8; 1024],
}

#[derive(wincode::SchemaRead)]
struct AfterSwapInstruction {
    tag: u8,
    side: u8,
    input_amount: u64,
    output_amount: u64,
    reserve_x: u64,
    reserve_y: u64,
    step: u64,
    storage: [u8; 1024],
}

pub fn get_model_used() -> &'static str {
    MODEL_USED
}

pub fn compute_swap(data: &[u8]) -> u64 {
    let d: ComputeSwapInstruction = match wincode::deserialize(data) {
        Ok(d) => d,
        Err(_) => return 0,
    };
    let (rx, ry, input) = (d.reserve_x as u128, d.reserve_y as u128, d.input_amount as u128);
    if rx == 0 || ry == 0 {
        return 0;
    }
    let fee_bps: u128 = if d.storage[0] == 0 { 30 } else { 100 };
    let net = input * (10_000 - fee_bps) / 10_000;
    let k = rx * ry;
    match d.side {
        0 => rx.saturating_sub((k + ry + net - 1) / (ry + net)) as u64,
        1 => ry.saturating_sub((k + rx + net - 1) / (rx + net)) as u64,
        _ => 0,
    }
}

pub fn after_swap(data: &[u8], storage: &mut [u8]) {
    let d: AfterSwapInstruction = match wincode::deserialize(data) {
        Ok(d) => d,
        Err(_) => return,
    };
    if d.tag != 2 || d.input_amount == 0 || d.output_amount == 0 || d.reserve_x == 0 || d.reserve_y == 0 {
        return;
    }
    let _ = d.storage;
    storage[0] = d.side + 1;
    storage[8..16].copy_from_slice(&d.step.to_le_bytes());
    let _ = set_storage(storage);
}
