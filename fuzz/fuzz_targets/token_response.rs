//! Fuzz target: `registry_client::fuzzing::token_response`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        registry_client::fuzzing::token_response(data);
    });
}
