//! Log lines on stderr for long-running commands (`relay`): Telemetron's own at the chosen
//! level, other libraries' warnings and errors, every line passed through the secret redactor
//! (a backend's error may quote a configured password).

use std::io::Write;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::args::LogLevel;

/// Installs the subscriber, unless the process already has one (the Python module's host).
pub(crate) fn init(level: LogLevel) {
    let level = match level {
        LogLevel::Error => tracing::Level::ERROR,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Debug => tracing::Level::DEBUG,
    };
    let filter = Targets::new()
        .with_target("telemetron", level)
        .with_default(tracing::Level::WARN.min(level));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(RedactedStderr)
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
}

/// Each log line is collected, redacted, then written to stderr in one call.
struct RedactedStderr;

struct Line(Vec<u8>);

impl<'a> MakeWriter<'a> for RedactedStderr {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line(Vec::with_capacity(256))
    }
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let text = telemetron::redact::redact_text(&String::from_utf8_lossy(&self.0));
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}
