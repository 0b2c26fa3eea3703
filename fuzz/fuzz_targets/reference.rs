//! Fuzz target: `registry_client::fuzzing::reference`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        registry_client::fuzzing::reference(data);
    });
}
