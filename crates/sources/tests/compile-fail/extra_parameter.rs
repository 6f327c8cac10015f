// Get-Mailbox takes only -Identity here: no -Confirm, no -WhatIf, nothing else.
use m365_preserve_sources::Cmdlet;

fn main() {
    let _ = Cmdlet::GetMailbox {
        identity: "hanako.sato@contoso-jp.onmicrosoft.com".into(),
        confirm: false,
    };
}
