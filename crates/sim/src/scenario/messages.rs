//! The messages of 佐藤's mailbox that matter to the case, as the MIME that
//! `GET /users/{id}/messages/{id}/$value` returns: the phish, the fraudulent
//! payment instruction the attacker sent, and the customer's reply they deleted.

use super::catalogue::DOMAIN;
use super::ids::exchange_id;
use super::story::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// A message of the case and what the other sources know about it.
pub struct Message {
    /// File name under `messages/`.
    pub file: &'static str,
    pub folder: &'static str,
    pub subject: &'static str,
    pub internet_message_id: &'static str,
    pub received: &'static str,
    /// `Date:` header (local time of the sender).
    date: &'static str,
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
    body: &'static str,
    /// Headers the receiving side added (empty for a sent item).
    transport: fn() -> String,
}

impl Message {
    /// The Graph message id.
    pub fn graph_id(&self) -> String {
        exchange_id(
            "AAMkADI5ZjY0NmNiLTdlZjUtNDc3My1hOGQwLTRmNzQ2NGY1ZjkzOQBGAAAAAAC",
            self.internet_message_id,
        )
    }

    /// The store item id mailbox audit records use.
    pub fn item_id(&self) -> String {
        exchange_id("RgAAAAAdhAMRqmYRzZvIAKoAL8RaBwA", self.internet_message_id)
    }

    pub fn eml_path(&self) -> String {
        format!("messages/{}", self.file)
    }

    /// The MIME text, CRLF line ends, bodies in base64 as Exchange writes them.
    pub fn mime(&self) -> String {
        let boundary = format!(
            "_000_{}_",
            self.internet_message_id
                .trim_matches(['<', '>'])
                .split('@')
                .next()
                .unwrap_or_default()
        );
        let html = format!(
            "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\n<div style=\"font-family: Meiryo, sans-serif; font-size: 11pt;\">\r\n{}</div>\r\n</body>\r\n</html>\r\n",
            self.body
                .lines()
                .map(|l| {
                    let escaped = l.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
                    if l.starts_with("https://") {
                        format!("<a href=\"{escaped}\">ご請求書を表示する</a><br>\r\n")
                    } else {
                        format!("{escaped}<br>\r\n")
                    }
                })
                .collect::<String>()
        );
        let mut m = (self.transport)();
        m.push_str(&format!(
            "From: {} <{}>\r\n",
            encode_word(self.from.0),
            self.from.1
        ));
        m.push_str(&format!(
            "To: {} <{}>\r\n",
            encode_word(self.to.0),
            self.to.1
        ));
        m.push_str(&format!("Subject: {}\r\n", encode_word(self.subject)));
        m.push_str(&format!(
            "Thread-Topic: {}\r\n",
            encode_word(self.subject.trim_start_matches("RE: "))
        ));
        m.push_str(&format!("Date: {}\r\n", self.date));
        m.push_str(&format!("Message-ID: {}\r\n", self.internet_message_id));
        m.push_str("Accept-Language: ja-JP, en-US\r\nContent-Language: ja-JP\r\n");
        m.push_str("X-MS-Has-Attach:\r\nX-MS-TNEF-Correlator:\r\n");
        m.push_str(&format!("Content-Type: multipart/alternative;\r\n\tboundary=\"{boundary}\"\r\nMIME-Version: 1.0\r\n\r\n"));
        for (kind, text) in [("plain", self.body.replace('\n', "\r\n")), ("html", html)] {
            m.push_str(&format!(
                "--{boundary}\r\nContent-Type: text/{kind}; charset=\"utf-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
                wrap(&STANDARD.encode(text))
            ));
        }
        m.push_str(&format!("--{boundary}--\r\n"));
        m
    }
}

