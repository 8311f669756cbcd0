const NAME: &str = "Broken";

pub fn compute_swap(data: &[u8]) -> u64 {
    let x: u64 = "not a number";
    x + data.len()
}
