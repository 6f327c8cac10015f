//! Opening: verify everything, extracting into a staging folder inside the
//! destination, and move the files into place only when every check passed.
//! Nothing is ever written outside the destination, and nothing is overwritten.

use super::crypto::Identities;
use super::names;
use super::reader::PackageReader;
use super::verify::{verify, EntrySink, Inside, VerifyReport};
use super::{io_err, PackageError};
use crate::hashing::HashingWriter;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

const STAGING: &str = ".m365-preserve-opening";

/// Writes verified entries under a staging folder.
struct Extract {
    staging: PathBuf,
}

impl EntrySink for Extract {
    fn entry(&mut self, name: &str, content: &mut dyn Read) -> io::Result<(u64, String)> {
        // Names were checked before anything was read; check the joined path again.
        if names::check(name).is_err()
            || Path::new(name)
                .components()
                .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unsafe entry name {name:?}"),
            ));
        }
        let path = self.staging.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o644);
        }
        let mut out = HashingWriter::new(io::BufWriter::with_capacity(1 << 20, opts.open(&path)?));
        io::copy(content, &mut out)?;
        out.flush()?;
        let (buf, size, sha) = out.finish();
        buf.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok((size, sha))
    }
}

/// Verifies `paths` and extracts it into `dest`, which must be absent or empty.
pub fn open(
    paths: &dyn PackageReader,
    identities: &Identities,
    dest: &Path,
    max_ratio: u64,
    trusted_signer: Option<&str>,
) -> Result<VerifyReport, PackageError> {
    let created = !dest.exists();
    if created {
        create_private_dir(dest)?;
    } else if fs::read_dir(dest).map_err(io_err(dest))?.next().is_some() {
        return Err(PackageError::NotEmpty(dest.to_path_buf()));
    }
    let staging = dest.join(STAGING);
    create_private_dir(&staging)?;
    let mut sink = Extract {
        staging: staging.clone(),
    };
    let report = verify(
        paths,
        trusted_signer,
        Some((
            Inside {
                identities,
                max_ratio,
            },
            &mut sink as &mut dyn EntrySink,
        )),
    );
    if report.ok && report.inside_checked() {
        for entry in fs::read_dir(&staging).map_err(io_err(&staging))? {
            let entry = entry.map_err(io_err(&staging))?;
            let target = dest.join(entry.file_name());
            fs::rename(entry.path(), &target).map_err(io_err(&target))?;
        }
        fs::remove_dir(&staging).map_err(io_err(&staging))?;
    } else {
        fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
        if created {
            let _ = fs::remove_dir(dest);
        }
    }
    Ok(report)
}

fn create_private_dir(path: &Path) -> Result<(), PackageError> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path).map_err(io_err(path))
}
