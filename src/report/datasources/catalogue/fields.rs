//! The fields of the two events of the data sources, each with the column
//! of its typed table that keeps it.

use super::{Field, Kind};

const fn field(name: &'static str, column: &'static str, kind: Kind) -> Field {
    Field {
        name,
        column,
        kind,
        required: false,
    }
}

pub(super) const NAME: Kind = Kind::Text(200);
pub(super) const ADDRESS: Kind = Kind::Text(320);
pub(super) const OPAQUE: Kind = Kind::Text(128);

/// `Incoming` or `Outgoing`: which distribution source a distribution is in.
pub const DIRECTIONS: &[&str] = &["Incoming", "Outgoing"];
pub(super) const STATUSES: &[&str] = &["Treated", "Dissuaded", "Canceled", "Pending"];
pub(super) const DETAILED_STATUSES: &[&str] = &[
    "Accepted",
    "Abandoned",
    "SuccessfullyCompleted",
    "Dissuaded",
    "CustomerDissuaded",
    "Error",
    "EstimatedWaitingTimeTooLong",
    "MaximumProcessingTimeReached",
    "QueueFull",
    "Missed",
    "AgentsUnavailable",
    "Waiting",
    "Refused",
    "MaximumWaitingTimeReached",
    "Transferred",
    "TransferCancelled",
    "Processed",
    "ProcessedWithoutResponse",
    "NoMicrophoneAuthorisation",
    "VisioAbandoned",
];

// distribution.completed
pub(super) const DISTRIBUTION_ID: Field = Field {
    required: true,
    ..field("distributionId", "distribution_id", Kind::Id)
};
pub(super) const DIRECTION: Field = Field {
    required: true,
    ..field("direction", "direction", Kind::Enum(DIRECTIONS))
};
pub(super) const CORRESPONDENT: Field = field("correspondent", "correspondent", ADDRESS);
pub(super) const QUEUE_ID: Field = field("queueId", "queue_id", Kind::Uuid);
pub(super) const USER_ID: Field = field("userId", "user_id", Kind::Uuid);
pub(super) const DISTRIBUTION_END_DATE: Field = field(
    "distributionEndDate",
    "distribution_end_date",
    Kind::Instant,
);
pub(super) const DISTRIBUTION_TYPE: Field = field(
    "distributionType",
    "distribution_type",
    Kind::Enum(&["Queue", "User"]),
);
pub(super) const MESSAGING_TYPE: Field = field(
    "messagingType",
    "messaging_type",
    Kind::Enum(&["Chat", "WhatsApp", "Telegram", "Messenger"]),
);
pub(super) const WAIT_TIME: Field = field("waitTime", "wait_time", Kind::Seconds);
pub(super) const EXCHANGE_TIME: Field = field("exchangeTime", "exchange_time", Kind::Seconds);
pub(super) const POST_INTERACTION_TIME: Field = field(
    "postInteractionTime",
    "post_interaction_time",
    Kind::Seconds,
);
pub(super) const TOTAL_INTERACTION_TIME: Field = field(
    "totalInteractionTime",
    "total_interaction_time",
    Kind::Seconds,
);
pub(super) const INTERACTION_STATUS: Field = field(
    "interactionStatus",
    "interaction_status",
    Kind::Enum(STATUSES),
);
pub(super) const TRANSFERRED: Field = field("transferred", "transferred", Kind::Boolean);
pub(super) const DETAILED_INTERACTION_STATUS: Field = field(
    "detailedInteractionStatus",
    "detailed_interaction_status",
    Kind::Enum(DETAILED_STATUSES),
);
pub(super) const TRANSFER_DATE: Field = field("transferDate", "transfer_date", Kind::Instant);
pub(super) const TRANSFER_RELEASE_DATE: Field = field(
    "transferReleaseDate",
    "transfer_release_date",
    Kind::Instant,
);
pub(super) const TRANSFER_TO_USER: Field =
    field("transferToUser", "transfer_to_user", Kind::Boolean);
