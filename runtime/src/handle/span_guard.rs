//! `Runtime::span`: a guard that parents spans on the current thread and stops on drop.

use std::cell::RefCell;

use super::Runtime;
use crate::error::EnqueueError;
use crate::model::{Attributes, Name, SpanContext};

thread_local! {
    // (runtime identity, span): a thread's stack of open guard spans.
    static CURRENT: RefCell<Vec<(usize, SpanContext)>> = const { RefCell::new(Vec::new()) };
}

/// An open span that stops when dropped. Spans opened while it lives on the same thread become
/// its children.
///
/// ```
/// use telemetron_runtime::{Runtime, RuntimeConfig};
/// let runtime = Runtime::start(RuntimeConfig::default()).unwrap();
/// {
///     let _epoch = runtime.span("epoch").unwrap();
///     let step = runtime.span("step").unwrap();
///     assert_eq!(step.parent().map(|p| p.span_id), Some(_epoch.context().span_id));
/// }
/// runtime.close(std::time::Duration::from_secs(5)).unwrap();
/// ```
pub struct SpanGuard {
    runtime: Runtime,
    context: SpanContext,
    parent: Option<SpanContext>,
}

impl SpanGuard {
    /// The span's context.
    pub fn context(&self) -> SpanContext {
        self.context
    }

    /// Its parent, if it has one.
    pub fn parent(&self) -> Option<SpanContext> {
        self.parent
    }
}

impl Runtime {
    fn identity(&self) -> usize {
        std::sync::Arc::as_ptr(&self.inner) as usize
    }

    /// The innermost open [`SpanGuard`] span of this thread, if any.
    pub fn current_span(&self) -> Option<SpanContext> {
        let me = self.identity();
        CURRENT.with(|c| {
            c.borrow()
                .iter()
                .rev()
                .find(|(id, _)| *id == me)
                .map(|(_, s)| *s)
        })
    }

    /// Opens a span under the thread's current span; it stops when the guard drops.
    pub fn span(&self, name: impl Into<Name>) -> Result<SpanGuard, EnqueueError> {
        self.span_with(name, Attributes::new())
    }

    /// [`Runtime::span`] with span attributes.
    pub fn span_with(
        &self,
        name: impl Into<Name>,
        attributes: Attributes,
    ) -> Result<SpanGuard, EnqueueError> {
        let parent = self.current_span();
        let context = self.start_span(name, parent, attributes)?;
        CURRENT.with(|c| c.borrow_mut().push((self.identity(), context)));
        Ok(SpanGuard {
            runtime: self.clone(),
            context,
            parent,
        })
    }
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        let ctx = self.context;
        CURRENT.with(|c| {
            let mut stack = c.borrow_mut();
            if let Some(pos) = stack.iter().rposition(|(_, s)| *s == ctx) {
                stack.remove(pos);
            }
        });
        if let Err(e) = self.runtime.stop_span(ctx, Attributes::new()) {
            tracing::debug!(target: "telemetron", "span {} not stopped: {e}", ctx.span_id);
        }
    }
}
