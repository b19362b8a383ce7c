//! The column catalogue of the ino.cx data sources (API.md §5.5): the
//! fields of the two events that feed them (`distribution.completed`,
//! `sms.sent`) and, per source, its columns and where each comes from. The
//! one definition that ingestion validates and stores by, the row query
//! selects and orders by, the OpenAPI document lists and a 422 names.

/// How a value is typed, on the wire and in its stored column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A required opaque id: 1–128 characters (`text`).
    Id,
    /// A string of at most this many characters (`text`).
    Text(usize),
    /// A UUID of the directory (`uuid`); shown as a name, never as such.
    Uuid,
    /// Seconds, at least 0, millisecond precision (`double precision`).
    Seconds,
    /// An RFC 3339 instant with an offset, stored in UTC (`timestamptz`).
    Instant,
    /// Yes or no (`boolean`).
    Boolean,
    /// A list of strings of at most 200 characters each (`text[]`).
    Strings,
    /// A number at least 0 (`double precision`).
    Number,
    /// One of these values (`text`).
    Enum(&'static [&'static str]),
}

/// The most items of a [`Kind::Strings`] list, and characters of each.
pub const MAX_STRINGS: usize = 100;
pub const MAX_STRING_ITEM: usize = 200;
/// The largest duration accepted, in seconds (ten years).
pub const MAX_SECONDS: f64 = 315_360_000.0;

/// One field of an event, and the column of its typed table that keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The event's field, camelCase (also the column id that shows it).
    pub name: &'static str,
    /// The column of the typed table (snake_case, never from input).
    pub column: &'static str,
    pub kind: Kind,
    pub required: bool,
}

mod fields;

use fields::*;
pub use fields::{DIRECTIONS, DISTRIBUTION_FIELDS, SMS_FIELDS};

/// Where a column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The event's `occurredAt`.
    Date,
    /// A field of the event, as stored.
    Field(Field),
    /// The directory name of the event's `queueId`.
    QueueName,
    /// The directory user (`firstName lastName`) of the event's `userId`.
    UserName,
}

/// One column of a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The column id (camelCase, API.md §5.5).
    pub id: &'static str,
    pub origin: Origin,
    /// SMS only: shown only when named in `columns`.
    pub additional: bool,
}

impl Column {
    /// The column's type as the rows show it (a directory name is a string).
    pub fn kind(&self) -> Kind {
        match self.origin {
            Origin::Date => Kind::Instant,
            Origin::Field(field) => field.kind,
            Origin::QueueName | Origin::UserName => NAME,
        }
    }
}

const fn main(id: &'static str, origin: Origin) -> Column {
    Column {
        id,
        origin,
        additional: false,
    }
}

const fn shown(field: Field) -> Column {
    main(field.name, Origin::Field(field))
}

const fn additional(field: Field) -> Column {
    Column {
        additional: true,
        ..shown(field)
    }
}

/// The columns of a distribution source; `correspondent` is the Sender
/// (incoming) or the Recipient (outgoing).
const fn distribution_columns(correspondent: &'static str) -> [Column; 27] {
    [
        main("distributionDate", Origin::Date),
        shown(DISTRIBUTION_END_DATE),
        shown(DISTRIBUTION_TYPE),
        shown(MESSAGING_TYPE),
        main(correspondent, Origin::Field(CORRESPONDENT)),
        main("queue", Origin::QueueName),
        main("user", Origin::UserName),
        shown(WAIT_TIME),
        shown(EXCHANGE_TIME),
        shown(POST_INTERACTION_TIME),
        shown(TOTAL_INTERACTION_TIME),
        shown(INTERACTION_STATUS),
        shown(TRANSFERRED),
        shown(DETAILED_INTERACTION_STATUS),
        shown(TRANSFER_DATE),
        shown(TRANSFER_RELEASE_DATE),
        shown(TRANSFER_TO_USER),
        shown(TRANSFER_TO_QUEUE),
        shown(TRANSFER_TO_QUEUE_GROUP),
        shown(TRANSFER_TO_SMART_ROUTING),
        shown(TRANSFER_TO_ENTRY_POINT),
        shown(INTERACTION_ID),
        shown(ROUTING_TYPE),
        shown(CALL_SWITCHED_TO_VIDEO),
        shown(VIDEO_CALL_DURATION),
        shown(VIDEO_CALL_WAIT_TIME),
        shown(QUEUE_TAG),
    ]
}

/// Incoming message distributions, in the seed's order.
pub const INCOMING_COLUMNS: &[Column] = &distribution_columns("sender");
/// Outgoing message distributions, in the seed's order.
pub const OUTGOING_COLUMNS: &[Column] = &distribution_columns("recipient");

