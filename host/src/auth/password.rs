//! Password hashing with argon2id. Stored hashes carry their parameters (PHC strings), so a
//! login can tell an old, weaker hash and replace it.

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// OWASP's minimum for argon2id: 19 MiB, two passes, one lane.
pub const DEFAULT_MEMORY_KIB: u32 = 19 * 1024;
pub const DEFAULT_PASSES: u32 = 2;
pub const DEFAULT_LANES: u32 = 1;

/// The most memory a stored hash may ask for; a larger one is treated as corrupt.
const MAX_MEMORY_KIB: u32 = 256 * 1024;

#[derive(Debug, Clone)]
pub struct Hasher {
    params: Params,
    /// A hash of a random password, verified against when the account does not exist so both
    /// paths cost the same.
    dummy: String,
}

/// The working memory of one argon2 computation (19 MiB with today's parameters). The caller
/// keeps it and hands it to the next computation: allocated afresh each time, a burst of logins
/// leaves hundreds of MiB with the allocator for good.
#[derive(Default)]
pub struct Memory {
    blocks: Vec<Block>,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Memory({} KiB)", self.blocks.len())
    }
}

impl Memory {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let n = params.block_count();
        if self.blocks.len() < n {
            self.blocks.resize(n, Block::default());
        }
        &mut self.blocks[..n]
    }
}

/// Runs argon2 with at most one computation per core (more at once only thrash the caches and
/// let a burst of logins claim memory without bound), each on the blocking pool with the working
/// memory the previous one used: resident memory stays at one [`Memory`] per core, however many
/// logins come.
#[derive(Debug)]
pub struct Workers {
    slots: tokio::sync::Semaphore,
    memory: std::sync::Mutex<Vec<Memory>>,
}

impl Workers {
    pub fn new(cores: usize) -> Workers {
        Workers {
            slots: tokio::sync::Semaphore::new(cores.max(1)),
            memory: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// One worker per core of this machine.
    pub fn per_core() -> Workers {
        Workers::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// Runs `f` with a worker's memory once a worker is free.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, String> {
        let _slot = self.slots.acquire().await.map_err(|e| e.to_string())?;
        let mut memory = self.take();
        let (out, memory) = tokio::task::spawn_blocking(move || {
            let out = f(&mut memory);
            (out, memory)
        })
        .await
        .map_err(|e| format!("argon2 worker failed: {e}"))?;
        self.give_back(memory);
        Ok(out)
    }

    fn take(&self) -> Memory {
        self.memory
            .lock()
            .map(|mut m| m.pop().unwrap_or_default())
            .unwrap_or_default()
    }

    fn give_back(&self, memory: Memory) {
        if let Ok(mut m) = self.memory.lock() {
            m.push(memory);
        }
    }
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
        hasher.dummy = hasher.hash(&random, &mut Memory::default());
        Ok(hasher)
    }

    pub fn owasp() -> Hasher {
        #[allow(clippy::expect_used)]
        Hasher::new(DEFAULT_MEMORY_KIB, DEFAULT_PASSES, DEFAULT_LANES)
            .expect("valid argon2 parameters")
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// A PHC string for `password` with a fresh random salt.
    pub fn hash(&self, password: &str, memory: &mut Memory) -> String {
        let mut salt = [0u8; 16];
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut salt).expect("the operating system's random source failed");
        #[allow(clippy::expect_used)]
        let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
        #[allow(clippy::expect_used)]
        let output = compute(&argon, password, salt.as_salt(), memory)
            .expect("argon2 with valid parameters cannot fail");
        PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            #[allow(clippy::expect_used)]
            params: (&self.params).try_into().expect("valid parameters"),
            salt: Some(salt.as_salt()),
            hash: Some(output),
        }
        .to_string()
    }

