//! Keys: generation, PEM forms, fingerprints, and refusing what is not supported.

use comply_attest::{AttestError, KeyAlgorithm, PublicKey, SigningKey};

use crate::support::b64;

#[test]
fn generated_keys_roundtrip_through_pem() {
    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
        let key = SigningKey::generate(algorithm).unwrap();
        assert_eq!(key.algorithm(), algorithm);
        let pem = key.to_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{pem}");
        let again = SigningKey::from_pem(&pem).unwrap();
        assert_eq!(again.public(), key.public());

        let public = key.public();
        let public_pem = public.to_pem();
        assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let parsed = PublicKey::from_pem(&public_pem).unwrap();
        assert_eq!(parsed, public);
        assert_eq!(parsed.algorithm(), algorithm);
        assert_eq!(parsed.fingerprint(), public.fingerprint());
        assert!(public.fingerprint().starts_with("sha256:"));
        assert_eq!(public.fingerprint().len(), 71);
    }
}

#[test]
fn generated_keys_differ() {
    let a = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let b = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    assert_ne!(a.public().fingerprint(), b.public().fingerprint());
}

#[test]
fn debug_does_not_show_the_secret() {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let debug = format!("{key:?}");
    assert!(debug.contains("fingerprint"), "{debug}");
    let secret_body: String = key.to_pem().lines().nth(1).unwrap().to_string();
    assert!(!debug.contains(&secret_body));
}

// A throwaway key from `openssl ecparam -name prime256v1 -genkey -noout` (SEC1).
const SEC1_P256: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIIky/xJ00enWyquLt6RSrpd2eFi4z8xiFYIHOI6vFwx5oAoGCCqGSM49
AwEHoUQDQgAE99AN46xW+pQNRe4hBrVNqqxp0vuAJAUqKheyHF1Nl5IJkAF0oXlv
rM6ZVOBO4JmIFsdidGmpzMyoq+YHUn4pcA==
-----END EC PRIVATE KEY-----
";

#[test]
fn sec1_private_keys_are_read() {
    let key = SigningKey::from_pem(SEC1_P256).unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::EcdsaP256);
    // Written back as PKCS#8, the same key.
    let again = SigningKey::from_pem(&key.to_pem()).unwrap();
    assert_eq!(again.public(), key.public());
}

#[test]
fn pem_with_text_around_it_is_read() {
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let text = format!("# comply key\n{}\ntrailing notes\n", key.public().to_pem());
    assert_eq!(PublicKey::from_pem(&text).unwrap(), key.public());
}

#[test]
fn wrong_pem_kinds_are_explained() {
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let error = PublicKey::from_pem(&key.to_pem()).unwrap_err();
    assert!(error.to_string().contains("private key"), "{error}");
    let error = SigningKey::from_pem(&key.public().to_pem()).unwrap_err();
    assert!(error.to_string().contains("not a private key"), "{error}");
    let error = PublicKey::from_pem("ssh-ed25519 AAAA...").unwrap_err();
    assert!(error.to_string().contains("not PEM"), "{error}");
    let encrypted = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
    let error = SigningKey::from_pem(encrypted).unwrap_err();
    assert!(error.to_string().contains("encrypted"), "{error}");
}