pub(super) const TRANSFER_TO_QUEUE: Field = field("transferToQueue", "transfer_to_queue", NAME);
pub(super) const TRANSFER_TO_QUEUE_GROUP: Field =
    field("transferToQueueGroup", "transfer_to_queue_group", NAME);
pub(super) const TRANSFER_TO_SMART_ROUTING: Field =
    field("transferToSmartRouting", "transfer_to_smart_routing", NAME);
pub(super) const TRANSFER_TO_ENTRY_POINT: Field =
    field("transferToEntryPoint", "transfer_to_entry_point", NAME);
pub(super) const INTERACTION_ID: Field = field("interactionId", "interaction_id", OPAQUE);
pub(super) const ROUTING_TYPE: Field = field(
    "routingType",
    "routing_type",
    Kind::Enum(&["Smart", "Direct"]),
);
pub(super) const CALL_SWITCHED_TO_VIDEO: Field = field(
    "callSwitchedToVideo",
    "call_switched_to_video",
    Kind::Boolean,
);
pub(super) const VIDEO_CALL_DURATION: Field =
    field("videoCallDuration", "video_call_duration", Kind::Seconds);
pub(super) const VIDEO_CALL_WAIT_TIME: Field =
    field("videoCallWaitTime", "video_call_wait_time", Kind::Seconds);
pub(super) const QUEUE_TAG: Field = field("queueTag", "queue_tag", NAME);
pub(super) const SESSION_START: Field = field("sessionStart", "session_start", Kind::Instant);
pub(super) const SESSION_END: Field = field("sessionEnd", "session_end", Kind::Instant);
pub(super) const ENTRY_POINT: Field = field("entryPoint", "entry_point", NAME);
pub(super) const STATUS: Field = field("status", "status", Kind::Enum(STATUSES));
pub(super) const SMART_ROUTING_NAME: Field = field("smartRoutingName", "smart_routing_name", NAME);
pub(super) const SMART_ROUTING_VERSION_NAME: Field = field(
    "smartRoutingVersionName",
    "smart_routing_version_name",
    NAME,
);
pub(super) const CHECKPOINTS: Field = field("checkpoints", "checkpoints", Kind::Strings);

/// The fields of `distribution.completed` (its `occurredAt` is the
/// distribution date).
pub const DISTRIBUTION_FIELDS: &[Field] = &[
    DISTRIBUTION_ID,
    DIRECTION,
    CORRESPONDENT,
    QUEUE_ID,
    USER_ID,
    DISTRIBUTION_END_DATE,
    DISTRIBUTION_TYPE,
    MESSAGING_TYPE,
    WAIT_TIME,
    EXCHANGE_TIME,
    POST_INTERACTION_TIME,
    TOTAL_INTERACTION_TIME,
    INTERACTION_STATUS,
    TRANSFERRED,
    DETAILED_INTERACTION_STATUS,
    TRANSFER_DATE,
    TRANSFER_RELEASE_DATE,
    TRANSFER_TO_USER,
    TRANSFER_TO_QUEUE,
    TRANSFER_TO_QUEUE_GROUP,
    TRANSFER_TO_SMART_ROUTING,
    TRANSFER_TO_ENTRY_POINT,
    INTERACTION_ID,
    ROUTING_TYPE,
    CALL_SWITCHED_TO_VIDEO,
    VIDEO_CALL_DURATION,
    VIDEO_CALL_WAIT_TIME,
    QUEUE_TAG,
    SESSION_START,
    SESSION_END,
    ENTRY_POINT,
    STATUS,
    SMART_ROUTING_NAME,
    SMART_ROUTING_VERSION_NAME,
    CHECKPOINTS,
];

// sms.sent (its `queueId`, `userId`, `checkpoints`, `distributionId` and
// `interactionId` are the same fields as above; optional here).
pub(super) const SMS_ID: Field = Field {
    required: true,
    ..field("smsId", "sms_id", Kind::Id)
};
pub(super) const SMS_DISTRIBUTION_ID: Field = field("distributionId", "distribution_id", OPAQUE);
pub(super) const SMS_TEMPLATE: Field = field("smsTemplate", "sms_template", NAME);
pub(super) const SENDER: Field = field("sender", "sender", ADDRESS);
pub(super) const ORIGIN: Field = field(
    "origin",
    "origin",
    Kind::Enum(&[
        "VideoCall",
        "Workflow",
        "PaymentModule",
        "SmartRouting",
        "User",
        "PublicApi",
        "OutgoingSms",
    ]),
);
pub(super) const SMS_TYPE: Field =
    field("smsType", "sms_type", Kind::Enum(&["Interaction", "Basic"]));
