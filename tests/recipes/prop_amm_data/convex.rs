// Monotone but convex: output grows with the square of the input (fails concavity).
const NAME: &str = "Convex";
const MODEL_USED: &str = "None";

pub fn get_model_used() -> &'static str {
    MODEL_USED
}

pub fn compute_swap(data: &[u8]) -> u64 {
    if data.len() < 25 {
        return 0;
    }
    let input = u64::from_le_bytes(data[1..9].try_into().unwrap()) as u128;
    (input * input / 100_000_000_000) as u64
}
