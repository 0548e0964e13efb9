//! Reading log files line by line in bounded memory, for recovery,
//! verification and query alike.
//!
//! A line longer than [`MAX_LINE`] is not kept (a record is never that
//! long; a tampered file might be), but its bytes still count towards the
//! file's hash and offsets.

use std::io::{self, BufRead};

use ferrokms_crypto::Sha256Hasher;

use crate::record::Hash;

/// Longest line kept in memory (16 MiB).
pub(crate) const MAX_LINE: usize = 16 << 20;

/// Where a line was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    /// 1-based line number.
    pub no: u64,
    /// Byte offset of the line's first byte.
    pub start: u64,
    /// Byte offset just past the line (and its newline, if any).
    pub end: u64,
    /// Whether the line ends with a newline (only the last may not).
    pub complete: bool,
    /// Whether the line exceeded [`MAX_LINE`] and was not kept.
    pub oversize: bool,
}

/// Splits a reader into lines, optionally hashing every byte read.
pub(crate) struct LineReader<R> {
    inner: R,
    hasher: Option<Sha256Hasher>,
    offset: u64,
    line_no: u64,
}

impl<R: BufRead> LineReader<R> {
    /// A reader that also computes the SHA-256 of everything read when
    /// `hash` is set.
    pub fn new(inner: R, hash: bool) -> Self {
        Self {
            inner,
            hasher: hash.then(Sha256Hasher::new),
            offset: 0,
            line_no: 0,
        }
    }

    /// The next line into `buf` (cleared first, newline not included), or
    /// `None` at the end of the file.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Line>> {
        buf.clear();
        let start = self.offset;
        let mut complete = false;
        let mut oversize = false;
        loop {
            let available = self.inner.fill_buf()?;
            if available.is_empty() {
                break;
            }
            let (take, found) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            let chunk = &available[..take];
            if let Some(h) = self.hasher.as_mut() {
                h.update(chunk);
            }
            let content = if found { &chunk[..take - 1] } else { chunk };
            if buf.len() + content.len() > MAX_LINE {
                oversize = true;
                buf.clear();
            } else if !oversize {
                buf.extend_from_slice(content);
            }
            self.offset += take as u64;
            self.inner.consume(take);
            if found {
                complete = true;
                break;
            }
        }
        if self.offset == start {
            return Ok(None);
        }
        self.line_no += 1;
        Ok(Some(Line {
            no: self.line_no,
            start,
            end: self.offset,
            complete,
            oversize,
        }))
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The SHA-256 of everything read (of nothing if hashing was off).
    pub fn finish(self) -> Hash {
        self.hasher.unwrap_or_default().finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_and_hashes_every_byte() {
        let data = b"one\ntwo\n\nthree";
        let mut r = LineReader::new(io::BufReader::with_capacity(2, &data[..]), true);
        let mut buf = Vec::new();
        let mut seen = Vec::new();
        while let Some(line) = r.next_line(&mut buf).expect("read") {
            seen.push((String::from_utf8(buf.clone()).expect("utf8"), line));
        }
        assert_eq!(seen.len(), 4);
        assert_eq!(seen[0].0, "one");
        assert_eq!(seen[1].1.start, 4);
        assert_eq!(seen[2].0, "");
        assert_eq!(seen[3].0, "three");
        assert!(seen[2].1.complete && !seen[3].1.complete);
        assert_eq!(seen[3].1.end, data.len() as u64);
        assert_eq!(r.finish(), ferrokms_crypto::sha256(data));
    }
}