/// Wraps a raw key in an SPKI with the given algorithm identifier, as PEM.
fn spki_pem(algorithm_identifier: &[u8], key: &[u8]) -> String {
    let mut bit_string = vec![0x03, (key.len() + 1) as u8, 0x00];
    bit_string.extend_from_slice(key);
    let mut body = algorithm_identifier.to_vec();
    body.extend_from_slice(&bit_string);
    let mut der = vec![0x30, body.len() as u8];
    der.extend_from_slice(&body);
    let lines: Vec<String> = b64(&der)
        .as_bytes()
        .chunks(64)
        .map(|chunk| String::from_utf8(chunk.to_vec()).unwrap())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

#[test]
fn unsupported_key_algorithms_are_named() {
    // X25519 (1.3.101.110) is a key-agreement key: it cannot verify signatures.
    let x25519 = spki_pem(&[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e], &[7; 32]);
    let error = PublicKey::from_pem(&x25519).unwrap_err();
    assert!(
        matches!(&error, AttestError::UnsupportedAlgorithm(what) if what.contains("X25519")),
        "{error}"
    );

    // secp256k1 (1.3.132.0.10) keys: ECDSA, but not a curve comply accepts.
    let mut point = vec![0x04];
    point.extend_from_slice(&[1; 64]);
    let secp256k1 = spki_pem(
        &[
            0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
            0x81, 0x04, 0x00, 0x0a,
        ],
        &point,
    );
    let error = PublicKey::from_pem(&secp256k1).unwrap_err();
    assert!(
        matches!(&error, AttestError::UnsupportedAlgorithm(what) if what.contains("secp256k1")),
        "{error}"
    );
}

#[test]
fn generating_an_unsupported_algorithm_is_an_error() {
    let error = SigningKey::generate(KeyAlgorithm::Rsa).unwrap_err();
    assert!(
        matches!(error, AttestError::UnsupportedAlgorithm(_)),
        "{error}"
    );
}

#[test]
fn pem_from_other_tools_is_read() {
    // 76-column lines and CRLF line ends, as some tools write them.
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let body: String = key
        .public()
        .to_pem()
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let rewrapped: Vec<String> = body
        .as_bytes()
        .chunks(76)
        .map(|chunk| String::from_utf8(chunk.to_vec()).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\r\n{}\r\n-----END PUBLIC KEY-----\r\n",
        rewrapped.join("\r\n")
    );
    assert_eq!(PublicKey::from_pem(&pem).unwrap(), key.public());

    let legacy = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----\n";
    let error = SigningKey::from_pem(legacy).unwrap_err();
    assert!(error.to_string().contains("headers"), "{error}");
    let unterminated = "-----BEGIN PUBLIC KEY-----\nAAAA\n";
    let error = PublicKey::from_pem(unterminated).unwrap_err();
    assert!(error.to_string().contains("END PUBLIC KEY"), "{error}");
}

// Throwaway public keys from `openssl genrsa N | openssl rsa -pubout`.
const RSA_1024: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCqP2Ohjvz3GA2ct4KLRjviPxD1
wZcEW+Veo+T1SLEQJIVpIG0Mff0dihRDdOJOmR3FJyLGNjLxdsdwd356nZ4pcVNl
8Ndm1R0Nt+So/9MFE+v75zTPfs3N/+YTlrJ++bAeMDS1I9IYyPuYdmag9m5Oarl+
xMDpK/ZcvBgHKp3nMwIDAQAB
-----END PUBLIC KEY-----
";
const RSA_2048: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnvfjNQjKetMsSeUA+jzT
y44qe+kkzmYxLs6687sGDozaiuDS3UFwBkF/g8cJysQHAY3qnLgIhj59opmLnlwE
a6wdHMzh80hN5z7xip4Ghx/Q2VUq63M4194Cts3yunL2fmYWuEMV+TtXIfD66KBg
/LVgDsj06V7YHL88QhyJg+LfF9TjmkLMmRcL8hiGwz5B0yf5kHU89pBmU+YkxBnB
huZddhOqUoFnVTQsQ0hyVZEA6BLF5H8eSGIuzZx6rbTNNJ9XJyuK3WciNK1+LbAI
HpqX9yexJNoBbREWJvl754juvDVMRXjEHuaAaJkcMe+2+gdzZOXanHGYACTssjR5
2wIDAQAB
-----END PUBLIC KEY-----
";

#[test]
fn rsa_keys_need_2048_bits() {
    let key = PublicKey::from_pem(RSA_2048).unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::Rsa);
    assert_eq!(PublicKey::from_pem(&key.to_pem()).unwrap(), key);
    let error = PublicKey::from_pem(RSA_1024).unwrap_err();
    assert!(
        matches!(&error, AttestError::UnsupportedAlgorithm(what) if what.contains("1024 bits")),
        "{error}"
    );
}

/// Runs a tool on stdin, or `None` when it is not installed.
fn tool(program: &str, args: &[&str], stdin: &str) -> Option<std::process::Output> {
    use std::io::Write;
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    Some(child.wait_with_output().unwrap())
}

/// Defect 10: `comply key generate` wrote an Ed25519 key OpenSSL 3 could not read.
#[test]
fn generated_private_keys_are_read_by_openssl_and_their_keys_by_us() {
    if tool("openssl", &["version"], "").is_none() {
        eprintln!("skipped: openssl is not installed");
        return;
    }
    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
        let key = SigningKey::generate(algorithm).unwrap();
        let out = tool("openssl", &["pkey", "-pubout"], &key.to_pem()).unwrap();
        assert!(
            out.status.success(),
            "{algorithm}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = PublicKey::from_pem(&String::from_utf8(out.stdout).unwrap()).unwrap();
        assert_eq!(theirs, key.public(), "{algorithm}: the same public key");
    }
    for args in [
        &["genpkey", "-algorithm", "ed25519"][..],
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ][..],
        &["ecparam", "-name", "prime256v1", "-genkey", "-noout"][..],
    ] {
        let private = tool("openssl", args, "").unwrap();
        assert!(private.status.success(), "{args:?}");
        let private = String::from_utf8(private.stdout).unwrap();
        let key = SigningKey::from_pem(&private).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let public = tool("openssl", &["pkey", "-pubout"], &private).unwrap();
        let public = PublicKey::from_pem(&String::from_utf8(public.stdout).unwrap()).unwrap();
        assert_eq!(key.public(), public, "{args:?}");
    }
}

#[test]
fn generated_private_keys_are_read_by_python_cryptography() {
    let probe = tool("python3", &["-c", "import cryptography"], "");
    if !probe.is_some_and(|o| o.status.success()) {
        eprintln!("skipped: python3 with the cryptography package is not installed");
        return;
    }
    let script = "import sys\nfrom cryptography.hazmat.primitives import serialization as s\n\
        k = s.load_pem_private_key(sys.stdin.buffer.read(), None)\n\
        sys.stdout.write(k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode())\n";
    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
        let key = SigningKey::generate(algorithm).unwrap();
        let out = tool("python3", &["-c", script], &key.to_pem()).unwrap();
        assert!(
            out.status.success(),
            "{algorithm}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = PublicKey::from_pem(&String::from_utf8(out.stdout).unwrap()).unwrap();
        assert_eq!(theirs, key.public(), "{algorithm}");
    }
}
