//! What `listen` says to a person, kept off the request path.
//!
//! A receiver left running beside an app writes into terminals, pagers and pipes that may stop
//! reading at any moment (`tiwhook listen 2>&1 | less`, then the pager paused). So nothing a
//! request handler or the shutdown does ever writes to stdout or stderr itself: text is handed to
//! one writer thread per stream through a bounded queue, and when a queue is full the text is
//! dropped and counted. At the end, [`Output::flush`] waits a bounded time for both writers and
//! then lets the process go, whatever the terminal is doing.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Messages waiting for each stream at most; more are dropped and counted.
pub const QUEUE: usize = 1024;

/// The two streams a receiver writes to, each behind its own writer thread.
pub struct Output {
    stdout: Stream,
    stderr: Stream,
}

struct Stream {
    queue: mpsc::SyncSender<Message>,
    /// Callbacks (for stdout) or messages (for stderr) not written because the stream was behind.
    dropped: AtomicU64,
}

enum Message {
    Text(Vec<u8>),
    /// Everything before has been written (or failed): tell the sender.
    Flushed(mpsc::Sender<()>),
}

impl Stream {
    fn spawn(name: &str, mut sink: impl Write + Send + 'static) -> Stream {
        let (queue, messages) = mpsc::sync_channel::<Message>(QUEUE);
        // Without a thread there is no output; the receiver itself still works.
        let _ = std::thread::Builder::new().name(format!("listen-{name}")).spawn(move || {
            for message in messages {
                match message {
                    // A closed stream loses the display only; everything else goes on.
                    Message::Text(text) => {
                        let _ = sink.write_all(&text).and_then(|()| sink.flush());
                    }
                    Message::Flushed(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        Stream { queue, dropped: AtomicU64::new(0) }
    }

    fn send(&self, text: Vec<u8>, weight: u64) {
        if text.is_empty() {
            return;
        }
        if self.queue.try_send(Message::Text(text)).is_err() {
            self.dropped.fetch_add(weight, Ordering::Relaxed);
        }
    }

    /// Waits until the writer has written everything handed to it so far, or `deadline`.
    fn flush(&self, deadline: Instant) -> bool {
        let (done, flushed) = mpsc::channel();
        let mut marker = Message::Flushed(done);
        loop {
            match self.queue.try_send(marker) {
                Ok(()) => break,
                Err(mpsc::TrySendError::Full(back)) if Instant::now() < deadline => {
                    marker = back;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => return false,
            }
        }
        flushed.recv_timeout(deadline.saturating_duration_since(Instant::now())).is_ok()
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

    /// Waits until both writers have written everything handed to them, or until `grace` has
    /// passed; true when everything was written. A writer still blocked is left behind (the
    /// process may exit under it).
    pub fn flush(&self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        let out = self.stdout.flush(deadline);
        let err = self.stderr.flush(deadline);
        out && err
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

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
        assert!(!output.flush(Duration::from_millis(100)), "the writers are stuck");
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
        assert!(output.flush(Duration::from_secs(5)));
        assert_eq!(&*out.0.lock().unwrap(), b"one\n");
        assert_eq!(&*err.0.lock().unwrap(), b"tiwhook: two\n");
    }
}
