//! Password hashing with argon2id. Stored hashes carry their parameters (PHC strings), so a
//! login can tell an old, weaker hash and replace it.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// OWASP's minimum for argon2id: 19 MiB, two passes, one lane.
pub const DEFAULT_MEMORY_KIB: u32 = 19 * 1024;
pub const DEFAULT_PASSES: u32 = 2;
pub const DEFAULT_LANES: u32 = 1;

#[derive(Debug, Clone)]
pub struct Hasher {
    params: Params,
    /// A hash of a random password, verified against when the account does not exist so both
    /// paths cost the same.
    dummy: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    Wrong,
    Right,
    /// Right, and the stored hash is weaker than today's parameters.
    RightNeedsRehash,
}

impl Hasher {
    pub fn new(memory_kib: u32, passes: u32, lanes: u32) -> Result<Hasher, argon2::Error> {
        let params = Params::new(memory_kib, passes, lanes, None)?;
        let mut hasher = Hasher {
            params,
            dummy: String::new(),
        };
        let (random, _) = super::secret::new_token();
        hasher.dummy = hasher.hash(&random);
        Ok(hasher)
    }

    pub fn owasp() -> Hasher {
        #[allow(clippy::expect_used)]
        Hasher::new(DEFAULT_MEMORY_KIB, DEFAULT_PASSES, DEFAULT_LANES)
            .expect("valid argon2 parameters")
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// A PHC string for `password` with a fresh random salt.
    pub fn hash(&self, password: &str) -> String {
        let mut salt = [0u8; 16];
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut salt).expect("the operating system's random source failed");
        #[allow(clippy::expect_used)]
        let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
        #[allow(clippy::expect_used)]
        self.argon()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 with valid parameters cannot fail")
            .to_string()
    }

    /// Checks `password` against `stored`; with no stored hash (unknown account, or one
    /// without a password yet) the same work is done against a dummy hash and the answer is
    /// `Wrong`.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> Verified {
        let (phc, real) = match stored {
            Some(s) => (s, true),
            None => (self.dummy.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(phc) else {
            // A corrupt stored hash still costs a verification, and never matches.
            let _ = self
                .argon()
                .verify_password(password.as_bytes(), &self.dummy_hash());
            return Verified::Wrong;
        };
        // Verify with the parameters the hash was made with.
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        if !(ok && real) {
            return Verified::Wrong;
        }
        if self.is_weaker(&parsed) {
            Verified::RightNeedsRehash
        } else {
            Verified::Right
        }
    }

    fn dummy_hash(&self) -> PasswordHash<'_> {
        #[allow(clippy::expect_used)]
        PasswordHash::new(&self.dummy).expect("the dummy hash is well formed")
    }

    fn is_weaker(&self, hash: &PasswordHash<'_>) -> bool {
        if hash.algorithm.as_str() != "argon2id" {
            return true;
        }
        match Params::try_from(hash) {
            Ok(p) => {
                p.m_cost() < self.params.m_cost()
                    || p.t_cost() < self.params.t_cost()
                    || p.p_cost() < self.params.p_cost()
            }
            Err(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_carry_owasp_parameters() {
        let h = Hasher::owasp();
        let phc = h.hash("Correct-horse1");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(h.verify("Correct-horse1", Some(&phc)), Verified::Right);
        assert_eq!(h.verify("correct-horse1", Some(&phc)), Verified::Wrong);
        assert_eq!(h.verify("Correct-horse1", None), Verified::Wrong);
        assert_eq!(h.verify("x", Some("not a hash")), Verified::Wrong);
    }

    #[test]
    fn weaker_hashes_ask_for_a_rehash() {
        let weak = Hasher::new(8 * 1024, 1, 1)
            .expect("params")
            .hash("pw-Example1");
        assert_eq!(
            Hasher::owasp().verify("pw-Example1", Some(&weak)),
            Verified::RightNeedsRehash
        );
    }
}
