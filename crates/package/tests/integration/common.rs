//! Sealing and verifying in-process, for property tests that need many packages.

use m365_preserve_package::content::plan_content;
use m365_preserve_package::crypto::{Identities, Recipient, RecipientInfo, Recipients};
use m365_preserve_package::seal::{seal, Provenance, Sealed, Sealer, Silent};
use m365_preserve_package::signing::SigningKey;
use m365_preserve_package::verify::{verify, HashOnly, Inside, VerifyReport};
use m365_preserve_package::zipwrite::ZipOptions;
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
        let public = self.identity.to_public();
        let recipients = Recipients::Keys(vec![(
            Recipient::X25519(public.clone()),
            RecipientInfo {
                kind: "X25519".into(),
                public_key: Some(public.to_string()),
            },
        )]);
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

    /// Verifies a sealed package, inside checks included.
    pub fn verify(&self, sealed: &Sealed) -> VerifyReport {
        let ids = Identities::Keys(vec![Box::new(self.identity.clone())]);
        let mut sink = HashOnly;
        verify(
            &sealed.paths,
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
