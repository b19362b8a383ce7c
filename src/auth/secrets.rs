//! Secrets: generation, argon2 hashing, webhook secret derivation and HMAC
//! signature checks.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// A random secret of 32 bytes, URL-safe base64 without padding.
pub fn generate() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Hashes a secret with argon2id and a random salt (PHC string).
pub fn hash(secret: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// An argon2id hash, with the parameters of [`hash`], of a secret that no
/// client holds: the token endpoint verifies against it when the client id
/// is unknown, so that an unknown id costs the same work (and time) as a
/// wrong secret and does not tell which ids exist.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$zanCKn+d/WAT3oSabBAUWg$23GfxnSKnSG2JS3tuoy6hO4RHz49guPH7S4UpVDnlec";

/// Whether `secret` matches the stored PHC hash.
pub fn verify(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A tenant's webhook secret: derived from the server's key, the tenant and
/// the secret's version, so nothing that could sign a webhook is stored.
pub fn webhook_secret(server_key: &str, tenant_id: Uuid, version: i32) -> String {
    let mut mac = HmacSha256::new_from_slice(server_key.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("cx-reporting webhook secret\n{tenant_id}\n{version}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks `sha256=<hex>` against the HMAC-SHA256 of `body`, in constant time.
pub fn signature_matches(secret: &str, body: &[u8], header_value: &str) -> bool {
    let Some(hex_sig) = header_value.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// Signs a body as a webhook sender would: `sha256=<hex>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::Params;

    #[test]
    fn the_dummy_hash_costs_what_a_stored_hash_costs() {
        let dummy = PasswordHash::new(DUMMY_HASH).expect("a PHC string");
        let stored_phc = hash("any secret").expect("hash");
        let stored = PasswordHash::new(&stored_phc).expect("a PHC string");
        assert_eq!(dummy.algorithm, stored.algorithm);
        assert_eq!(dummy.version, stored.version);
        let params = |h: &PasswordHash<'_>| Params::try_from(h).expect("argon2 parameters");
        assert_eq!(params(&dummy), params(&stored));
        let costs = |p: &Params| (p.m_cost(), p.t_cost(), p.p_cost());
        assert_eq!(costs(&params(&dummy)), costs(&Params::default()));
        assert!(!verify("any secret", DUMMY_HASH));
    }
}
