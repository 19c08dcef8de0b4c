//! A plugin's standard error as its log: each line it writes there becomes
//! a WARN line of its log, under the same limits as the `log` import (a
//! Python plugin's traceback says where an exception came from, before the
//! call traps). Standard output stays discarded.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::engine::logs::{Admit, LogLimiter};

/// A line longer than this is logged in parts.
const MAX_LINE: usize = 4096;

/// The standard error of one instance.
#[derive(Clone)]
pub(crate) struct StderrLog(Arc<Mutex<Lines>>);

struct Lines {
    plugin: Arc<str>,
    logs: Arc<LogLimiter>,
    pending: Vec<u8>,
}

impl StderrLog {
    pub(crate) fn new(plugin: Arc<str>, logs: Arc<LogLimiter>) -> Self {
        Self(Arc::new(Mutex::new(Lines {
            plugin,
            logs,
            pending: Vec::new(),
        })))
    }

    fn write(&self, bytes: &[u8]) {
        let mut lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        lines.pending.extend_from_slice(bytes);
        while let Some(end) = lines
            .pending
            .iter()
            .position(|b| *b == b'\n')
            .or_else(|| (lines.pending.len() >= MAX_LINE).then_some(MAX_LINE))
        {
            let line: Vec<u8> = lines.pending.drain(..end).collect();
            if lines.pending.first() == Some(&b'\n') {
                lines.pending.remove(0);
            }
            lines.emit(&String::from_utf8_lossy(&line));
        }
    }
}

impl Lines {
    fn emit(&self, line: &str) {
        let line = line.trim_end();
        if line.is_empty() {
            return;
        }
        let plugin = &*self.plugin;
        match self.logs.admit(line) {
            Admit::Log(line) => tracing::warn!(target: "plugin", plugin, "stderr: {line}"),
            Admit::Drop(None) => {}
            Admit::Drop(Some(summary)) => tracing::warn!(target: "plugin", plugin, "{summary}"),
        }
    }
}

impl IsTerminal for StderrLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrLog {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for StderrLog {
    async fn ready(&mut self) {}
}

impl OutputStream for StderrLog {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        StderrLog::write(self, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for StderrLog {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.write(bytes);
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::LogSettings;

    #[test]
    fn lines_are_split_at_newlines_and_long_ones_cut() {
        let logs = Arc::new(LogLimiter::new(LogSettings::default()));
        let stderr = StderrLog::new("p".into(), logs);
        stderr.write(b"Traceback (most recent call last):\n  File \"app.py\"");
        assert_eq!(stderr.0.lock().unwrap().pending, b"  File \"app.py\"");
        stderr.write(b", line 3\n");
        assert!(stderr.0.lock().unwrap().pending.is_empty());
        stderr.write(&vec![b'x'; MAX_LINE + 10]);
        assert_eq!(stderr.0.lock().unwrap().pending.len(), 10);
    }
}
