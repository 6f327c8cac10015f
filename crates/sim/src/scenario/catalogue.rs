//! Who and what exists in the simulated tenant: people, places, applications,
//! client software and Conditional Access policies. Pure data; the generators in
//! the sibling modules combine it into records.
//!
//! Addresses come from the documentation ranges so that no record points at a
//! real host: 192.0.2.0/24 is the company's own network, 198.51.100.0/24 its
//! employees' homes and phones, 203.0.113.0/24 the attacker. Autonomous system
//! numbers come from the documentation range 64496-64511 (and 65536-65551).

use super::ids::{guid, number};
use std::sync::OnceLock;

/// The tenant (constants other parts of the program and tests rely on).
pub const TENANT_ID: &str = "3a327c2e-38a7-40f7-981c-b714065e067a";
pub const TENANT_NAME: &str = "コントソ株式会社";
pub const DOMAIN: &str = "contoso-jp.onmicrosoft.com";
/// Tenant that owns Microsoft's first-party applications.
pub const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
/// The company's Azure subscription (managed identities live there).
pub const SUBSCRIPTION: &str = "e1aef1c2-3080-4059-bbaa-6772a5e8c986";
/// Exchange Online servers of the tenant's Japan region (OriginatingServer).
pub const EXCHANGE_SERVER: &str = "TYWPR01MB10482 (15.20.8722.017)\r\n";

/// Where a sign-in or audit event came from.
#[derive(Debug)]
pub struct Place {
    pub ip: &'static str,
    pub city: &'static str,
    pub state: &'static str,
    pub country: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    pub asn: u32,
    /// Named location of Conditional Access, if the address is in one.
    pub network: Option<&'static str>,
}

const fn place(
    ip: &'static str,
    (city, state, country): (&'static str, &'static str, &'static str),
    (latitude, longitude): (f64, f64),
    asn: u32,
) -> Place {
    Place {
        ip,
        city,
        state,
        country,
        latitude,
        longitude,
        asn,
        network: None,
    }
}

pub static TOKYO_OFFICE: Place = Place {
    network: Some("東京本社"),
    ..place(
        "192.0.2.10",
        ("Tokyo", "Tokyo", "JP"),
        (35.6812, 139.7671),
        64496,
    )
};
pub static OSAKA_OFFICE: Place = Place {
    network: Some("大阪支社"),
    ..place(
        "192.0.2.40",
        ("Osaka", "Osaka", "JP"),
        (34.7025, 135.4959),
        64496,
    )
};
/// The on-premises server that runs the attendance-sync batch.
pub static HR_SERVER: Place = Place {
    network: Some("東京本社"),
    ..place(
        "192.0.2.20",
        ("Tokyo", "Tokyo", "JP"),
        (35.6812, 139.7671),
        64496,
    )
};
/// The backup service's egress address.
pub static BACKUP_SERVICE: Place = place(
    "198.51.100.150",
    ("Tokyo", "Tokyo", "JP"),
    (35.6895, 139.6917),
    64502,
);
/// Managed identities sign in from inside Azure: Entra records no address.
pub static AZURE_INTERNAL: Place = place("", ("", "", ""), (0.0, 0.0), 0);
/// Mobile carrier address pool (phones).
pub static MOBILE: Place = place(
    "198.51.100.201",
    ("Tokyo", "Tokyo", "JP"),
    (35.6895, 139.6917),
    64499,
);

/// Employees' home connections (index = `Person::home`).
pub static HOMES: [Place; 10] = [
    place(
        "198.51.100.11",
        ("Yokohama", "Kanagawa", "JP"),
        (35.4437, 139.638),
        64497,
    ),
    place(
        "198.51.100.23",
        ("Saitama", "Saitama", "JP"),
        (35.8617, 139.6455),
        64498,
    ),
    place(
        "198.51.100.34",
        ("Chiba", "Chiba", "JP"),
        (35.6073, 140.1063),
        64497,
    ),
    place(
        "198.51.100.47",
        ("Kawasaki", "Kanagawa", "JP"),
        (35.5308, 139.7029),
        64498,
    ),
    place(
        "198.51.100.52",
        ("Setagaya", "Tokyo", "JP"),
        (35.6464, 139.6533),
        64497,
    ),
    place(
        "198.51.100.68",
        ("Funabashi", "Chiba", "JP"),
        (35.6947, 139.9825),
        64498,
    ),
    place(
        "198.51.100.73",
        ("Hachioji", "Tokyo", "JP"),
        (35.6664, 139.316),
        64497,
    ),
    place(
        "198.51.100.85",
        ("Suita", "Osaka", "JP"),
        (34.7595, 135.5169),
        64500,
    ),
    place(
        "198.51.100.96",
        ("Kobe", "Hyogo", "JP"),
        (34.6901, 135.1955),
        64500,
    ),
    place(
        "198.51.100.104",
        ("Nishinomiya", "Hyogo", "JP"),
        (34.7376, 135.3416),
        64500,
    ),
];

/// The adversary-in-the-middle phishing proxy (a rented server).
pub static AITM_PROXY: Place = place(
    "203.0.113.45",
    ("Amsterdam", "Noord-Holland", "NL"),
    (52.3676, 4.9041),
    64510,
);
/// The attacker's own connection, and a second address of the same provider.
pub static ATTACKER: Place = place(
    "203.0.113.77",
    ("Lagos", "Lagos", "NG"),
    (6.4541, 3.3947),
    64511,
);
pub static ATTACKER_ALT: Place = place(
    "203.0.113.91",
    ("Lagos", "Lagos", "NG"),
    (6.4541, 3.3947),
    64511,
);
/// A Tor exit node.
pub static TOR_EXIT: Place = place(
    "203.0.113.200",
    ("Frankfurt am Main", "Hessen", "DE"),
    (50.1109, 8.6821),
    65536,
);

/// A client application or a resource, as sign-ins name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App {
    pub id: &'static str,
    pub name: &'static str,
}

