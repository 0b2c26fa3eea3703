//! The Basic scheme: `Authorization: Basic base64(user:password)`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The header value for these credentials.
pub(crate) fn header_value(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{username}:{password}"))
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc7617_example() {
        // RFC 7617 section 2.
        assert_eq!(
            super::header_value("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
