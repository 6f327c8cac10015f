//! Merkle root over the package's files (RFC 6962 hashing).
//!
//! Leaves are the `SHA256SUMS` lines of the files listed in the manifest, without
//! the newline (`<sha256-hex>  <path>`), sorted by path:
//! leaf = SHA-256(0x00 || line), node = SHA-256(0x01 || left || right); an odd node
//! is carried up; the root of no files is SHA-256 of the empty string.

use sha2::{Digest, Sha256};

/// Computes the root from `(path, sha256-hex)` pairs in any order.
pub fn merkle_root<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut leaves: Vec<(&str, &str)> = files.into_iter().collect();
    leaves.sort_by(|a, b| a.0.cmp(b.0));
    let mut level: Vec<[u8; 32]> = leaves
        .iter()
        .map(|(path, sha)| {
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(format!("{sha}  {path}").as_bytes());
            h.finalize().into()
        })
        .collect();
    if level.is_empty() {
        return hex::encode(Sha256::digest(b""));
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => {
                    let mut h = Sha256::new();
                    h.update([1u8]);
                    h.update(l);
                    h.update(r);
                    h.finalize().into()
                }
                [single] => *single,
                _ => unreachable!("chunks(2) yields one or two"),
            })
            .collect();
    }
    hex::encode(level[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_order_independent_and_sensitive_to_every_leaf() {
        let a = merkle_root([("a", "00"), ("b", "11"), ("c", "22")]);
        let b = merkle_root([("c", "22"), ("a", "00"), ("b", "11")]);
        assert_eq!(a, b);
        assert_ne!(a, merkle_root([("a", "00"), ("b", "11"), ("c", "23")]));
        assert_ne!(a, merkle_root([("a", "00"), ("b", "11")]));
    }

    #[test]
    fn single_leaf_and_two_leaf_vectors() {
        // Test vectors others can reproduce with any SHA-256 tool.
        let one = merkle_root([("x", "ab")]);
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(b"ab  x");
        assert_eq!(one, hex::encode(h.finalize()));
        let leaf = |s: &[u8]| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(s);
            h.finalize().into()
        };
        let mut h = Sha256::new();
        h.update([1u8]);
        h.update(leaf(b"01  a"));
        h.update(leaf(b"02  b"));
        assert_eq!(
            merkle_root([("b", "02"), ("a", "01")]),
            hex::encode(h.finalize())
        );
    }
}