const fn app(id: &'static str, name: &'static str) -> App {
    App { id, name }
}

// Microsoft first-party clients and resources (well-known application ids).
pub const OFFICE_HOME: App = app("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome");
pub const OUTLOOK_WEB: App = app("9199bf20-a13f-4107-85dc-02114787ef48", "One Outlook Web");
pub const OFFICE: App = app("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office");
pub const TEAMS: App = app("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams");
pub const OUTLOOK_MOBILE: App = app("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile");
pub const ONEDRIVE_SYNC: App = app(
    "ab9b8c07-8f02-4f72-87fa-80105867a763",
    "OneDrive SyncEngine",
);
pub const MY_SIGNINS: App = app("19db86c3-b2b9-44cc-b339-36da233a3be2", "My Signins");
pub const AUTH_BROKER: App = app(
    "29d9ed98-a469-4536-ade2-f981bc1d605e",
    "Microsoft Authentication Broker",
);
pub const WINDOWS_SIGN_IN: App = app("38aa3b87-a06d-4817-b275-7a316988d93b", "Windows Sign In");
pub const AZURE_PORTAL: App = app("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal");
pub const GRAPH: App = app("00000003-0000-0000-c000-000000000000", "Microsoft Graph");
pub const EXCHANGE: App = app(
    "00000002-0000-0ff1-ce00-000000000000",
    "Office 365 Exchange Online",
);
pub const SHAREPOINT: App = app(
    "00000003-0000-0ff1-ce00-000000000000",
    "Office 365 SharePoint Online",
);
pub const TEAMS_SERVICES: App = app(
    "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
    "Microsoft Teams Services",
);
pub const DEVICE_REGISTRATION: App = app(
    "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9",
    "Device Registration Service",
);
pub const AAD_GRAPH: App = app(
    "00000002-0000-0000-c000-000000000000",
    "Windows Azure Active Directory",
);
pub const AZURE_MANAGEMENT: App = app(
    "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    "Windows Azure Service Management API",
);
pub const KEY_VAULT: App = app("cfa8b339-82a2-471a-a3c9-0fc0be7a4093", "Azure Key Vault");
pub const STORAGE: App = app("e406a681-f3d4-42a8-90b6-c2b029497af1", "Azure Storage");
pub const MANAGEMENT_API: App = app(
    "c5393580-f805-4401-95e8-94b7a6ef2fc2",
    "Office 365 Management APIs",
);

/// Every first-party application the scenario mentions (for service principals).
pub const FIRST_PARTY: [App; 20] = [
    OFFICE_HOME,
    OUTLOOK_WEB,
    OFFICE,
    TEAMS,
    OUTLOOK_MOBILE,
    ONEDRIVE_SYNC,
    MY_SIGNINS,
    AUTH_BROKER,
    WINDOWS_SIGN_IN,
    AZURE_PORTAL,
    GRAPH,
    EXCHANGE,
    SHAREPOINT,
    TEAMS_SERVICES,
    DEVICE_REGISTRATION,
    AAD_GRAPH,
    AZURE_MANAGEMENT,
    KEY_VAULT,
    STORAGE,
    MANAGEMENT_API,
];

