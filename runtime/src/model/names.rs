//! One set of naming rules for every call: metric names, label keys, attribute paths and
//! environment ids are checked here, so a name refused by one call is refused by all, with the
//! same message. Names become file paths (videos, TensorBoard tags, spool directories) and URL
//! parts downstream, so traversal (`..`, `\`) and control characters are refused everywhere.

/// Longest environment id, in bytes.
pub const MAX_ENV_ID_LEN: usize = 128;
/// Longest part of a user value quoted in an error message.
const SHOWN: usize = 80;

/// `text` quoted for an error message, cut to its first 80 characters (a name of 100 MB must
/// not become a 100 MB message).
pub fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}… ({} bytes)", &text[..cut], text.len()),
    }
}

/// Why a name is refused (without the argument's name: callers say which argument it was).
pub fn check_path(text: &str, max_len: usize) -> Result<(), String> {
    if text.is_empty() || text.len() > max_len {
        return Err(format!("{} must have 1 to {max_len} bytes", shown(text)));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("{} contains a control character", shown(text)));
    }
    if text.contains('\\') {
        return Err(format!(
            "{} contains '\\'; names use '/' between their parts",
            shown(text)
        ));
    }
    if text
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(format!(
            "{} has an empty, '.' or '..' part; names are '/'-separated non-empty parts",
            shown(text)
        ));
    }
    Ok(())
}

/// An environment id: 1 to 128 of `A-Z a-z 0-9 . _ -`, not `.` or `..` (it names a
/// directory of videos, and a URL-safe id in Metrana).
pub fn check_env_id(env_id: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if env_id.is_empty() || env_id.len() > MAX_ENV_ID_LEN {
        return Err(format!(
            "{} must have 1 to {MAX_ENV_ID_LEN} characters",
            shown(env_id)
        ));
    }
    if !env_id.chars().all(ok_char) || env_id == "." || env_id == ".." {
        return Err(format!(
            "{} may only contain letters, digits, '.', '_' and '-' (not '.' or '..')",
            shown(env_id)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_non_empty_parts_without_traversal() {
        for ok in ["loss", "train/loss", "config/optim/lr", "a.b-c_d"] {
            assert_eq!(check_path(ok, 256), Ok(()), "{ok}");
        }
        for bad in ["", "/x", "x/", "a//b", "../x", "a/./b", "a\\b", "a\nb"] {
            assert!(check_path(bad, 256).is_err(), "{bad:?} accepted");
        }
        assert!(check_path(&"x".repeat(257), 256).is_err());
    }

    #[test]
    fn env_ids_are_one_safe_path_component() {
        assert!(check_env_id("cartpole-3_a.b").is_ok());
        for bad in ["", ".", "..", "a/b", "a b", "é", &"x".repeat(129)] {
            assert!(check_env_id(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let name = "n".repeat(100_000_000);
        let message = check_path(&name, 256).unwrap_err();
        assert!(message.len() < 200, "{}", message.len());
        assert!(message.contains("100000000 bytes"));
    }
}
