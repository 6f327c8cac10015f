// Set-Mailbox is not among the allowed cmdlets.
use m365_preserve_sources::Cmdlet;

fn main() {
    let _ = Cmdlet::SetMailbox {
        identity: "hanako.sato@contoso-jp.onmicrosoft.com".into(),
    };
}
