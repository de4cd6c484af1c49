//! Property tests of the W3C `traceparent` parser: any input gives a value or a typed error
//! (never a panic), every valid header round-trips, and near-misses of a valid header (one
//! character changed, cut, or extended) are judged exactly as the rules say.
//!
//! Cases per property: 256 in `make test`; `make fuzz` sets `TELEMETRON_FUZZ_CASES`. A failing
//! case is saved under `proptest-regressions/` (commit it: it is replayed first from then on).

use proptest::prelude::*;
use telemetron_runtime::model::SpanContext;

fn cases() -> u32 {
    std::env::var("TELEMETRON_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// The rules, written out independently of the parser.
fn valid(header: &str) -> bool {
    let fields: Vec<&str> = header.trim().split('-').collect();
    let hex = |f: &str, n: usize| {
        f.len() == n
            && f.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if fields.len() < 4 || !hex(fields[0], 2) || fields[0] == "ff" {
        return false;
    }
    if fields[0] == "00" && fields.len() != 4 {
        return false;
    }
    hex(fields[1], 32)
        && hex(fields[2], 16)
        && hex(fields[3], 2)
        && fields[1] != "0".repeat(32)
        && fields[2] != "0".repeat(16)
}

fn header() -> impl Strategy<Value = String> {
    (1u128.., 1u64.., any::<u8>())
        .prop_map(|(trace, span, flags)| format!("00-{trace:032x}-{span:016x}-{flags:02x}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn fuzz_traceparent_any_text_is_judged_without_panicking(text in any::<String>()) {
        let parsed = SpanContext::from_traceparent(&text);
        prop_assert_eq!(parsed.is_ok(), valid(&text), "{:?}", text);
    }

    #[test]
    fn fuzz_traceparent_hex_soup_is_judged_by_the_rules(text in "[0-9a-fA-F-]{0,70}") {
        prop_assert_eq!(SpanContext::from_traceparent(&text).is_ok(), valid(&text), "{:?}", text);
    }

    #[test]
    fn fuzz_traceparent_valid_headers_round_trip(header in header()) {
        let ctx = SpanContext::from_traceparent(&header).unwrap();
        let again = SpanContext::from_traceparent(&ctx.traceparent()).unwrap();
        prop_assert_eq!(ctx, again);
        prop_assert_eq!(&ctx.traceparent()[..53], &header[..53]);
    }

    #[test]
    fn fuzz_traceparent_near_misses(
        header in header(),
        at in 0usize..55,
        replacement in any::<char>(),
        cut in 0usize..56,
        suffix in "(-[0-9a-z]{0,4}){0,2}",
    ) {
        let mut chars: Vec<char> = header.chars().collect();
        chars[at] = replacement;
        let changed: String = chars.into_iter().collect();
        let cut_short = &header[..cut.min(header.len())];
        let extended = format!("{header}{suffix}");
        for text in [changed.as_str(), cut_short, extended.as_str()] {
            prop_assert_eq!(SpanContext::from_traceparent(text).is_ok(), valid(text), "{:?}", text);
        }
    }
}
