//! `m365-preserve keygen`: keys for the receiving firm and the sealer.

use crate::cli::KeygenArgs;
use age::secrecy::ExposeSecret;
use anyhow::Result;
use m365_preserve_package::signing::SigningKey;
use m365_preserve_package::timefmt::now_rfc3339;
use m365_preserve_package::write_private_file;
use std::process::ExitCode;

pub fn run(args: KeygenArgs) -> Result<ExitCode> {
    if let Some(path) = &args.age_identity {
        let id = age::x25519::Identity::generate();
        let public = id.to_public().to_string();
        let text = format!(
            "# created: {}\n# public key: {public}\n{}\n",
            now_rfc3339(),
            id.to_string().expose_secret()
        );
        write_private_file(path, text.as_bytes())?;
        println!(
            "age identity written to {} (keep it secret)",
            path.display()
        );
        println!("public key (give this to the sealer): {public}");
    }
    if let Some(path) = &args.signing_key {
        let key = SigningKey::generate();
        key.write_openssh(path, &args.comment)?;
        println!(
            "signing key written to {} and {}.pub",
            path.display(),
            path.display()
        );
        println!("public key: {}", key.public_openssh());
        println!("fingerprint: {}", key.fingerprint());
    }
    Ok(ExitCode::SUCCESS)
}
