//! Property tests (issue #15): envelope, bundle, statement and predicate parsers answer
//! every input with a value or an error, never a panic. Seeded with the real Chainloop
//! and Sigstore fixtures, mutated byte by byte and as JSON text.
//!
//! Small budget by default; run longer by hand with
//! `COMPLY_PROPTEST_CASES=20000 cargo test -p comply-attest --test testsuite properties`.

use base64::Engine;
use comply_attest::{ChainloopPredicate, PolicyEvaluationBundle, parse_envelope, parse_statement};
use proptest::prelude::*;

use crate::support::{fixture, fixtures_dir};

fn cases() -> u32 {
    std::env::var("COMPLY_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// Envelope and bundle fixtures, and the statements inside them.
type Seeds = (Vec<Vec<u8>>, Vec<Vec<u8>>);

fn seeds() -> Option<Seeds> {
    let dir = fixtures_dir().join("chainloop-attestations");
    fixture("chainloop-attestations/biz-full.dsse.json")?;
    let mut envelopes = Vec::new();
    let mut statements = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    for path in names {
        let bytes = std::fs::read(&path).unwrap();
        if let Ok(signed) = parse_envelope(&bytes) {
            statements.push(signed.payload.clone());
        }
        envelopes.push(bytes);
    }
    Some((envelopes, statements))
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, u8),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let interesting = prop::sample::select(vec![
        b'"', b'{', b'}', b'[', b']', b',', b':', b'\\', b'0', b'-', b'e', b'=', b'/', b'+', 0xff,
        0,
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Flip(a, b)),
        (any::<usize>(), 1usize..64).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), interesting).prop_map(|(a, b)| Edit::Insert(a, b)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len().max(1);
        match *e {
            Edit::Flip(at, b) if !bytes.is_empty() => bytes[at % len] ^= b | 1,
            Edit::Delete(at, n) if !bytes.is_empty() => {
                let i = at % len;
                let j = (i + n).min(bytes.len());
                bytes.drain(i..j);
            }
            Edit::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), b),
            Edit::Truncate(at) => bytes.truncate(at % len),
            _ => {}
        }
    }
    bytes
}

/// The whole pipeline ingestion runs before verification.
fn parse_all(envelope: &[u8]) {
    if let Ok(signed) = parse_envelope(envelope) {
        let _ = signed.digest();
        parse_payload(&signed.payload);
    }
    let _ = PolicyEvaluationBundle::parse(envelope, "sha256:00");
}

fn parse_payload(payload: &[u8]) {
    if let Ok(statement) = parse_statement(payload)
        && let Ok(predicate) = ChainloopPredicate::from_statement(&statement)
    {
        let _ = predicate.policy_evaluations.len();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn mutated_envelopes_parse_or_fail_cleanly(seed in any::<prop::sample::Index>(), edits in prop::collection::vec(edit(), 1..6)) {
        let Some((envelopes, _)) = seeds() else { return Ok(()) };
        parse_all(&apply(seed.get(&envelopes).clone(), &edits));
    }

    #[test]
    fn mutated_statements_parse_or_fail_cleanly(seed in any::<prop::sample::Index>(), edits in prop::collection::vec(edit(), 1..6)) {
        let Some((_, statements)) = seeds() else { return Ok(()) };
        prop_assume!(!statements.is_empty());
        let payload = apply(seed.get(&statements).clone(), &edits);
        parse_payload(&payload);
        // The same statement inside a fresh envelope goes through the envelope parser too.
        let b64 = base64::engine::general_purpose::STANDARD.encode(&payload);
        let envelope = format!(r#"{{"payloadType":"application/vnd.in-toto+json","payload":"{b64}","signatures":[{{"sig":"AAAA"}}]}}"#);
        parse_all(envelope.as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&bytes);
        parse_payload(&bytes);
    }
}
