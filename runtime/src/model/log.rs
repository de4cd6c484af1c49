//! Log records: OpenTelemetry's severity scale, a body, attributes and the span context.

use super::{Attributes, Name, SpanContext, Timestamp};

/// OpenTelemetry severity number, 1 (TRACE) to 24 (FATAL4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Severity(u8);

impl Severity {
    /// 1
    pub const TRACE: Severity = Severity(1);
    /// 5
    pub const DEBUG: Severity = Severity(5);
    /// 9
    pub const INFO: Severity = Severity(9);
    /// 13
    pub const WARN: Severity = Severity(13);
    /// 17
    pub const ERROR: Severity = Severity(17);
    /// 21
    pub const FATAL: Severity = Severity(21);

    /// A severity number; `None` outside 1..=24.
    pub fn new(number: u8) -> Option<Severity> {
        (1..=24).contains(&number).then_some(Severity(number))
    }

    /// Python's `logging` levels: 10 DEBUG → 5, 20 INFO → 9, 30 WARNING → 13, 40 ERROR → 17,
    /// 50 CRITICAL → 21; levels between step within the range (25 → INFO3), below 10 is TRACE.
    pub fn from_python_level(level: i64) -> Severity {
        match level {
            i64::MIN..=9 => Severity::TRACE,
            50.. => Severity(21 + ((level - 50) / 3).min(3) as u8),
            _ => Severity(5 + 4 * ((level - 10) / 10) as u8 + (((level % 10) * 4) / 10) as u8),
        }
    }

    /// The number.
    pub fn number(self) -> u8 {
        self.0
    }

    /// `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` or `FATAL` (the range the number falls in).
    pub fn text(self) -> &'static str {
        match self.0 {
            1..=4 => "TRACE",
            5..=8 => "DEBUG",
            9..=12 => "INFO",
            13..=16 => "WARN",
            17..=20 => "ERROR",
            _ => "FATAL",
        }
    }
}

/// One log record.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    /// When it was emitted.
    pub time: Timestamp,
    /// How severe.
    pub severity: Severity,
    /// The message.
    pub body: String,
    /// The logger (instrumentation scope) that emitted it, e.g. `trainer.data`.
    pub logger: Name,
    /// The span it was emitted in, if any (possibly a remote parent).
    pub span: Option<SpanContext>,
    /// Its attributes (`code.*`, `exception.*`, extras).
    pub attributes: Attributes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_levels_map_to_otel_severities() {
        let map = |l| Severity::from_python_level(l);
        assert_eq!(map(0), Severity::TRACE);
        assert_eq!(map(10), Severity::DEBUG);
        assert_eq!(map(20), Severity::INFO);
        assert_eq!(map(25), Severity(11));
        assert_eq!(map(30), Severity::WARN);
        assert_eq!(map(40), Severity::ERROR);
        assert_eq!(map(50), Severity::FATAL);
        assert_eq!(map(1000), Severity(24));
        assert_eq!(map(25).text(), "INFO");
        assert_eq!(Severity::new(0), None);
        assert_eq!(Severity::new(25), None);
    }
}