/// Messages, one row per distribution, in the seed's order (its repeated
/// "Exchange time" once; its "Transfer" is `transferred`).
pub const MESSAGES_COLUMNS: &[Column] = &[
    shown(INTERACTION_ID),
    shown(SESSION_START),
    shown(WAIT_TIME),
    shown(EXCHANGE_TIME),
    shown(TOTAL_INTERACTION_TIME),
    shown(ENTRY_POINT),
    shown(STATUS),
    shown(SESSION_END),
    shown(ROUTING_TYPE),
    shown(DIRECTION),
    shown(MESSAGING_TYPE),
    shown(SMART_ROUTING_NAME),
    shown(SMART_ROUTING_VERSION_NAME),
    shown(CORRESPONDENT),
    shown(CHECKPOINTS),
    shown(DETAILED_INTERACTION_STATUS),
    main("distributionDate", Origin::Date),
    shown(DISTRIBUTION_END_DATE),
    shown(DISTRIBUTION_TYPE),
    main("queue", Origin::QueueName),
    main("user", Origin::UserName),
    shown(POST_INTERACTION_TIME),
    shown(TRANSFERRED),
    shown(TRANSFER_DATE),
    shown(TRANSFER_RELEASE_DATE),
    shown(TRANSFER_TO_USER),
    shown(TRANSFER_TO_QUEUE),
    shown(TRANSFER_TO_QUEUE_GROUP),
    shown(TRANSFER_TO_SMART_ROUTING),
    shown(TRANSFER_TO_ENTRY_POINT),
    shown(CALL_SWITCHED_TO_VIDEO),
    shown(VIDEO_CALL_DURATION),
    shown(VIDEO_CALL_WAIT_TIME),
];

/// SMS: the seed's base columns, then its additional ones.
pub const SMS_COLUMNS: &[Column] = &[
    shown(SMS_ID),
    main("sendDate", Origin::Date),
    shown(SMS_TEMPLATE),
    shown(SENDER),
    shown(ORIGIN),
    shown(SMS_TYPE),
    shown(SMS_CATEGORY),
    shown(RECIPIENT),
    shown(CREDITS),
    shown(CONTENT),
    shown(CHECKPOINTS),
    shown(SMS_STATUS),
    additional(SMS_DISTRIBUTION_ID),
    additional(INTERACTION_ID),
    additional(ORIGINAL_DISTRIBUTION_ID),
    additional(ORIGINAL_INTERACTION_ID),
    additional(ORIGINAL_INTERACTION_DIRECTION),
    additional(ORIGINAL_INTERACTION_FLOW),
    additional(ORIGINAL_INTERACTION_QUEUE),
    additional(ORIGINAL_INTERACTION_QUEUE_TAG),
    additional(PAYMENT_MODULE),
    additional(PAYMENT_MODULE_ALIAS),
    Column {
        additional: true,
        ..main("queue", Origin::QueueName)
    },
    additional(QUEUE_TAG),
    additional(SMS_CAMPAIGN),
    additional(SMS_CAMPAIGNS_ALIAS),
    additional(SMS_TEMPLATE_ALIAS),
    additional(SMART_ROUTING),
    additional(SMART_ROUTING_VERSION_ALIAS),
    Column {
        additional: true,
        ..main("user", Origin::UserName)
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Column ids are unique per source, fields and stored columns per
    /// event, and every shown field is a field of the source's event.
    #[test]
    fn ids_are_unique_and_every_column_is_stored() {
        for (columns, fields) in [
            (INCOMING_COLUMNS, DISTRIBUTION_FIELDS),
            (OUTGOING_COLUMNS, DISTRIBUTION_FIELDS),
            (MESSAGES_COLUMNS, DISTRIBUTION_FIELDS),
            (SMS_COLUMNS, SMS_FIELDS),
        ] {
            let ids: HashSet<_> = columns.iter().map(|c| c.id).collect();
            assert_eq!(ids.len(), columns.len());
            for column in columns {
                if let Origin::Field(field) = column.origin {
                    assert!(fields.contains(&field), "{} is not stored", column.id);
                }
            }
        }
        for fields in [DISTRIBUTION_FIELDS, SMS_FIELDS] {
            let names: HashSet<_> = fields.iter().map(|f| f.name).collect();
            let stored: HashSet<_> = fields.iter().map(|f| f.column).collect();
            assert_eq!((names.len(), stored.len()), (fields.len(), fields.len()));
        }
        assert_eq!(SMS_COLUMNS.iter().filter(|c| !c.additional).count(), 12);
        assert_eq!(MESSAGES_COLUMNS.len(), 33);
    }
}
