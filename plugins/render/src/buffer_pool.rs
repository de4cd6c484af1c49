//! Frame buffers recycled from the shards back to callers.
//!
//! Copying a 256x256 RGB frame into memory the process already touched costs ≈ 15 µs; into
//! fresh memory ≈ 115 µs, nearly all of it the kernel faulting in and zeroing 48 pages. The
//! shards hand each encoded frame's buffer back here, up to a byte budget
//! (`rendering_buffer_pool_mb`), so only a renderer's first burst pays for fresh memory. The
//! pool is a stack: the buffer returned last is the likeliest to still be in a cache.

use parking_lot::Mutex;

pub(crate) struct BufferPool {
    stack: Mutex<Stack>,
    budget: usize,
}

#[derive(Default)]
struct Stack {
    buffers: Vec<Vec<u8>>,
    /// Bytes of capacity in `buffers`.
    bytes: usize,
}

impl BufferPool {
    /// A pool holding at most `budget` bytes; `budget == 0` disables pooling.
    pub(crate) fn new(budget: usize) -> Self {
        BufferPool {
            stack: Mutex::new(Stack::default()),
            budget,
        }
    }

    /// An empty buffer with room for `len` bytes: a pooled one when it is big enough.
    pub(crate) fn take(&self, len: usize) -> Vec<u8> {
        let pooled = {
            let mut stack = self.stack.lock();
            let buffer = stack.buffers.pop();
            if let Some(b) = &buffer {
                stack.bytes -= b.capacity();
            }
            buffer
        };
        match pooled {
            Some(mut buffer) if buffer.capacity() >= len => {
                buffer.clear();
                buffer
            }
            _ => Vec::with_capacity(len),
        }
    }

    /// Keeps a buffer for reuse, or frees it when the pool is at its budget.
    pub(crate) fn give(&self, buffer: Vec<u8>) {
        let mut stack = self.stack.lock();
        if stack.bytes + buffer.capacity() <= self.budget {
            stack.bytes += buffer.capacity();
            stack.buffers.push(buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_last_in_first_out_within_the_budget() {
        let pool = BufferPool::new(1000);
        let (a, b): (Vec<u8>, Vec<u8>) = (Vec::with_capacity(400), Vec::with_capacity(400));
        let b_ptr = b.as_ptr();
        pool.give(a);
        pool.give(b);
        pool.give(Vec::with_capacity(400)); // over budget: freed
        let again = pool.take(50);
        assert_eq!((again.as_ptr(), again.len()), (b_ptr, 0));
        pool.take(50);
        assert!(pool.take(50).capacity() >= 50, "empty pool: a fresh buffer");
        pool.give(Vec::with_capacity(10));
        assert!(
            pool.take(100).capacity() >= 100,
            "too small: a fresh buffer"
        );
    }

    #[test]
    fn a_zero_budget_keeps_nothing() {
        let pool = BufferPool::new(0);
        pool.give(Vec::with_capacity(100));
        assert!(pool.stack.lock().buffers.is_empty());
    }
}
