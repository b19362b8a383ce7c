//! Closed vocabularies of the domain, parsed once at the edge.

/// Declares a closed string enum: serde and OpenAPI use the exact text, and
/// `as_str` gives the same text for SQL binds and CSV.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] #[schema(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire text of the value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// A contact channel.
    Channel {
        Email = "Email",
        Sms = "SMS",
        Voice = "Voice",
        WebChat = "WebChat",
        Facebook = "Facebook",
        Instagram = "Instagram",
        Twitter = "Twitter",
        TrustPilot = "TrustPilot",
        WhatsApp = "WhatsApp",
        Telegram = "Telegram",
    }
);

string_enum!(
    /// The state of an interaction, as recorded by its state audits.
    InteractionState {
        Draft = "Draft",
        Created = "Created",
        Queued = "Queued",
        Assigned = "Assigned",
        Automation = "Automation",
        Closed = "Closed",
    }
);

string_enum!(
    /// Which way a message or call travelled.
    Direction {
        Inbound = "Inbound",
        Outbound = "Outbound",
    }
);

string_enum!(
    /// What a message carries.
    ContentType {
        Text = "Text",
        Image = "Image",
        Audio = "Audio",
        Video = "Video",
        File = "File",
    }
);

string_enum!(
    /// An opt-in or opt-out keyword carried by a message.
    Keyword {
        OptIn = "OptIn",
        OptOut = "OptOut",
    }
);

string_enum!(
    /// The delivery outcome of a message.
    DeliveryStatus {
        Delivered = "Delivered",
        Failed = "Failed",
    }
);

string_enum!(
    /// Who ended a conversation.
    EndedBy {
        EndUser = "EndUser",
        Agent = "Agent",
        Bot = "Bot",
        System = "System",
    }
);

string_enum!(
    /// The kind of a dynamic data type.
    DataKind {
        SingleSelect = "SingleSelect",
        StatusSelect = "StatusSelect",
        StringEditor = "StringEditor",
    }
);

string_enum!(
    /// A role carried by a token.
    Role {
        Analytics = "Analytics",
        Ingest = "Ingest",
        Admin = "Admin",
    }
);

string_enum!(
    /// The calendar unit of by-date buckets.
    Granularity {
        Hour = "Hour",
        Day = "Day",
        Week = "Week",
        Month = "Month",
    }
);

string_enum!(
    /// Sort direction.
    SortOrder {
        Ascending = "Ascending",
        Descending = "Descending",
    }
);

string_enum!(
    /// Which derived message time a response-times tile reports.
    ResponseTimeKind {
        AdvisorResponseTime = "AdvisorResponseTime",
        OriginatorWaitTime = "OriginatorWaitTime",
    }
);

string_enum!(
    /// Which unit-of-work audits an advisor-actions tile counts.
    UnitOfWorkAction {
        Closed = "Closed",
        Message = "Message",
        Data = "Data",
        Note = "Note",
        None = "None",
        Any = "Any",
    }
);

string_enum!(
    /// What view rows are ordered by.
    OrderField {
        Timestamp = "Timestamp",
        Reference = "Reference",
    }
);

string_enum!(
    /// Context attached to view rows.
    Context {
        Data = "Data",
        Queue = "Queue",
        User = "User",
        Account = "Account",
    }
);
