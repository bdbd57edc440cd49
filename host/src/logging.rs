//! Where the server's log goes: standard error, one line per event. A message a client or a
//! plugin wrote (a mail's charset parameter, a plugin's log line, a trap's stderr) may hold line
//! breaks; inside an event they are written as `\n` and `\r`, so nothing can forge a line of
//! its own in the text log. (The JSON log escapes them anyway.)

use std::io::{self, Write};
use tracing_subscriber::fmt::MakeWriter;

/// Standard error, each event on one line.
#[derive(Debug, Clone, Copy, Default)]
pub struct OneLine;

impl<'a> MakeWriter<'a> for OneLine {
    type Writer = OneLineWriter<io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        OneLineWriter(io::stderr())
    }
}

/// Writes what it is given to `W` with every line break but a final one escaped: an event is
/// formatted whole, then written at once.
#[derive(Debug)]
pub struct OneLineWriter<W>(pub W);

impl<W: Write> Write for OneLineWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (body, end): (&[u8], &[u8]) = match buf.split_last() {
            Some((b'\n', body)) => (body, b"\n"),
            _ => (buf, b""),
        };
        let mut out = Vec::with_capacity(buf.len() + 8);
        for &b in body {
            match b {
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b => out.push(b),
            }
        }
        out.extend_from_slice(end);
        self.0.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_stays_on_one_line_whatever_it_carries() {
        let mut w = OneLineWriter(Vec::new());
        w.write_all(b"INFO plugin: ok\n2026-01-01T00:00:00Z ERROR forged\r\n")
            .unwrap();
        w.write_all(b"INFO next\n").unwrap();
        let text = String::from_utf8(w.0).unwrap();
        assert_eq!(
            text,
            "INFO plugin: ok\\n2026-01-01T00:00:00Z ERROR forged\\r\nINFO next\n"
        );
        assert_eq!(text.lines().count(), 2);
    }
}
