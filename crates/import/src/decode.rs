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
pub fn open(path: &Path) -> io::Result<(Encoding, Box<dyn BufRead + Send>)> {
    let mut file = BufReader::with_capacity(256 * 1024, File::open(path)?);
    let head = file.fill_buf()?;
    let (encoding, bom) = sniff(head);
    file.consume(bom);
    let reader: Box<dyn BufRead + Send> = match encoding {
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

/// Streams UTF-16 as UTF-8 through `encoding_rs`, strictly: malformed UTF-16
/// (an unpaired surrogate, half a code unit at the end) is an error naming
/// its byte offset, never a replacement character.
struct Utf16Reader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    /// Byte offset in the file of the first byte of `raw`.
    offset: u64,
    raw: Vec<u8>,
    pending: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<R: Read> Utf16Reader<R> {
    fn new(inner: R, little_endian: bool, offset: u64) -> Self {
        let encoding = if little_endian {
            encoding_rs::UTF_16LE
        } else {
            encoding_rs::UTF_16BE
        };
        Self {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            offset,
            raw: Vec::with_capacity(64 * 1024),
            pending: Vec::with_capacity(128 * 1024),
            pos: 0,
            done: false,
        }
    }

    /// Decodes the next chunk into `pending`.
    fn refill(&mut self) -> io::Result<()> {
        self.pending.clear();
        self.pos = 0;
        let mut chunk = vec![0u8; 64 * 1024];
        let n = loop {
            match self.inner.read(&mut chunk) {
                Ok(k) => break k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.raw.extend_from_slice(&chunk[..n]);
        let last = n == 0;
        self.done = last;
        let room = self
            .decoder
            .max_utf8_buffer_length_without_replacement(self.raw.len())
            .unwrap_or(self.raw.len() * 3 + 8);
        self.pending.resize(room, 0);
        let (result, read, written) =
            self.decoder
                .decode_to_utf8_without_replacement(&self.raw, &mut self.pending, last);
        self.pending.truncate(written);
        match result {
            encoding_rs::DecoderResult::Malformed(bad, after) => {
                let at = self.offset + read as u64 - bad as u64 - after as u64;
                return Err(invalid(if last && read == self.raw.len() && bad == 1 {
                    format!("the UTF-16 text ends in half a character at byte {at}")
                } else {
                    format!("invalid UTF-16 (unpaired surrogate) at byte {at}")
                }));
            }
            encoding_rs::DecoderResult::InputEmpty | encoding_rs::DecoderResult::OutputFull => {}
        }
        self.raw.drain(..read);
        self.offset += read as u64;
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
