//! Certificates for TLS tests, made on the spot with the `openssl` command: a CA and leaf
//! certificates it signs, each with a CN of the test's choosing (bygd reads identities from
//! the CN) and a subject alternative name for 127.0.0.1 and localhost, so the same leaf
//! serves as a broker's server certificate or a client certificate.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Days a test certificate is valid: longer than any test run.
const VALID_DAYS: &str = "2";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command runs (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed P-256 CA in `dir`, as `{name}.pem` and `{name}.key`.
pub struct TestCa {
    dir: PathBuf,
    name: String,
}

/// A leaf certificate and its key (PEM files).
#[derive(Debug, Clone)]
pub struct Leaf {
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

impl TestCa {
    /// Makes a CA called `name` (its CN) in `dir`.
    #[must_use]
    pub fn new(dir: &Path, name: &str) -> Self {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
                "-days",
                VALID_DAYS,
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        Self {
            dir: dir.to_owned(),
            name: name.to_owned(),
        }
    }

    /// The CA's certificate.
    #[must_use]
    pub fn cert(&self) -> PathBuf {
        self.dir.join(format!("{}.pem", self.name))
    }

    /// A leaf with `CN = cn` signed by this CA, as `{file}.pem` and `{file}.key` (`file`
    /// tells apart two leaves with the same CN from different CAs).
    pub fn issue(&self, file: &str, cn: &str) -> Leaf {
        openssl(
            &self.dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{file}.key"),
                "-out",
                &format!("{file}.csr"),
                "-subj",
                &format!("/CN={cn}"),
            ],
        );
        std::fs::write(
            self.dir.join(format!("{file}.ext")),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .expect("write the extensions file");
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{file}.csr"),
                "-CA",
                &format!("{}.pem", self.name),
                "-CAkey",
                &format!("{}.key", self.name),
                "-CAcreateserial",
                "-out",
                &format!("{file}.pem"),
                "-days",
                VALID_DAYS,
                "-extfile",
                &format!("{file}.ext"),
            ],
        );
        Leaf {
            cert: self.dir.join(format!("{file}.pem")),
            key: self.dir.join(format!("{file}.key")),
        }
    }
}
