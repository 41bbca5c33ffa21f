//! The message-body cipher the TapTalk SDKs apply to `body`, `data` and `quote.content`.
//!
//! It is obfuscation with a public constant, not end-to-end encryption: the server must be able
//! to read and produce it, because messages it originates (system messages, Server API sends)
//! are shown by the SDKs only after they decode them. Pure functions, no I/O.

use aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use sha2::{Digest, Sha256};

/// The first 16 characters of the SDKs' shared constant; the rest of it is never used.
const KEY_PREFIX: &str = "kHT0sVGIKKpnlJE5";

/// Why a wire value could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodecError {
    /// The `localID` is empty or not ASCII, so no key can be derived from it.
    BadLocalId,
    /// The value is not in the `digit + base64-with-salt` shape, or does not decrypt.
    Malformed,
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodecError::BadLocalId => f.write_str("localID must be non-empty ASCII"),
            CodecError::Malformed => f.write_str("value is not an encoded message field"),
        }
    }
}

impl std::error::Error for CodecError {}

fn key_for(local_id: &str) -> Result<[u8; 32], CodecError> {
    if local_id.is_empty() || !local_id.is_ascii() {
        return Err(CodecError::BadLocalId);
    }
    let end = local_id.len().min(24);
    let start = 8.min(end);
    let mut password = String::with_capacity(32);
    password.push_str(KEY_PREFIX);
    password.extend(local_id[start..end].chars().rev());
    Ok(Sha256::digest(password.as_bytes()).into())
}

/// Encodes `text` for a message whose `localID` is `local_id`, with the random digit `r` (1..=9).
///
/// Exposed with an explicit `r` so the test vectors can be reproduced; use [`encode`] otherwise.
pub fn encode_with(text: &str, local_id: &str, r: u8) -> Result<String, CodecError> {
    let key = key_for(local_id)?;
    let iv = [0u8; 16];
    let ciphertext = cbc::Encryptor::<Aes256>::new(&key.into(), &iv.into())
        .encrypt_padded_vec::<Pkcs7>(text.as_bytes());
    let e = STANDARD.encode(ciphertext);
    // Lengths and indices count UTF-16 code units, as in JavaScript and Java.
    let salt_index = text.encode_utf16().count() % local_id.len();
    let salt = local_id.as_bytes()[salt_index] as char;
    let r = usize::from(r.clamp(1, 9));
    let i = ((e.len() + r) * r) % e.len();
    let mut out = String::with_capacity(e.len() + 2);
    out.push(char::from(b'0' + r as u8));
    out.push_str(&e[..i]);
    out.push(salt);
    out.push_str(&e[i..]);
    Ok(out)
}

/// Encodes `text` with a random digit in 1..=8, the range both SDKs decode.
pub fn encode(text: &str, local_id: &str) -> Result<String, CodecError> {
    let [byte] = super::secret::pooled_random_bytes::<1>();
    encode_with(text, local_id, byte % 8 + 1)
}

/// Decodes a wire value produced by [`encode`] or by either SDK.
pub fn decode(wire: &str, local_id: &str) -> Result<String, CodecError> {
    let key = key_for(local_id)?;
    let bytes = wire.as_bytes();
    if bytes.len() < 3 || !wire.is_ascii() || !(b'1'..=b'9').contains(&bytes[0]) {
        return Err(CodecError::Malformed);
    }
    let r = usize::from(bytes[0] - b'0');
    let l = bytes.len() - 2;
    let i = ((l + r) * r) % l;
    let rest = &wire[1..];
    let mut e = String::with_capacity(l);
    e.push_str(&rest[..i]);
    e.push_str(&rest[i + 1..]);
    let ciphertext = STANDARD.decode(e).map_err(|_| CodecError::Malformed)?;
    let iv = [0u8; 16];
    let plain = cbc::Decryptor::<Aes256>::new(&key.into(), &iv.into())
        .decrypt_padded_vec::<Pkcs7>(&ciphertext)
        .map_err(|_| CodecError::Malformed)?;
    String::from_utf8(plain).map_err(|_| CodecError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: [(&str, &str, u8, &str); 3] = [
        (
            "Hello",
            "abcdefgh0123456789ABCDEFijklmnop",
            3,
            "3VoFzmtQX8fV+Lrk/jzJcnnQ==",
        ),
        (
            "Hello Bob, ünïcødé ✓",
            "pbxh0GMVZDRf_3xzWwzLCug_9KHwGw3U",
            7,
            "7NSyPbCsodEIvbMQb3YpX0hwd2sWYxRPaxqGJaJ1IY5jU=",
        ),
        (
            "{\"items\":[]}",
            "0123456789abcdefghijklmnopqrstuv",
            1,
            "10c8xQmVtjU7xQlqFf4UXQGg==",
        ),
    ];

    #[test]
    fn encoding_reproduces_the_published_vectors() {
        for (text, local_id, r, wire) in VECTORS {
            assert_eq!(encode_with(text, local_id, r).unwrap(), wire, "{text}");
        }
    }

    #[test]
    fn decoding_recovers_the_published_vectors() {
        for (text, local_id, _, wire) in VECTORS {
            assert_eq!(decode(wire, local_id).unwrap(), text);
        }
    }

    #[test]
    fn decodes_the_room_page_example() {
        let body = decode(
            "2UKeB3vSZJ0xkpSXzBpoEUrA==",
            "UW3nQh7XNwC9q2WVj9h7_xW4fIPEyqxa",
        );
        assert_eq!(body.unwrap(), "hi");
    }

    #[test]
    fn derives_the_published_key() {
        let key = key_for("abcdefgh0123456789ABCDEFijklmnop").unwrap();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "26f1685436235f1f9623fdbcda36f75b8c9099fc755661609d9a2e1eb047fd4f"
        );
    }

    #[test]
    fn random_encoding_round_trips_including_empty_text() {
        for text in ["", "x", "ünïcødé ✓ 🎉", &"long ".repeat(500)] {
            let wire = encode(text, "pbxh0GMVZDRf_3xzWwzLCug_9KHwGw3U").unwrap();
            assert_eq!(
                decode(&wire, "pbxh0GMVZDRf_3xzWwzLCug_9KHwGw3U").unwrap(),
                text
            );
        }
    }

    #[test]
    fn rejects_garbage_and_bad_local_ids() {
        assert_eq!(decode("0abc", "abcdefgh"), Err(CodecError::Malformed));
        assert_eq!(decode("3@@@@@@@", "abcdefgh"), Err(CodecError::Malformed));
        assert_eq!(decode("", "abcdefgh"), Err(CodecError::Malformed));
        assert_eq!(encode("x", ""), Err(CodecError::BadLocalId));
        assert_eq!(encode("x", "ü"), Err(CodecError::BadLocalId));
    }
}