    /// Checks `password` against `stored`; with no stored hash (unknown account, or one
    /// without a password yet) the same work is done against a dummy hash and the answer is
    /// `Wrong`.
    pub fn verify(&self, password: &str, stored: Option<&str>, memory: &mut Memory) -> Verified {
        let real = stored.is_some();
        let computed = stored
            .and_then(|s| PasswordHash::new(s).ok())
            .and_then(|h| check(&h, password, memory).map(|ok| (ok, self.is_weaker(&h))));
        match computed {
            Some((true, weaker)) if real => {
                if weaker {
                    Verified::RightNeedsRehash
                } else {
                    Verified::Right
                }
            }
            Some(_) => Verified::Wrong,
            None => {
                // Unknown account or a corrupt stored hash: the same work, never a match.
                if let Ok(h) = PasswordHash::new(&self.dummy) {
                    let _ = check(&h, password, memory);
                }
                Verified::Wrong
            }
        }
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

/// Whether `password` matches `hash`, computed with the parameters the hash was made with;
/// `None` when the hash cannot be used (unknown algorithm, absurd parameters).
fn check(hash: &PasswordHash<'_>, password: &str, memory: &mut Memory) -> Option<bool> {
    let algorithm = Algorithm::try_from(hash.algorithm).ok()?;
    let version = hash
        .version
        .map(Version::try_from)
        .transpose()
        .ok()?
        .unwrap_or_default();
    let expected = hash.hash?;
    let params = Params::try_from(hash).ok()?;
    if params.m_cost() > MAX_MEMORY_KIB {
        return None;
    }
    let params = Params::new(
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        Some(expected.len()),
    )
    .ok()?;
    let argon = Argon2::new(algorithm, version, params);
    let output = compute(&argon, password, hash.salt?, memory).ok()?;
    // `Output` compares in constant time.
    Some(output == expected)
}

/// argon2 of `password` and `salt` into `memory`, reused across calls.
fn compute(
    argon: &Argon2<'_>,
    password: &str,
    salt: argon2::password_hash::Salt<'_>,
    memory: &mut Memory,
) -> Result<Output, argon2::password_hash::Error> {
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf)?;
    let len = argon
        .params()
        .output_len()
        .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    Output::init_with(len, |out| {
        Ok(argon.hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            out,
            memory.blocks(argon.params()),
        )?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_carry_owasp_parameters() {
        let h = Hasher::owasp();
        let m = &mut Memory::default();
        let phc = h.hash("Correct-horse1", m);
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(h.verify("Correct-horse1", Some(&phc), m), Verified::Right);
        assert_eq!(h.verify("correct-horse1", Some(&phc), m), Verified::Wrong);
        assert_eq!(h.verify("Correct-horse1", None, m), Verified::Wrong);
        assert_eq!(h.verify("x", Some("not a hash"), m), Verified::Wrong);
    }

    #[test]
    fn weaker_hashes_ask_for_a_rehash() {
        let m = &mut Memory::default();
        let weak = Hasher::new(8 * 1024, 1, 1)
            .expect("params")
            .hash("pw-Example1", m);
        assert_eq!(
            Hasher::owasp().verify("pw-Example1", Some(&weak), m),
            Verified::RightNeedsRehash
        );
        // The memory grows back for today's parameters after a weaker hash.
        let strong = Hasher::owasp().hash("pw-Example1", m);
        assert_eq!(
            Hasher::owasp().verify("pw-Example1", Some(&strong), m),
            Verified::Right
        );
    }
}

#[cfg(test)]
mod compat {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_read_the_same_as_the_crates_own() {
        let m = &mut Memory::default();
        let ours = Hasher::owasp().hash("Sunny-Day42", m);
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(
            Argon2::default()
                .verify_password(b"Sunny-Day42", &parsed)
                .is_ok()
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let theirs = Argon2::default()
            .hash_password(b"Sunny-Day42", &salt)
            .expect("hash")
            .to_string();
        assert_eq!(
            Hasher::owasp().verify("Sunny-Day42", Some(&theirs), m),
            Verified::Right
        );
    }
}