/// Object id of an application's service principal in this tenant (computed
/// once: sign-ins of the large profile ask for it a million times).
pub fn sp_id(app: &App) -> &'static str {
    static FIRST_PARTY_IDS: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    if let Some(t) = TENANT_APPS.iter().find(|t| t.app == *app) {
        return t.sp_id;
    }
    let ids = FIRST_PARTY_IDS.get_or_init(|| {
        FIRST_PARTY
            .iter()
            .map(|a| (a.id, guid("servicePrincipal", a.id).to_string()))
            .collect()
    });
    ids.iter()
        .find(|(id, _)| *id == app.id)
        .map(|(_, sp)| sp.as_str())
        .expect("a first-party application of the catalog")
}

/// How a workload identity authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Secret {
        key_id: &'static str,
    },
    Certificate {
        key_id: &'static str,
        thumbprint: &'static str,
    },
    ManagedIdentity {
        user_assigned: bool,
        resource: &'static str,
    },
}

/// An application registered in (or a managed identity of) this tenant.
#[derive(Debug)]
pub struct TenantApp {
    pub app: App,
    /// Object id of the application registration (none for managed identities).
    pub object_id: Option<&'static str>,
    pub sp_id: &'static str,
    pub credential: Credential,
}

/// The collector itself, registered by the IT administrator on the day before
/// collection (its client id and secret are the simulator's documented demo ones).
pub const TOOL: App = app("668e9a44-67cf-4034-9586-151d88ebb224", "m365-preserve");
/// An older reporting app with only User.Read.All (missing-permission paths).
pub const LIMITED: App = app("43fc5ec2-3ab2-48c7-9bc5-a0cee3cee02c", "limited-reader");
/// Nightly attendance sync from the on-premises HR system.
pub const HR_SYNC: App = app("bf1cf22a-c9bf-4d2f-b56c-6cd98aaf54de", "勤怠連携バッチ");
/// A third-party backup service (certificate credential).
pub const BACKUP: App = app(
    "a518c4ae-14c1-4f64-b50a-09aac5776aa7",
    "Contoso Backup for Microsoft 365",
);
/// The invoice-processing Azure Function's system-assigned identity.
pub const INVOICE_FUNCTION: App = app(
    "749ba5d3-e452-42f2-8804-1f76b811696e",
    "func-contoso-invoice",
);
/// A user-assigned identity used by automation runbooks.
pub const AUTOMATION_IDENTITY: App = app(
    "65dd8fbb-8c62-4dee-968d-eb34eb892ada",
    "id-contoso-automation",
);
/// The application the attacker registered with the victim's account.
pub const ATTACKER_APP: App = app("b4b59d80-6fb8-4116-9ed4-ba260f1dc720", "Mail Archive Sync");

