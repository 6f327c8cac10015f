//! Text encodings of exported files: UTF-8 with or without a byte order mark, and
//! UTF-16 (PowerShell 5 `Export-Csv -Encoding Unicode`, Excel "Unicode text") little-
//! or big-endian, with a BOM or recognised by its zero bytes. Everything is turned
//! into a UTF-8 byte stream; invalid UTF-8 is left for the parsers to report with
//! its line and column, invalid UTF-16 stops the read with its byte offset.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// The encoding a file was read as (recorded in the manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8 with BOM",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
        }
    }
}

/// Opens `path` and returns its encoding and a UTF-8 reader positioned after any BOM.
pub fn open(path: &Path) -> io::Result<(Encoding, Box<dyn BufRead>)> {
    let mut file = BufReader::with_capacity(256 * 1024, File::open(path)?);
    let head = file.fill_buf()?;
    let (encoding, bom) = sniff(head);
    file.consume(bom);
    let reader: Box<dyn BufRead> = match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => Box::new(file),
        Encoding::Utf16Le | Encoding::Utf16Be => Box::new(BufReader::with_capacity(
            256 * 1024,
            Utf16Reader::new(file, encoding == Encoding::Utf16Le, bom as u64),
        )),
    };
    Ok((encoding, reader))
}

/// The encoding of a file starting with `head`, and the length of its BOM.
fn sniff(head: &[u8]) -> (Encoding, usize) {
    match head {
        [0xEF, 0xBB, 0xBF, ..] => (Encoding::Utf8Bom, 3),
        [0xFF, 0xFE, ..] => (Encoding::Utf16Le, 2),
        [0xFE, 0xFF, ..] => (Encoding::Utf16Be, 2),
        // BOM-less UTF-16 of ASCII text: every other byte is zero.
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 => (Encoding::Utf16Le, 0),
        [0, a, 0, b, ..] if *a != 0 && *b != 0 => (Encoding::Utf16Be, 0),
        _ => (Encoding::Utf8, 0),
    }
}

/// Streams UTF-16 as UTF-8, strictly: an unpaired surrogate is an error.
struct Utf16Reader<R> {
    inner: R,
    little_endian: bool,
    /// Byte offset in the file of the next unit (for error messages).
    offset: u64,
    pending: Vec<u8>,
    pos: usize,
    /// Undecoded bytes: the tail of the last chunk (an odd byte, a high surrogate).
    raw: Vec<u8>,
    done: bool,
}

impl<R: Read> Utf16Reader<R> {
    fn new(inner: R, little_endian: bool, offset: u64) -> Self {
        Self {
            inner,
            little_endian,
            offset,
            pending: Vec::new(),
            pos: 0,
            raw: Vec::with_capacity(64 * 1024),
            done: false,
        }
    }

    fn unit(&self, c: &[u8]) -> u16 {
        if self.little_endian {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    }

    /// Decodes the next chunk into `pending`.
    fn refill(&mut self) -> io::Result<()> {
        self.pending.clear();
        self.pos = 0;
        let kept = self.raw.len();
        self.raw.resize(kept + 64 * 1024, 0);
        let n = loop {
            match self.inner.read(&mut self.raw[kept..]) {
                Ok(k) => break k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.raw.truncate(kept + n);
        let eof = n == 0;
        let mut usable = self.raw.len() - self.raw.len() % 2;
        if eof {
            self.done = true;
            if usable < self.raw.len() {
                return Err(invalid(format!(
                    "the UTF-16 text ends in half a character at byte {}",
                    self.offset + usable as u64
                )));
            }
        } else if usable >= 2
            && (0xD800..0xDC00).contains(&self.unit(&self.raw[usable - 2..usable]))
        {
            // A high surrogate waits for its pair in the next chunk.
            usable -= 2;
        }
        let units: Vec<u16> = self.raw[..usable]
            .chunks_exact(2)
            .map(|c| self.unit(c))
            .collect();
        for r in char::decode_utf16(units.iter().copied()) {
            match r {
                Ok(c) => {
                    let mut buf = [0u8; 4];
                    self.pending
                        .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    self.offset += 2 * c.len_utf16() as u64;
                }
                Err(_) => {
                    return Err(invalid(format!(
                        "invalid UTF-16 (unpaired surrogate) at byte {}",
                        self.offset
                    )))
                }
            }
        }
        self.raw.drain(..usable);
        Ok(())
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.pending.len() {
            if self.done {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = out.len().min(self.pending.len() - self.pos);
        out[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], le: bool) -> io::Result<String> {
        let mut out = String::new();
        Utf16Reader::new(bytes, le, 2).read_to_string(&mut out)?;
        Ok(out)
    }

    #[test]
    fn utf16_streams_to_utf8_across_chunks_and_rejects_lone_surrogates() {
        // Surrogate pairs (emoji) straddle the 64 KiB chunk boundary somewhere.
        let text = "東京,😀\r\n".repeat(20_000);
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode(&le, true).unwrap(), text);
        assert_eq!(decode(&be, false).unwrap(), text);
        let lone = [0x41, 0x00, 0x00, 0xD8, 0x41, 0x00];
        let err = decode(&lone, true).unwrap_err();
        assert!(
            err.to_string().contains("(unpaired surrogate) at byte 4"),
            "{err}"
        );
        assert!(decode(&[0x41, 0x00, 0x42], true).is_err());
    }

    #[test]
    fn byte_order_marks_and_zero_bytes_tell_the_encoding() {
        assert_eq!(sniff(b"\xEF\xBB\xBFDate"), (Encoding::Utf8Bom, 3));
        assert_eq!(sniff(b"\xFF\xFED\x00"), (Encoding::Utf16Le, 2));
        assert_eq!(sniff(b"\xFE\xFF\x00D"), (Encoding::Utf16Be, 2));
        assert_eq!(sniff(b"D\x00a\x00"), (Encoding::Utf16Le, 0));
        assert_eq!(sniff(b"Date,"), (Encoding::Utf8, 0));
    }
}
