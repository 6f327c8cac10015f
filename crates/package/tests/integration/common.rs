//! Sealing and verifying in-process, for property tests that need many packages.

use m365_preserve_package::content::plan_content;
use m365_preserve_package::crypto::{Identities, Recipient, RecipientInfo, Recipients};
use m365_preserve_package::paths::PackagePaths;
use m365_preserve_package::seal::{seal, Provenance, Sealed, Sealer, Silent};
use m365_preserve_package::signing::{SigningKey, SEAL_NAMESPACE};
use m365_preserve_package::verify::{verify, HashOnly, Inside, VerifyReport};
use m365_preserve_package::zipwrite::ZipOptions;
use std::io::{Read, Write};
use std::path::Path;

/// An age key pair for one test.
pub struct Keys {
    identity: age::x25519::Identity,
    signing: SigningKey,
}

impl Keys {
    pub fn new() -> Self {
        Self {
            identity: age::x25519::Identity::generate(),
            signing: SigningKey::generate(),
        }
    }

    /// Seals `folder` into `out`; the error as text when sealing refuses.
    pub fn seal(&self, folder: &Path, out: &Path) -> Result<Sealed, String> {
        let plan = plan_content(folder).map_err(|e| e.to_string())?;
        let recipients = self.recipients();
        let log = || String::new();
        let sealer = Sealer {
            case_id: "PROP-1",
            examiner: "proptest",
            note: None,
            out_dir: out,
            recipients: &recipients,
            signing_key: &self.signing,
            zip: ZipOptions::default(),
            command_line: vec!["proptest".into()],
            log: &log,
            progress: &Silent,
        };
        seal(plan, &sealer, &Provenance::default()).map_err(|e| e.to_string())
    }

    fn recipients(&self) -> Recipients {
        let public = self.identity.to_public();
        Recipients::Keys(vec![(
            Recipient::X25519(public.clone()),
            RecipientInfo {
                kind: "X25519".into(),
                public_key: Some(public.to_string()),
            },
        )])
    }

    /// The plain zip inside a ciphertext.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Vec<u8> {
        let ids = Identities::Keys(vec![Box::new(self.identity.clone())]);
        let mut plain = Vec::new();
        ids.decrypt(ciphertext)
            .unwrap()
            .read_to_end(&mut plain)
            .unwrap();
        plain
    }

    /// `plain` encrypted to this test's key.
    pub fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = self
            .recipients()
            .encryptor()
            .unwrap()
            .wrap_output(&mut out)
            .unwrap();
        w.write_all(plain).unwrap();
        w.finish().unwrap();
        out
    }

    /// A seal signature by this test's signing key.
    pub fn sign_seal(&self, seal: &[u8]) -> String {
        self.signing.sign(SEAL_NAMESPACE, seal)
    }

    /// Verifies a sealed package, inside checks included.
    pub fn verify(&self, sealed: &Sealed) -> VerifyReport {
        self.verify_paths(&sealed.paths)
    }

    /// Verifies the package at `paths`, inside checks included.
    pub fn verify_paths(&self, paths: &PackagePaths) -> VerifyReport {
        let ids = Identities::Keys(vec![Box::new(self.identity.clone())]);
        let mut sink = HashOnly;
        verify(
            paths,
            None,
            Some((
                Inside {
                    identities: &ids,
                    max_ratio: 200,
                },
                &mut sink,
            )),
        )
    }
}