pub static TENANT_APPS: [TenantApp; 7] = [
    TenantApp {
        app: TOOL,
        object_id: Some("56ed8eb0-bd10-4d8e-8f73-abc6edc96372"),
        sp_id: "7ccf714b-fc1a-4730-b94c-1b4da3c5c972",
        credential: Credential::Secret {
            key_id: "0f0b7c2e-5d4a-4a8e-9a51-3c2b1e0d9f87",
        },
    },
    TenantApp {
        app: LIMITED,
        object_id: Some("14a575bd-8dcc-44dc-9812-c3d0d3b13b83"),
        sp_id: "597fba7b-1856-480a-a09b-1654b5499247",
        credential: Credential::Secret {
            key_id: "5c1e2d3f-8a9b-4c7d-b6e5-f4a3b2c1d0e9",
        },
    },
    TenantApp {
        app: HR_SYNC,
        object_id: Some("3455def2-d26a-48be-bdc1-42f6b442dc3a"),
        sp_id: "a1c3dc85-4a35-4cca-8ed8-bf6052d7275f",
        credential: Credential::Secret {
            key_id: "e53bb439-f707-4025-aa14-d0b7bfc5319b",
        },
    },
    TenantApp {
        app: BACKUP,
        object_id: Some("ad6cbc6a-3128-40ad-bdb6-3d0460e3abba"),
        sp_id: "961121d3-25a5-4111-86fe-3ed6e4f92e1d",
        credential: Credential::Certificate {
            key_id: "23a5e96f-d07d-4674-a5b0-a516510fb522",
            thumbprint: "9F2C4E8B1A7D3F6E0C5B8A2D4F1E7C3B9A6D0E2F",
        },
    },
    TenantApp {
        app: INVOICE_FUNCTION,
        object_id: None,
        sp_id: "ec6f79f9-8848-4472-92cb-434468f82d45",
        credential: Credential::ManagedIdentity {
            user_assigned: false,
            resource: "resourcegroups/rg-invoice-prod/providers/Microsoft.Web/sites/func-contoso-invoice",
        },
    },
    TenantApp {
        app: AUTOMATION_IDENTITY,
        object_id: None,
        sp_id: "8185e3fb-0e74-4f7b-a22c-524fc71e514f",
        credential: Credential::ManagedIdentity {
            user_assigned: true,
            resource: "resourcegroups/rg-automation/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-contoso-automation",
        },
    },
    TenantApp {
        app: ATTACKER_APP,
        object_id: Some("744bc001-ff7a-41b1-83cc-10aecb5c966d"),
        sp_id: "6d5d47f5-e96a-488a-ac67-bfdbeb99a90d",
        credential: Credential::Secret {
            key_id: "4b82bc1d-05fd-4517-b340-49d746f0592c",
        },
    },
];

pub fn tenant_app(app: App) -> &'static TenantApp {
    TENANT_APPS
        .iter()
        .find(|t| t.app == app)
        .expect("a tenant application")
}

/// Client software, as it shows in `userAgent` and `deviceDetail`.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    pub user_agent: &'static str,
    pub os: &'static str,
    pub browser: &'static str,
    pub client_app: &'static str,
}

pub const EDGE_WINDOWS: Client = Client {
    user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/155.0.0.0 Safari/537.36 Edg/155.0.0.0",
    os: "Windows10",
    browser: "Edge 155.0.0",
    client_app: "Browser",
};
/// Office desktop apps and Teams on Windows get tokens through WAM.
pub const WAM_WINDOWS: Client = Client {
    user_agent: "Windows-AzureAD-Authentication-Provider/1.0",
    os: "Windows10",
    browser: "Rich Client 5.6.0",
    client_app: "Mobile Apps and Desktop clients",
};
pub const OUTLOOK_IOS: Client = Client {
    user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 27_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    os: "Ios 27.1",
    browser: "Mobile Safari",
    client_app: "Mobile Apps and Desktop clients",
};
pub const OUTLOOK_ANDROID: Client = Client {
    user_agent: "Dalvik/2.1.0 (Linux; U; Android 16; SM-S931Q Build/BP2A.250605.031)",
    os: "Android 16",
    browser: "Rich Client 5.4.0",
    client_app: "Mobile Apps and Desktop clients",
};
/// The attacker's browser when replaying the stolen session: not the victim's.
pub const ATTACKER_CHROME: Client = Client {
    user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Safari/537.36",
    os: "Linux",
    browser: "Chrome 149.0.0",
    client_app: "Browser",
};
/// ROADtools' default device-registration user agent.
pub const ATTACKER_DSREG: Client = Client {
    user_agent: "Dsreg/10.0 (Windows 10.0.19044.1826)",
    os: "Windows 10",
    browser: "Rich Client",
    client_app: "Mobile Apps and Desktop clients",
};
/// The script that drives the attacker's app.
pub const ATTACKER_SCRIPT: Client = Client {
    user_agent: "python-requests/2.32.5",
    os: "",
    browser: "Python Requests 2.32",
    client_app: "Mobile Apps and Desktop clients",
};
pub const TOR_BROWSER: Client = Client {
    user_agent: "Mozilla/5.0 (Windows NT 10.0; rv:140.0) Gecko/20100101 Firefox/140.0",
    os: "Windows10",
    browser: "Firefox 140.0",
    client_app: "Browser",
};

/// Conditional Access policies of the tenant.
pub struct CaPolicy {
    pub id: &'static str,
    pub name: &'static str,
}

