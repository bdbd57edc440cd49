//! Detached ed25519 signatures over a component's bytes: an operator can require that every
//! component installed was signed by one of the keys they trust.
//!
//! A key or a signature is written as base64 (standard alphabet, padded) of its raw bytes: 32 for
//! a public key, 64 for a signature. A signature file holds one signature and may end with a
//! newline. `helpdesk-plugin keygen` makes a key pair and `helpdesk-plugin sign` a signature.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

/// The public keys an operator trusts to sign components.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<VerifyingKey>,
}

impl TrustedKeys {
    /// Parses keys separated by commas or whitespace; an empty text trusts no key.
    pub fn parse(text: &str) -> Result<TrustedKeys, String> {
        let keys = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|k| !k.is_empty())
            .map(public_key)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedKeys { keys })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks `signature` (the text of a signature file) over `bytes`, and returns the key that
    /// made it, in base64.
    pub fn verify(&self, bytes: &[u8], signature: &str) -> Result<String, String> {
        let raw = STANDARD
            .decode(signature.trim())
            .map_err(|e| format!("the signature is not base64: {e}"))?;
        let signature = Signature::from_slice(&raw)
            .map_err(|_| format!("a signature is 64 bytes, this one is {}", raw.len()))?;
        self.keys
            .iter()
            .find(|key| key.verify(bytes, &signature).is_ok())
            .map(|key| STANDARD.encode(key.as_bytes()))
            .ok_or_else(|| {
                "the signature was not made over this component by any trusted key (HELPDESK_PLUGIN_TRUSTED_KEYS)".to_owned()
            })
    }
}

fn public_key(text: &str) -> Result<VerifyingKey, String> {
    let raw = STANDARD
        .decode(text)
        .map_err(|e| format!("trusted key {text:?} is not base64: {e}"))?;
    let bytes: [u8; 32] = raw
        .try_into()
        .map_err(|_| format!("trusted key {text:?} is not 32 bytes"))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("trusted key {text:?}: {e}"))
}

/// A new key pair from the system's randomness: (secret key, public key), both base64.
pub fn generate() -> Result<(String, String), String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
    let key = SigningKey::from_bytes(&seed);
    Ok((
        STANDARD.encode(key.to_bytes()),
        STANDARD.encode(key.verifying_key().as_bytes()),
    ))
}

/// Signs `bytes` with a secret key (base64, as `generate` writes it); the signature in base64.
pub fn sign(secret: &str, bytes: &[u8]) -> Result<String, String> {
    let raw = STANDARD
        .decode(secret.trim())
        .map_err(|e| format!("the secret key is not base64: {e}"))?;
    let seed: [u8; 32] = raw
        .try_into()
        .map_err(|_| "a secret key is 32 bytes".to_owned())?;
    Ok(STANDARD.encode(SigningKey::from_bytes(&seed).sign(bytes).to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_bytes_and_a_trusted_key() {
        let (secret, public) = generate().unwrap();
        let (_, stranger) = generate().unwrap();
        let signature = sign(&secret, b"component").unwrap();
        let trusted = TrustedKeys::parse(&format!("{stranger}, {public}")).unwrap();
        assert_eq!(
            trusted.verify(b"component", &format!("{signature}\n")),
            Ok(public)
        );
        assert!(trusted.verify(b"c0mponent", &signature).is_err());
        let others = TrustedKeys::parse(&stranger).unwrap();
        assert!(others.verify(b"component", &signature).is_err());
        assert!(TrustedKeys::parse("not-a-key").is_err());
        assert!(TrustedKeys::parse("").unwrap().is_empty());
    }
}