/// RFC 2047 encoded words of at most 45 UTF-8 bytes (72 characters encoded),
/// folded onto continuation lines as Exchange writes them.
fn encode_word(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    let mut words = vec![String::new()];
    for c in text.chars() {
        if words.last().is_some_and(|w| w.len() + c.len_utf8() > 45) {
            words.push(String::new());
        }
        words.last_mut().expect("a word").push(c);
    }
    words
        .iter()
        .map(|w| format!("=?utf-8?B?{}?=", STANDARD.encode(w)))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

fn wrap(base64: &str) -> String {
    base64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// Headers Exchange Online Protection adds to mail from outside: the phish
/// passed SPF, DKIM and DMARC because it came from the partner's real mailbox.
fn inbound(from_domain: &str, network_id: &str, sending_ip: &str) -> String {
    format!(
        "Received: from TYZPR01CA0042.apcprd01.prod.outlook.com (2001:db8:400:f::1) by\r\n TYWPR01MB10482.jpnprd01.prod.outlook.com (2001:db8:400:1a2::9) with Microsoft\r\n SMTP Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) id 15.20.8722.17;\r\n {received}\r\n\
Received: from mail.{from_domain} ({sending_ip}) by\r\n TYZPR01CA0042.apcprd01.prod.outlook.com (2001:db8:400:f::1) with Microsoft\r\n SMTP Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) id 15.20.8722.17 via\r\n Frontend Transport; {received}\r\n\
Authentication-Results: spf=pass (sender IP is {sending_ip})\r\n smtp.mailfrom={from_domain}; dkim=pass (signature was verified)\r\n header.d={from_domain};dmarc=pass action=none\r\n header.from={from_domain};compauth=pass reason=100\r\n\
Received-SPF: Pass ({DOMAIN}: domain of {from_domain} designates\r\n {sending_ip} as permitted sender)\r\n\
X-MS-Exchange-Organization-Network-Message-Id: {network_id}\r\n\
X-MS-Exchange-Organization-AuthSource: TYWPR01MB10482.jpnprd01.prod.outlook.com\r\n\
X-MS-Exchange-Organization-AuthAs: Anonymous\r\n\
X-MS-Exchange-Organization-SCL: 1\r\n\
X-Forefront-Antispam-Report: CIP:{sending_ip};CTRY:JP;LANG:ja;SCL:1;SRV:;IPV:NLI;SFV:NSPM;\r\n H:mail.{from_domain};PTR:mail.{from_domain};CAT:NONE;SFS:(13230040)(1800799024);DIR:INB;\r\n",
        received = if from_domain == "fabrikam-shoji.co.jp" {
            "Wed, 18 Nov 2026 00:47:12 +0000"
        } else {
            "Fri, 20 Nov 2026 06:40:19 +0000"
        },
    )
}

pub static PHISH: Message = Message {
    file: "phish-invoice.eml",
    folder: "Inbox",
    subject: "【ファブリカム商事】11月分ご請求書送付のご案内",
    internet_message_id: "<TYCP286MB18440F3A2C9E41B7D5A0C6E1A2B9@TYCP286MB1844.JPNP286.PROD.OUTLOOK.COM>",
    received: PHISH_DELIVERED,
    date: "Wed, 18 Nov 2026 09:47:03 +0900",
    from: ("田中 一郎", PARTNER_SENDER),
    to: ("佐藤 花子", "hanako.sato@contoso-jp.onmicrosoft.com"),
    body: "佐藤様\n\nいつもお世話になっております。\nファブリカム商事 経理部の田中でございます。\n\n11月分のご請求書をお送りいたします。\n情報セキュリティ強化のため、今月よりご請求書は共有リンクにてお送りしております。\n下記リンクよりご確認いただけますと幸いです。\n\n■ ご請求書（PDF・1ファイル）\nhttps://contoso-jp-sharepoint.com/:b:/s/Accounting/EeT2kq9xRvBHmT0q8mH3t1wB?e=4kP2xQ#aGFuYWtvLnNhdG9AY29udG9zby1qcC5vbm1pY3Jvc29mdC5jb20=\n\nなお、リンクの有効期限は本日中となっておりますので、\nお手数ですがお早めにご確認をお願いいたします。\n\n何卒よろしくお願い申し上げます。\n\n──────────────────\nファブリカム商事株式会社 経理部\n田中 一郎\n──────────────────\n",
    transport: || inbound("fabrikam-shoji.co.jp", "7d1c9a4e-2b3f-4e8a-9c61-0f5e2d8b7a34", "198.51.100.190"),
};

pub static BEC: Message = Message {
    file: "bec-payment-change.eml",
    folder: "Sent Items",
    subject: "【重要】お振込先口座変更のお知らせ",
    internet_message_id: "<TYWPR01MB104826B2E8F1D4C9A7E3B5F0D21C4@TYWPR01MB10482.jpnprd01.prod.outlook.com>",
    received: BEC_SENT,
    date: "Thu, 19 Nov 2026 01:22:45 +0000",
    from: ("佐藤 花子", "hanako.sato@contoso-jp.onmicrosoft.com"),
    to: ("ノースウインド商事 経理部", CUSTOMER_ADDRESS),
    body: "ノースウインド商事株式会社\n経理ご担当者様\n\nいつも大変お世話になっております。\nコントソ株式会社 経理部の佐藤でございます。\n\nこのたび弊社の取引銀行の変更に伴い、\n11月分以降のお振込先口座を下記のとおり変更させていただくこととなりました。\n\n  銀行名：ウッドグローブ銀行 国際営業部\n  口座種別：普通\n  口座番号：7730419\n  口座名義：コントソ（カ）\n\n11月25日お支払い分より、上記口座へお振込みくださいますようお願い申し上げます。\nなお、旧口座は近日中に閉鎖予定のため、ご入金いただいても返金となる場合がございます。\n\nご不明な点がございましたら、本メールにご返信ください。\n何卒よろしくお願い申し上げます。\n\nコントソ株式会社 経理部\n佐藤 花子\n",
    transport: String::new,
};

pub static REPLY: Message = Message {
    file: "customer-reply.eml",
    folder: "Deleted Items",
    subject: "RE: 【重要】お振込先口座変更のお知らせ",
    internet_message_id: "<OS3P286MB2210C7D94E1A2B3F58E6A0D7B2C1@OS3P286MB2210.JPNP286.PROD.OUTLOOK.COM>",
    received: REPLY_RECEIVED,
    date: "Fri, 20 Nov 2026 15:40:11 +0900",
    from: ("山下 恵子", CUSTOMER_ADDRESS),
    to: ("佐藤 花子", "hanako.sato@contoso-jp.onmicrosoft.com"),
    body: "コントソ株式会社\n佐藤様\n\nいつもお世話になっております。\nノースウインド商事 経理部の山下です。\n\n口座変更のご連絡をありがとうございます。\n念のため、変更内容につきましてお電話で確認させていただきたく、\nご都合のよいお時間をお知らせいただけますでしょうか。\n\nよろしくお願いいたします。\n\nノースウインド商事株式会社 経理部\n山下 恵子\n",
    transport: || inbound("northwind-trading.co.jp", "c2e84f1b-9a6d-4d3e-8f27-5b1a0e9c6d48", "198.51.100.191"),
};

/// Every message the fixture's mailboxes reference.
pub static ALL: [&Message; 3] = [&PHISH, &BEC, &REPLY];