pub const CA_MFA: CaPolicy = CaPolicy {
    id: "84d42a0c-6eb5-4589-8451-3f0a9ffa6bc3",
    name: "CA001: 全ユーザーに多要素認証を要求",
};
/// The geo-block that would have stopped the attacker, still in report-only mode.
pub const CA_GEO: CaPolicy = CaPolicy {
    id: "1a5e0ec3-2c2e-4c20-92af-baca6600c232",
    name: "CA002: 国外からのアクセスをブロック",
};

/// A person's work pattern and equipment.
#[derive(Debug)]
pub struct Person {
    /// Local part of the UPN (romanised `given.surname`).
    pub key: &'static str,
    pub surname: &'static str,
    pub given: &'static str,
    pub department: &'static str,
    pub title: &'static str,
    pub osaka: bool,
    /// Index into `HOMES`.
    pub home: usize,
    /// Weekdays (0 = Monday) this person works from home.
    pub telework: &'static [u32],
    pub android: bool,
}

const fn person(
    key: &'static str,
    (surname, given): (&'static str, &'static str),
    (department, title): (&'static str, &'static str),
    home: usize,
    telework: &'static [u32],
) -> Person {
    Person {
        key,
        surname,
        given,
        department,
        title,
        osaka: home >= 7,
        home,
        telework,
        android: false,
    }
}

/// Everyone with an account. Index 0 is the victim, 1 the Global Administrator.
pub static PEOPLE: [Person; 32] = [
    person(
        "hanako.sato",
        ("佐藤", "花子"),
        ("経理部", "主任"),
        1,
        &[0, 4],
    ),
    person(
        "kenichi.suzuki",
        ("鈴木", "健一"),
        ("情報システム部", "課長"),
        0,
        &[2],
    ),
    person(
        "makoto.takahashi",
        ("高橋", "誠"),
        ("経営企画室", "代表取締役社長"),
        4,
        &[],
    ),
    person("misaki.tanaka", ("田中", "美咲"), ("営業部", ""), 2, &[1]),
    person("daisuke.ito", ("伊藤", "大輔"), ("営業部", "部長"), 3, &[]),
    person("yumi.watanabe", ("渡辺", "由美"), ("総務部", ""), 5, &[3]),
    Person {
        android: true,
        ..person(
            "shota.yamamoto",
            ("山本", "翔太"),
            ("開発部", ""),
            6,
            &[0, 2, 4],
        )
    },
    person(
        "ai.nakamura",
        ("中村", "愛"),
        ("開発部", "主任"),
        0,
        &[1, 3],
    ),
    person(
        "naoki.kobayashi",
        ("小林", "直樹"),
        ("経理部", "部長"),
        4,
        &[],
    ),
    person("megumi.kato", ("加藤", "恵"), ("人事部", ""), 2, &[4]),
    Person {
        android: true,
        ..person("takuya.yoshida", ("吉田", "拓也"), ("営業部", ""), 3, &[])
    },
    person("taro.yamada", ("山田", "太郎"), ("総務部", "課長"), 5, &[]),
    person("yuko.sasaki", ("佐々木", "優子"), ("経理部", ""), 1, &[2]),
    person(
        "takashi.yamaguchi",
        ("山口", "隆"),
        ("情報システム部", ""),
        6,
        &[1],
    ),
    person(
        "aya.matsumoto",
        ("松本", "彩"),
        ("マーケティング部", ""),
        0,
        &[0, 3],
    ),
    Person {
        android: true,
        ..person(
            "kenta.inoue",
            ("井上", "健太"),
            ("開発部", ""),
            2,
            &[1, 2, 3],
        )
    },
    person(
        "mayumi.kimura",
        ("木村", "真由美"),
        ("人事部", "課長"),
        3,
        &[],
    ),
    person("daiki.hayashi", ("林", "大樹"), ("営業部", ""), 7, &[4]),
    person(
        "sakura.saito",
        ("斎藤", "さくら"),
        ("マーケティング部", ""),
        4,
        &[1],
    ),
    Person {
        android: true,
        ..person(
            "hiroshi.shimizu",
            ("清水", "浩"),
            ("製造部", "部長"),
            8,
            &[],
        )
    },
    person("akemi.yamazaki", ("山崎", "明美"), ("総務部", ""), 5, &[2]),
    person("ryo.mori", ("森", "亮"), ("開発部", ""), 6, &[0, 4]),
    person(
        "shinichi.ikeda",
        ("池田", "真一"),
        ("営業部", "課長"),
        9,
        &[],
    ),
    person("yui.hashimoto", ("橋本", "結衣"), ("経理部", ""), 1, &[3]),
    Person {
        android: true,
        ..person("kazuya.abe", ("阿部", "和也"), ("製造部", ""), 7, &[])
    },
    person(
        "yoko.ishikawa",
        ("石川", "陽子"),
        ("法務部", ""),
        0,
        &[2, 4],
    ),
    person("yuto.maeda", ("前田", "悠斗"), ("開発部", ""), 3, &[0, 1]),
    person(
        "miho.fujita",
        ("藤田", "美穂"),
        ("マーケティング部", "課長"),
        2,
        &[4],
    ),
    person("tsuyoshi.ogawa", ("小川", "剛"), ("製造部", ""), 8, &[]),
    person("nana.okada", ("岡田", "奈々"), ("営業部", ""), 9, &[3]),
    person(
        "osamu.goto",
        ("後藤", "修"),
        ("情報システム部", ""),
        4,
        &[0],
    ),
    person(
        "chihiro.hasegawa",
        ("長谷川", "千尋"),
        ("人事部", ""),
        5,
        &[],
    ),
];

