//! Where a package's four files are read from. Verification, opening and the
//! custody commands read through [`PackageReader`]: [`PackagePaths`] reads the
//! local files; a storage service's reader (in another crate, since this one has
//! no network) reads them in place, with range reads where the zip reader seeks.

use crate::paths::PackagePaths;
use std::fs::File;
use std::io::{self, Read, Seek};

/// One of the four files of a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PackageFile {
    /// `CASE_….zip.age`
    Ciphertext,
    /// `CASE_….seal.json`
    Seal,
    /// `CASE_….seal.json.sig`
    Signature,
    /// `CASE_….custody.jsonl`
    Custody,
}

impl PackageFile {
    pub const ALL: [PackageFile; 4] = [
        PackageFile::Ciphertext,
        PackageFile::Seal,
        PackageFile::Signature,
        PackageFile::Custody,
    ];

    /// The file name's suffix after the base name.
    pub fn suffix(self) -> &'static str {
        match self {
            PackageFile::Ciphertext => ".zip.age",
            PackageFile::Seal => ".seal.json",
            PackageFile::Signature => ".seal.json.sig",
            PackageFile::Custody => ".custody.jsonl",
        }
    }

    /// The name used in receipts and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageFile::Ciphertext => "ciphertext",
            PackageFile::Seal => "seal",
            PackageFile::Signature => "signature",
            PackageFile::Custody => "custody",
        }
    }
}

/// A reader that can also seek (the zip reader seeks to the central directory
/// and to each entry).
pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// Largest seal, signature or custody log read whole.
pub const MAX_SMALL_FILE: u64 = 64 << 20;

/// The four files of one package, wherever they are.
pub trait PackageReader {
    /// How `file` is named in reports and messages (a path, or a URL without
    /// any secret).
    fn describe(&self, file: PackageFile) -> String;

    /// Opens `file` for reading from its start.
    fn open(&self, file: PackageFile) -> io::Result<Box<dyn ReadSeek>>;

    /// Reads a small file (seal, signature, custody log) whole.
    fn read_all(&self, file: PackageFile) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open(file)?
            .take(MAX_SMALL_FILE + 1)
            .read_to_end(&mut out)?;
        if out.len() as u64 > MAX_SMALL_FILE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("larger than {MAX_SMALL_FILE} bytes: not a package file"),
            ));
        }
        Ok(out)
    }
}

impl PackagePaths {
    /// The local path of `file`.
    pub fn path(&self, file: PackageFile) -> &std::path::Path {
        match file {
            PackageFile::Ciphertext => &self.ciphertext,
            PackageFile::Seal => &self.seal,
            PackageFile::Signature => &self.signature,
            PackageFile::Custody => &self.custody,
        }
    }
}

impl PackageReader for PackagePaths {
    fn describe(&self, file: PackageFile) -> String {
        self.path(file).display().to_string()
    }

    fn open(&self, file: PackageFile) -> io::Result<Box<dyn ReadSeek>> {
        Ok(Box::new(File::open(self.path(file))?))
    }

    fn read_all(&self, file: PackageFile) -> io::Result<Vec<u8>> {
        std::fs::read(self.path(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn suffixes_name_the_same_files_as_package_paths() {
        let p = PackagePaths::from_any(Path::new("out/C1_20261125T000000Z.zip.age"));
        for f in PackageFile::ALL {
            assert_eq!(
                p.describe(f),
                format!("out/C1_20261125T000000Z{}", f.suffix())
            );
        }
    }
}
