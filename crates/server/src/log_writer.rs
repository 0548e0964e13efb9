//! Where the log lines go: stderr, written in batches by a thread of their own.
//!
//! Every request logs a line. Written one `write` at a time (or handed one by one to a writer
//! thread, which then wakes for each), the lines cost about a tenth of the server's throughput
//! under load (docs/performance.md). Here a line is appended to a shared buffer under a mutex, and
//! the thread writes the whole buffer every [`FLUSH_INTERVAL`]: one system call for hundreds of
//! lines, and no wake-up per line. Lines stay whole (each is appended in one piece) and in order.
//!
//! Memory is bounded: a line that finds the buffer past [`MAX_BUFFERED`] writes the buffer itself
//! before it goes on, so a stalled stderr slows logging down instead of growing the buffer.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line waits at most before it is written.
const FLUSH_INTERVAL: Duration = Duration::from_millis(50);
/// The most the buffer holds before a logging thread writes it itself.
const MAX_BUFFERED: usize = 1 << 20;

#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    buffer: Mutex<Buffer>,
    /// Signalled at close, so the thread writes the rest at once.
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // A thread that panicked while appending left whole lines or none: go on.
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Writes `bytes` to stderr. Logging has nowhere to report its own failure.
fn write_out(bytes: &[u8]) {
    let _ = std::io::stderr().lock().write_all(bytes);
}

/// The `MakeWriter` for tracing-subscriber: each event is formatted into a line of its own and
/// appended whole.
#[derive(Clone)]
pub struct BatchedStderr {
    shared: Arc<Shared>,
}

/// Writes what is buffered and stops the thread when dropped (at the end of `main`).
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// The writer and its guard; starts the writing thread.
pub fn batched_stderr() -> (BatchedStderr, FlushGuard) {
    let shared = Arc::new(Shared::default());
    let for_thread = shared.clone();
    let thread = std::thread::Builder::new()
        .name("ferrokms-log".to_owned())
        .spawn(move || run(&for_thread))
        .ok();
    let writer = BatchedStderr {
        shared: shared.clone(),
    };
    (writer, FlushGuard { shared, thread })
}

fn run(shared: &Shared) {
    let mut out = Vec::new();
    loop {
        let closed = {
            let buffer = shared.lock();
            let (mut buffer, _) = shared
                .wake
                .wait_timeout_while(buffer, FLUSH_INTERVAL, |b| !b.closed)
                .unwrap_or_else(|e| e.into_inner());
            std::mem::swap(&mut out, &mut buffer.bytes);
            buffer.closed
        };
        if !out.is_empty() {
            write_out(&out);
            out.clear();
        }
        if closed {
            return;
        }
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
        match self.thread.take() {
            Some(thread) => {
                let _ = thread.join();
            }
            // The thread never started: write what is there.
            None => write_out(&std::mem::take(&mut self.shared.lock().bytes)),
        }
    }
}

/// One event's line, appended when the formatter is done with it.
pub struct Line {
    shared: Arc<Shared>,
    bytes: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.bytes.is_empty() {
            return;
        }
        let mut buffer = self.shared.lock();
        // After close (or without a thread) nobody else writes: write at once.
        if buffer.closed {
            drop(buffer);
            write_out(&self.bytes);
            return;
        }
        if buffer.bytes.len() >= MAX_BUFFERED {
            let full = std::mem::take(&mut buffer.bytes);
            drop(buffer);
            write_out(&full);
            buffer = self.shared.lock();
        }
        buffer.bytes.extend_from_slice(&self.bytes);
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedStderr {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            shared: self.shared.clone(),
            bytes: Vec::with_capacity(256),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::fmt::MakeWriter;

    #[test]
    fn lines_are_kept_whole_and_in_order_until_written() {
        let (writer, guard) = batched_stderr();
        for n in 0..3 {
            let mut line = writer.make_writer();
            write!(line, "line {n}").expect("write");
            line.write_all(b"\n").expect("write");
        }
        // Some lines may be written already (every 50 ms): what is left is the last ones, whole.
        let all = "line 0\nline 1\nline 2\n";
        let buffered = String::from_utf8(guard.shared.lock().bytes.clone()).expect("utf-8");
        assert!(all.ends_with(&buffered), "{buffered:?}");
        assert!(
            buffered.is_empty() || buffered.starts_with("line "),
            "{buffered:?}"
        );
        let shared = guard.shared.clone();
        drop(guard);
        assert!(shared.lock().bytes.is_empty(), "the guard writes the rest");
    }
}