/// A person with the identifiers derived from them.
#[derive(Debug)]
pub struct Member {
    pub person: &'static Person,
    pub index: usize,
    pub id: String,
    pub upn: String,
    pub display_name: String,
    /// The Entra-joined laptop: object id, `deviceId` and name.
    pub laptop_object_id: String,
    pub laptop_device_id: String,
    pub laptop_name: String,
    /// Model of the phone that runs Microsoft Authenticator.
    pub phone_model: &'static str,
}

impl Member {
    pub fn home(&self) -> &'static Place {
        &HOMES[self.person.home]
    }
    pub fn office(&self) -> &'static Place {
        if self.person.osaka {
            &OSAKA_OFFICE
        } else {
            &TOKYO_OFFICE
        }
    }
    pub fn mobile_client(&self) -> Client {
        if self.person.android {
            OUTLOOK_ANDROID
        } else {
            OUTLOOK_IOS
        }
    }
    /// Exchange's `UserKey`/PUID for this person (16 hex digits).
    pub fn puid(&self) -> String {
        format!("10032{:011X}", number(self.person.key) & 0xFFF_FFFF_FFFF)
    }
    /// The on-premises-style SID Exchange Online gives the mailbox owner.
    pub fn mailbox_sid(&self) -> String {
        format!(
            "S-1-5-21-2619488741-3082261379-1930562874-{}",
            10_000_000 + number(self.person.key) % 90_000_000
        )
    }
}

pub fn roster() -> &'static [Member] {
    static ROSTER: OnceLock<Vec<Member>> = OnceLock::new();
    ROSTER.get_or_init(|| {
        PEOPLE
            .iter()
            .enumerate()
            .map(|(index, person)| Member {
                person,
                index,
                id: guid("user", person.key).to_string(),
                upn: format!("{}@{DOMAIN}", person.key),
                display_name: format!("{} {}", person.surname, person.given),
                laptop_object_id: guid("device-object", person.key).to_string(),
                laptop_device_id: guid("device", person.key).to_string(),
                laptop_name: format!("CJP-LT-{:04}", 231 + index * 7),
                phone_model: if person.android {
                    ["SM-S931Q", "SO-51F", "SH-54E"][index % 3]
                } else {
                    ["iPhone 15", "iPhone 16", "iPhone 14 Pro", "iPhone 17"][index % 4]
                },
            })
            .collect()
    })
}

pub fn victim() -> &'static Member {
    &roster()[0]
}

pub fn admin() -> &'static Member {
    &roster()[1]
}

/// The chief executive's mailbox is shielded by an Exchange application access
/// policy: the simulator answers as if the app may not read it.
pub fn ceo() -> &'static Member {
    &roster()[2]
}

/// The new hire created during the window.
pub fn new_hire() -> &'static Member {
    &roster()[31]
}

/// Helpdesk operator (User Administrator) and security analyst (Security Reader,
/// eligible Security Administrator).
pub fn helpdesk() -> &'static Member {
    &roster()[13]
}

pub fn analyst() -> &'static Member {
    &roster()[30]
}

/// `alice_fabrikam.com#EXT#@tenant`: how an invited guest's UPN is formed.
pub fn guest_upn(address: &str) -> String {
    format!("{}#EXT#@{DOMAIN}", address.replace('@', "_"))
}
