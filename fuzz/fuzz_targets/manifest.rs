//! Fuzz target: `registry_client::fuzzing::manifest`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        registry_client::fuzzing::manifest(data);
    });
}
