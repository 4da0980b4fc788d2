//! Object keys as object_store paths. object_store's `Path` refuses control characters, empty
//! segments and `.`/`..` segments, and drops leading and trailing slashes; S3 keys may hold all
//! of them. Such a key is sent as a placeholder path that the HTTP layer replaces with the
//! key's exact bytes (percent-encoded as object_store encodes paths) before signing.

use object_store::path::Path;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::{Error, Result};
use crate::op::KeyFix;

/// What S3 leaves unencoded in a path (object_store's `STRICT_PATH_ENCODE_SET`).
const PATH_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// `path` percent-encoded for a URL path.
pub(crate) fn encode(path: &str) -> String {
    utf8_percent_encode(path, PATH_ENCODE).to_string()
}

/// A key ready for object_store, with the fix the HTTP layer applies when the path is a placeholder.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub path: Path,
    pub fix: Option<KeyFix>,
}

/// `path` as an object_store path. `exact`: the store's HTTP layer can carry any key (S3);
/// otherwise a key `Path` cannot hold is `InvalidInput`. `slot` tells the keys of one
/// operation apart (a copy has two).
pub(crate) fn object_key(path: &str, exact: bool, slot: usize) -> Result<Key> {
    if path.is_empty() {
        return Err(Error::invalid(path, "empty object path"));
    }
    if path.split('/').any(|s| s == "." || s == "..") {
        // URL parsers resolve dot segments (even percent-encoded ones): such a key cannot be sent as is.
        return Err(Error::invalid(
            path,
            format!("invalid object path '{path}': '.' and '..' segments are not allowed"),
        ));
    }
    match Path::parse(path) {
        Ok(p) if p.as_ref() == path => Ok(Key { path: p, fix: None }),
        Err(e) if !exact => Err(Error::invalid(path, format!("invalid object path '{path}': {e}"))),
        _ if !exact => Err(Error::invalid(path, format!("invalid object path '{path}'"))),
        _ => {
            let placeholder = format!("__remote_store_key_{slot}");
            let encoded = encode(path);
            Ok(Key { path: Path::from(placeholder.as_str()), fix: Some(KeyFix { placeholder, encoded }) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keys_pass_through() {
        let k = object_key("dir/a b+c.txt", true, 0).unwrap();
        assert_eq!(k.path.as_ref(), "dir/a b+c.txt");
        assert!(k.fix.is_none());
    }

    #[test]
    fn keys_object_store_refuses_keep_their_bytes() {
        for key in ["a\u{1}b", "dir//x", "trailing/", "/lead", "tab\there", "del\u{7f}"] {
            let k = object_key(key, true, 1).unwrap();
            let fix = k.fix.expect(key);
            assert_eq!(k.path.as_ref(), "__remote_store_key_1");
            let decoded = percent_encoding::percent_decode_str(&fix.encoded).decode_utf8().unwrap();
            assert_eq!(decoded, key);
            assert!(object_key(key, false, 0).is_err(), "{key}");
        }
        assert!(object_key("", true, 0).is_err());
        assert!(object_key("a/./b", true, 0).is_err());
        assert!(object_key("../b", true, 0).is_err());
    }
}
