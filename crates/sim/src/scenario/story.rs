//! The attack, as one timeline every source draws from (UTC; Japan is UTC+9).
//! samples/README.md tells the same story as a table: keep the two in step.

/// Start of the 30-day window the fixture covers (the anchor is its end).
pub const WINDOW_START: &str = "2026-10-26T00:00:00Z";

/// Japanese public holidays inside the window (文化の日, 勤労感謝の日).
pub const HOLIDAYS: [&str; 2] = ["2026-11-03", "2026-11-23"];

/// The IT administrator enrols the new hire.
pub const NEW_HIRE_CREATED: &str = "2026-11-04T00:32:18Z";
/// The administrator adds the geo-block policy, but in report-only mode.
pub const GEO_POLICY_ADDED: &str = "2026-11-02T06:12:40Z";

/// A compromised mailbox at the partner company sends the phish (Wed 09:47 JST).
pub const PHISH_DELIVERED: &str = "2026-11-18T00:47:12Z";
/// 佐藤 opens it in Outlook at her desk.
pub const PHISH_OPENED: &str = "2026-11-18T00:52:31Z";
/// She mistypes her password on the proxy's page, then signs in and approves the push.
pub const AITM_FAILED: &str = "2026-11-18T00:53:05Z";
pub const AITM_SUCCEEDED: &str = "2026-11-18T00:53:41Z";
/// The attacker replays the stolen session cookie from their own machine.
pub const SESSION_REPLAYED: &str = "2026-11-18T01:05:18Z";
/// Inbox rules: `.` hides replies in RSS Feeds, `..` forwards invoices out.
pub const RULE_HIDE_CREATED: &str = "2026-11-18T01:14:22Z";
pub const RULE_FORWARD_CREATED: &str = "2026-11-18T01:18:50Z";
/// The attacker adds their own Microsoft Authenticator.
pub const MFA_REGISTRATION_STARTED: &str = "2026-11-18T01:29:10Z";
pub const MFA_REGISTERED: &str = "2026-11-18T01:31:47Z";
/// The attacker registers a device (and gets a primary refresh token).
pub const DEVICE_REGISTERED: &str = "2026-11-18T01:41:05Z";
/// The attacker registers an application, adds a secret and consents to Mail.Read.
pub const APP_CREATED: &str = "2026-11-18T02:05:33Z";
pub const APP_SECRET_ADDED: &str = "2026-11-18T02:07:31Z";
pub const APP_CONSENTED: &str = "2026-11-18T02:09:12Z";
/// First use of the app's secret (a wrong secret first).
pub const APP_FIRST_USE: &str = "2026-11-18T02:14:40Z";
/// The attacker reads the accounting share.
pub const FILES_ACCESSED: &str = "2026-11-18T02:21:07Z";
/// A guest account is invited for later access.
pub const GUEST_INVITED: &str = "2026-11-19T00:31:20Z";
/// The business e-mail compromise: 佐藤's mailbox tells a customer to pay the
/// November invoice into "our new account".
pub const BEC_SENT: &str = "2026-11-19T01:22:45Z";
/// The attacker sets mailbox forwarding (`Set-Mailbox -ForwardingSmtpAddress`,
/// keeping a copy in the mailbox): everything now also goes to the look-alike.
pub const MAILBOX_FORWARDING_SET: &str = "2026-11-19T00:48:31Z";
/// More words are added to the hiding rule.
pub const RULE_HIDE_UPDATED: &str = "2026-11-19T02:02:10Z";
/// Password spray against the Global Administrator (ends in a lockout).
pub const ADMIN_SPRAY: &str = "2026-11-19T03:10:02Z";
/// A fresh sign-in through Tor, passing MFA with the attacker's authenticator.
pub const TOR_SIGNIN: &str = "2026-11-20T01:12:08Z";
/// The customer's reply (asking to confirm by phone) lands in RSS Feeds through
/// the hiding rule and is deleted before 佐藤 can see it.
pub const REPLY_RECEIVED: &str = "2026-11-20T06:40:19Z";
pub const REPLY_DELETED: &str = "2026-11-20T07:02:33Z";
/// The attacker's last refresh-token use before the responder starts collecting.
pub const LAST_ATTACKER_ACTIVITY: &str = "2026-11-24T22:40:16Z";
/// The administrator registers the collector app after the partner calls.
pub const TOOL_REGISTERED: &str = "2026-11-24T08:12:05Z";

/// Where the forwarding rule sends invoices (another look-alike).
pub const FORWARD_ADDRESS: &str = "h.sato.backup@contoso-jp-mail.com";
/// The guest the attacker invites.
pub const GUEST_ADDRESS: &str = "it-support@contoso-jp-mail.com";
/// The compromised partner mailbox that sent the phish.
pub const PARTNER_SENDER: &str = "ichiro.tanaka@fabrikam-shoji.co.jp";
/// The customer the fraudulent payment instructions went to.
pub const CUSTOMER_ADDRESS: &str = "keiri@northwind-trading.co.jp";
/// The Authenticator the attacker registered.
pub const ATTACKER_PHONE: &str = "SM-A556E";
/// The attacker's registered device.
pub const ATTACKER_DEVICE: &str = "DESKTOP-8K2QF7L";

/// Words the hiding rule looks for, at creation and after the update.
pub const HIDE_WORDS: [&str; 6] = ["請求", "振込", "支払", "口座", "invoice", "payment"];
pub const HIDE_WORDS_ADDED: [&str; 4] = ["フィッシング", "不審", "セキュリティ", "パスワード"];
/// Words the forwarding rule looks for.
pub const FORWARD_WORDS: [&str; 3] = ["請求書", "見積", "振込"];
