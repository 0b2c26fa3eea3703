//! Fuzz target: `registry_client::fuzzing::platform`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        registry_client::fuzzing::platform(data);
    });
}
