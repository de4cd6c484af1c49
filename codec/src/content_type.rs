//! The content type that names this encoding and its major version (a Kafka header, an HTTP
//! `Content-Type`, a spool file's header).

use crate::{CodecError, SCHEMA_MAJOR};

/// The media type without parameters.
pub const MEDIA_TYPE: &str = "application/x-telemetron-records";

/// The full content type of what [`encode`](crate::encode) writes.
pub const CONTENT_TYPE: &str = "application/x-telemetron-records; v=1";

/// Accepts `application/x-telemetron-records; v=N` with N at most [`SCHEMA_MAJOR`] (parameters
/// in any order, case-insensitive media type, spaces ignored) and returns N.
///
/// ```
/// use telemetron_codec::{check_content_type, CodecError};
/// assert_eq!(check_content_type("application/x-telemetron-records; v=1"), Ok(1));
/// assert!(matches!(
///     check_content_type("application/x-telemetron-records;v=2"),
///     Err(CodecError::NewerMajor { found: 2, .. })
/// ));
/// assert!(check_content_type("application/x-protobuf").is_err());
/// ```
pub fn check_content_type(value: &str) -> Result<u32, CodecError> {
    let refused = || CodecError::ContentType(value.to_string());
    let mut parts = value.split(';').map(str::trim);
    let media = parts.next().ok_or_else(refused)?;
    if !media.eq_ignore_ascii_case(MEDIA_TYPE) {
        return Err(refused());
    }
    let version = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("v"))
        .map(|(_, v)| v.trim().trim_matches('"'))
        .ok_or_else(refused)?;
    let major: u32 = version.parse().map_err(|_| refused())?;
    if major == 0 {
        return Err(refused());
    }
    if major > SCHEMA_MAJOR {
        return Err(CodecError::NewerMajor {
            found: major,
            supported: SCHEMA_MAJOR,
        });
    }
    Ok(major)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_case_are_flexible_and_the_version_is_required() {
        assert_eq!(check_content_type(CONTENT_TYPE), Ok(1));
        assert_eq!(
            check_content_type("Application/X-Telemetron-Records;charset=x; v=\"1\""),
            Ok(1)
        );
        for bad in [
            "",
            "application/x-telemetron-records",
            "application/x-telemetron-records; v=one",
            "application/x-telemetron-records; v=0",
            "application/json; v=1",
        ] {
            assert_eq!(
                check_content_type(bad),
                Err(CodecError::ContentType(bad.into())),
                "{bad:?}"
            );
        }
    }
}
