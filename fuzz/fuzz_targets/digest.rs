//! Fuzz target: `registry_client::fuzzing::digest`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        registry_client::fuzzing::digest(data);
    });
}
