//! Secrets the server must use again (webhook signing secrets) are stored sealed: encrypted
//! and authenticated (ChaCha20-Poly1305) under the server's secret key, which is not in the
//! database. A copy of the database alone yields none of them.

use ring::aead::{self, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use std::path::Path;

/// The server's secret key, sealing and opening stored secrets.
pub struct Sealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // Without an OS random source nothing secure can be issued: stopping is the only safe answer.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Sealer {
        #[allow(clippy::expect_used)]
        let key = UnboundKey::new(&CHACHA20_POLY1305, &key).expect("a 256-bit key fits");
        Sealer {
            key: LessSafeKey::new(key),
        }
    }

    /// A key of this process only: what it seals no other process opens.
    pub fn ephemeral() -> Sealer {
        Sealer::new(random())
    }

    /// The key `hex` (64 hexadecimal digits, as `HELPDESK_SECRET_KEY` gives it) or, without
    /// one, the key in `file`, made on first use (readable by the server's user only).
    /// Replicas must share the key.
    pub fn from_settings(hex: Option<&str>, file: &Path) -> Result<Sealer, String> {
        let parse = |s: &str, from: &str| -> Result<[u8; 32], String> {
            hex::decode(s.trim())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| format!("{from}: the secret key must be 64 hexadecimal digits"))
        };
        if let Some(hex) = hex {
            return Ok(Sealer::new(parse(hex, "HELPDESK_SECRET_KEY")?));
        }
        match std::fs::read_to_string(file) {
            Ok(s) => Ok(Sealer::new(parse(&s, &file.display().to_string())?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = random();
                write_private(file, &hex::encode(key))
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                Ok(Sealer::new(key))
            }
            Err(e) => Err(format!("{}: {e}", file.display())),
        }
    }

    /// `plain` sealed: hex of a fresh nonce, the ciphertext and its tag.
    pub fn seal(&self, plain: &str) -> String {
        let nonce: [u8; aead::NONCE_LEN] = random();
        let mut data = plain.as_bytes().to_vec();
        #[allow(clippy::expect_used)]
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .expect("a secret is far below the cipher's limit");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        hex::encode(out)
    }

    /// What [`Sealer::seal`] sealed, if this key sealed it and it is intact.
    pub fn open(&self, sealed: &str) -> Result<String, String> {
        let bytes = hex::decode(sealed).map_err(|_| "not a sealed secret".to_owned())?;
        if bytes.len() < aead::NONCE_LEN + CHACHA20_POLY1305.tag_len() {
            return Err("not a sealed secret".into());
        }
        let (nonce, data) = bytes.split_at(aead::NONCE_LEN);
        let mut data = data.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| "bad nonce".to_owned())?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut data)
            .map_err(|_| {
                "the secret was sealed with another secret key (HELPDESK_SECRET_KEY differs between servers?)".to_owned()
            })?;
        String::from_utf8(plain.to_vec()).map_err(|_| "not a sealed secret".to_owned())
    }
}

fn write_private(file: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(file)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_intact() {
        let a = Sealer::ephemeral();
        let sealed = a.seal("whsec_abc");
        assert!(!sealed.contains("whsec"));
        assert_ne!(sealed, a.seal("whsec_abc"), "a fresh nonce every time");
        assert_eq!(a.open(&sealed).unwrap(), "whsec_abc");
        assert!(Sealer::ephemeral().open(&sealed).is_err());
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert!(a.open(&String::from_utf8(tampered).unwrap()).is_err());
    }

    #[test]
    fn the_key_file_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret.key");
        let sealed = Sealer::from_settings(None, &file).unwrap().seal("x");
        assert_eq!(
            Sealer::from_settings(None, &file)
                .unwrap()
                .open(&sealed)
                .unwrap(),
            "x"
        );
        assert!(Sealer::from_settings(Some("abc"), &file).is_err());
        let key = "11".repeat(32);
        assert!(
            Sealer::from_settings(Some(&key), &file)
                .unwrap()
                .open(&sealed)
                .is_err()
        );
    }
}
