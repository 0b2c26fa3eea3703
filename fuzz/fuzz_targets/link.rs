//! Fuzz target: `registry_client::fuzzing::link`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        registry_client::fuzzing::link(data);
    });
}