pub(super) const SMS_CATEGORY: Field = field(
    "smsCategory",
    "sms_category",
    Kind::Enum(&["Notification", "Marketing"]),
);
pub(super) const RECIPIENT: Field = field("recipient", "recipient", ADDRESS);
pub(super) const CREDITS: Field = field("credits", "credits", Kind::Number);
pub(super) const CONTENT: Field = field("content", "content", Kind::Text(10_000));
pub(super) const SMS_STATUS: Field = field("status", "status", Kind::Enum(&["Received", "Sent"]));
pub(super) const ORIGINAL_DISTRIBUTION_ID: Field =
    field("originalDistributionId", "original_distribution_id", OPAQUE);
pub(super) const ORIGINAL_INTERACTION_ID: Field =
    field("originalInteractionId", "original_interaction_id", OPAQUE);
pub(super) const ORIGINAL_INTERACTION_DIRECTION: Field = field(
    "originalInteractionDirection",
    "original_interaction_direction",
    NAME,
);
pub(super) const ORIGINAL_INTERACTION_FLOW: Field =
    field("originalInteractionFlow", "original_interaction_flow", NAME);
pub(super) const ORIGINAL_INTERACTION_QUEUE: Field = field(
    "originalInteractionQueue",
    "original_interaction_queue",
    NAME,
);
pub(super) const ORIGINAL_INTERACTION_QUEUE_TAG: Field = field(
    "originalInteractionQueueTag",
    "original_interaction_queue_tag",
    NAME,
);
pub(super) const PAYMENT_MODULE: Field = field("paymentModule", "payment_module", NAME);
pub(super) const PAYMENT_MODULE_ALIAS: Field =
    field("paymentModuleAlias", "payment_module_alias", NAME);
pub(super) const SMS_CAMPAIGN: Field = field("smsCampaign", "sms_campaign", NAME);
pub(super) const SMS_CAMPAIGNS_ALIAS: Field =
    field("smsCampaignsAlias", "sms_campaigns_alias", NAME);
pub(super) const SMS_TEMPLATE_ALIAS: Field = field("smsTemplateAlias", "sms_template_alias", NAME);
pub(super) const SMART_ROUTING: Field = field("smartRouting", "smart_routing", NAME);
pub(super) const SMART_ROUTING_VERSION_ALIAS: Field = field(
    "smartRoutingVersionAlias",
    "smart_routing_version_alias",
    NAME,
);

/// The fields of `sms.sent` (its `occurredAt` is the send date).
pub const SMS_FIELDS: &[Field] = &[
    SMS_ID,
    SMS_TEMPLATE,
    SENDER,
    ORIGIN,
    SMS_TYPE,
    SMS_CATEGORY,
    RECIPIENT,
    CREDITS,
    CONTENT,
    CHECKPOINTS,
    SMS_STATUS,
    SMS_DISTRIBUTION_ID,
    INTERACTION_ID,
    ORIGINAL_DISTRIBUTION_ID,
    ORIGINAL_INTERACTION_ID,
    ORIGINAL_INTERACTION_DIRECTION,
    ORIGINAL_INTERACTION_FLOW,
    ORIGINAL_INTERACTION_QUEUE,
    ORIGINAL_INTERACTION_QUEUE_TAG,
    PAYMENT_MODULE,
    PAYMENT_MODULE_ALIAS,
    QUEUE_ID,
    QUEUE_TAG,
    SMS_CAMPAIGN,
    SMS_CAMPAIGNS_ALIAS,
    SMS_TEMPLATE_ALIAS,
    SMART_ROUTING,
    SMART_ROUTING_VERSION_ALIAS,
    USER_ID,
];
