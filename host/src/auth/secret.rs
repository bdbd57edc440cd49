//! Random secrets (session ids, emailed links, codes) and the hashes they are stored as.

use sha2::{Digest, Sha256};

/// A fresh 256-bit secret, hex-encoded, and its stored hash.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    fill(&mut bytes);
    let token = hex::encode(bytes);
    let hash = hash(&token);
    (token, hash)
}

/// A six-digit code, uniformly drawn.
pub fn new_code() -> String {
    loop {
        let mut b = [0u8; 4];
        fill(&mut b);
        let n = u32::from_le_bytes(b);
        // Reject the top sliver so every code is equally likely.
        if n < u32::MAX - (u32::MAX % 1_000_000) {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// The stored form of a secret.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The stored form of an emailed code, bound to the challenge it answers so equal codes of
/// different sessions hash differently.
pub fn code_hash(session_id: i64, code: &str) -> String {
    hash(&format!("{session_id}:{code}"))
}

/// The CSRF token of the forms of a session whose secret is `session`: bound to it (worthless
/// with any other session, new at every sign-in), and telling nothing of the secret itself.
pub fn csrf_of(session: &str) -> String {
    hash(&format!("csrf:{session}"))
}

/// Compares two strings in time that depends only on their length.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn fill(buf: &mut [u8]) {
    // Without an OS random source nothing secure can be issued: stopping is the only safe answer.
    #[allow(clippy::expect_used)]
    getrandom::fill(buf).expect("the operating system's random source failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hash(&a), ha);
        assert_ne!(a, ha);
    }

    #[test]
    fn codes_have_six_digits() {
        for _ in 0..200 {
            let c = new_code();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
