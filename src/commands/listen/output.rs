//! What `listen` says to a person, kept off the request path.
//!
//! A receiver left running beside an app writes into terminals, pagers and pipes that may stop
//! reading at any moment (`tiwhook listen 2>&1 | less`, then the pager paused). So nothing a
//! request handler or the shutdown does ever writes to stdout or stderr itself: text is handed to
//! one writer thread per stream through a bounded queue, and when a queue is full the text is
//! dropped and counted. At the end, [`Output::close`] waits a bounded time for both writers and
//! then lets the process go, whatever the terminal is doing.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

/// Messages waiting for each stream at most; more are dropped and counted.
pub const QUEUE: usize = 1024;

/// The two streams a receiver writes to, each behind its own writer thread.
pub struct Output {
    stdout: Stream,
    stderr: Stream,
}

struct Stream {
    queue: mpsc::SyncSender<Vec<u8>>,
    /// Signalled once the writer has written everything it was handed, after the queue closed.
    finished: Mutex<mpsc::Receiver<()>>,
    /// Callbacks (for stdout) or messages (for stderr) not written because the stream was behind.
    dropped: AtomicU64,
}

impl Stream {
    fn spawn(name: &str, mut sink: impl Write + Send + 'static) -> Stream {
        let (queue, texts) = mpsc::sync_channel::<Vec<u8>>(QUEUE);
        let (done, finished) = mpsc::channel();
        let spawned = std::thread::Builder::new().name(format!("listen-{name}")).spawn(move || {
            for text in texts {
                // A closed stream loses the display only; everything else goes on.
                let _ = sink.write_all(&text).and_then(|()| sink.flush());
            }
            let _ = done.send(());
        });
        if spawned.is_err() {
            // No thread, no output: the receiver itself still works.
            let (queue, _) = mpsc::sync_channel(0);
            return Stream { queue, finished: Mutex::new(mpsc::channel().1), dropped: AtomicU64::new(0) };
        }
        Stream { queue, finished: Mutex::new(finished), dropped: AtomicU64::new(0) }
    }

    fn send(&self, text: Vec<u8>, weight: u64) {
        if text.is_empty() {
            return;
        }
        if self.queue.try_send(text).is_err() {
            self.dropped.fetch_add(weight, Ordering::Relaxed);
        }
    }
}

impl Output {
    /// Writer threads for the process's stdout and stderr.
    pub fn start() -> Output {
        Output::with(io::stdout(), io::stderr())
    }

    /// Writer threads for any two sinks (tests use buffers).
    pub fn with(stdout: impl Write + Send + 'static, stderr: impl Write + Send + 'static) -> Output {
        Output { stdout: Stream::spawn("stdout", stdout), stderr: Stream::spawn("stderr", stderr) }
    }

    /// Hands rendered reports to stdout; `reports` is how many callbacks they show, counted as
    /// not shown when the output is behind.
    pub fn show(&self, text: Vec<u8>, reports: u64) {
        self.stdout.send(text, reports);
    }

    /// Hands one message to stderr, prefixed `tiwhook: ` and ended with a line feed.
    pub fn say(&self, message: impl std::fmt::Display) {
        self.stderr.send(format!("tiwhook: {message}\n").into_bytes(), 1);
    }

    /// Callbacks not shown because stdout was behind.
    pub fn not_shown(&self) -> u64 {
        self.stdout.dropped.load(Ordering::Relaxed)
    }

    /// Messages not said because stderr was behind.
    pub fn not_said(&self) -> u64 {
        self.stderr.dropped.load(Ordering::Relaxed)
    }

    /// Closes both streams and waits until their writers are done or `grace` has passed; true
    /// when everything handed over was written. A writer still blocked is left behind.
    pub fn close(self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        let Output { stdout, stderr } = self;
        drop(stdout.queue);
        drop(stderr.queue);
        [stdout.finished, stderr.finished].into_iter().all(|finished| {
            let left = deadline.saturating_duration_since(Instant::now());
            finished.into_inner().is_ok_and(|finished| finished.recv_timeout(left).is_ok())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A sink that blocks every write until it is released.
    struct Stuck(Arc<Mutex<()>>);
    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let _held = self.0.lock().unwrap();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_stream_drops_and_counts_and_never_holds_the_caller() {
        let gate = Arc::new(Mutex::new(()));
        let held = gate.lock().unwrap();
        let output = Output::with(Stuck(gate.clone()), Stuck(gate.clone()));
        let started = Instant::now();
        for _ in 0..QUEUE + 10 {
            output.show(b"report\n".to_vec(), 1);
            output.say("a message");
        }
        assert!(output.not_shown() >= 9, "{}", output.not_shown());
        assert!(output.not_said() >= 9);
        assert!(!output.close(Duration::from_millis(100)), "the writers are stuck");
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(held);
    }

    #[test]
    fn everything_handed_over_is_written_before_close_returns() {
        #[derive(Clone, Default)]
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let (out, err) = (Shared::default(), Shared::default());
        let output = Output::with(out.clone(), err.clone());
        output.show(b"one\n".to_vec(), 1);
        output.say("two");
        assert!(output.close(Duration::from_secs(5)));
        assert_eq!(&*out.0.lock().unwrap(), b"one\n");
        assert_eq!(&*err.0.lock().unwrap(), b"tiwhook: two\n");
    }
}
