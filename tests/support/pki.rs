//! Test PKI made with the `openssl` CLI, once per test process, kept in memory.
//! Each registry writes the files it needs into its own temp dir.

use std::fs;
use std::sync::OnceLock;

use ring::signature::RsaKeyPair;

use super::tools::openssl;

pub struct Pki {
    /// RSA 2048 key signing the registry tokens (RS256).
    pub token_key: RsaKeyPair,
    /// Self-signed certificate of `token_key` (DER, goes into the JWT `x5c`).
    pub token_cert_der: Vec<u8>,
    /// The same certificate as PEM (the registry's `auth.token.rootcertbundle`).
    pub token_cert_pem: Vec<u8>,
    /// CA certificate trusted by TLS clients (PEM).
    pub ca_pem: Vec<u8>,
    /// Server certificate for `127.0.0.1` and `localhost`, signed by the CA (PEM).
    pub server_cert_pem: Vec<u8>,
    /// Key of the server certificate (PEM).
    pub server_key_pem: Vec<u8>,
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(make_pki)
}

fn make_pki() -> Pki {
    let dir = tempfile::Builder::new()
        .prefix("registry-fixture-pki-")
        .tempdir()
        .expect("fixture: temp dir for PKI");
    let d = dir.path();

    // Token signing key + self-signed cert, put in the JWT `x5c` and trusted
    // as the registry's rootcertbundle. keyUsage=digitalSignature is the right
    // usage for a signing cert (distribution 2.8 was verified NOT to check it:
    // a keyCertSign-only cert is accepted too).
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "token.key",
            "-out",
            "token.pem",
            "-days",
            "3650",
            "-subj",
            "/CN=registry-client-test-token-signer",
            "-addext",
            "keyUsage=critical,digitalSignature",
        ],
    );
    openssl(
        d,
        &[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            "token.key",
            "-outform",
            "DER",
            "-out",
            "token.pk8",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-in",
            "token.pem",
            "-outform",
            "DER",
            "-out",
            "token.der",
        ],
    );

    // TLS: a CA and a server certificate (EC P-256: fast to make).
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "3650",
            "-subj",
            "/CN=registry-client-test-ca",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    fs::write(
        d.join("server.ext"),
        "basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\n\
         subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("fixture: write server.ext");
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "3650",
            "-extfile",
            "server.ext",
        ],
    );

    let read =
        |name: &str| fs::read(d.join(name)).unwrap_or_else(|e| panic!("fixture: read {name}: {e}"));
    let token_key = RsaKeyPair::from_pkcs8(&read("token.pk8"))
        .unwrap_or_else(|e| panic!("fixture: token key rejected by ring: {e}"));
    Pki {
        token_key,
        token_cert_der: read("token.der"),
        token_cert_pem: read("token.pem"),
        ca_pem: read("ca.pem"),
        server_cert_pem: read("server.pem"),
        server_key_pem: read("server.key"),
    }
}
