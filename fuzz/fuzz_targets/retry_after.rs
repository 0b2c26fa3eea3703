//! Fuzz target: `registry_client::fuzzing::retry_after`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        registry_client::fuzzing::retry_after(data);
    });
}
