//! Fuzz target: `registry_client::fuzzing::challenge`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        registry_client::fuzzing::challenge(data);
    });
}
