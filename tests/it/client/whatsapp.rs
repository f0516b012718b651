//! WhatsApp Cloud API sends: every message type goes out as exactly the method, path,
//! headers and body Meta documents, and the window helper refuses or falls back locally.

use std::time::Duration;

use meta_webhooks::AccessToken;
use meta_webhooks::client::{
    GraphClient, GraphError, GraphErrorKind, MessageError, MessagingWindow, WaHeader, WaList,
    WaListRow, WaListSection, WaMedia, WaMediaKind, WaMediaSource, WaOutgoing, WaParameter,
    WaReplyButton, WaReplyButtons, WaTemplate, WaTemplateComponent, WhatsApp,
};
use meta_webhooks::payload::{AccountId, MediaId, MessageId, UserId};
use serde_json::{Value, json};
use wiremock::{MockServer, Request, ResponseTemplate};

use super::{
    ManualClock, TOKEN, answer, assert_json_post, builder, ok_json, only_request, requests,
};

pub(super) const PHONE: &str = "106540352242922";
pub(super) const WA_USER: &str = "16505551234";
const WAMID: &str = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA";
const QUOTED: &str = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA";

pub(super) fn whatsapp(client: &GraphClient) -> WhatsApp {
    client.whatsapp(AccountId::new(PHONE), AccessToken::new(TOKEN).unwrap())
}

pub(super) fn wa_user() -> UserId {
    UserId::new(WA_USER)
}

/// Meta's answer to a send.
pub(super) fn wa_sent() -> ResponseTemplate {
    ok_json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": WA_USER, "wa_id": WA_USER}],
        "messages": [{"id": WAMID, "message_status": "accepted"}]
    }))
}

/// Checks a JSON `POST /v25.0/{PHONE}/messages` and returns its body.
pub(super) fn assert_wa_messages_post(request: &Request) -> Value {
    assert_json_post(request, &format!("/v25.0/{PHONE}/messages"))
}

/// Sends `message` to a fresh mock and returns the body Meta received.
async fn sent_body(message: &WaOutgoing) -> Value {
    let server = MockServer::start().await;
    answer(&server, wa_sent()).await;
    let client = builder(&server).build().unwrap();
    whatsapp(&client).send(&wa_user(), message).await.unwrap();
    assert_wa_messages_post(&only_request(&server).await)
}

/// The envelope every message shares, with `type` and its object.
fn envelope(kind: &str, object: Value) -> Value {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_USER,
        "type": kind,
    });
    body[kind] = object;
    body
}

#[tokio::test]
async fn text_message_and_the_answer() {
    let server = MockServer::start().await;
    answer(&server, wa_sent()).await;
    let client = builder(&server).build().unwrap();
    let sent = whatsapp(&client)
        .send_text(&wa_user(), "¡Hola! ¿En qué te ayudo? 👋")
        .await
        .unwrap();
    assert_eq!(sent.message_id, WAMID);
    assert_eq!(sent.wa_id.unwrap(), WA_USER);
    assert_eq!(sent.input.as_deref(), Some(WA_USER));
    assert_eq!(sent.message_status.as_deref(), Some("accepted"));
    let body = assert_wa_messages_post(&only_request(&server).await);
    assert_eq!(
        body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_USER,
            "type": "text",
            "text": {"preview_url": false, "body": "¡Hola! ¿En qué te ayudo? 👋"}
        })
    );
}

#[tokio::test]
async fn text_with_preview_and_reply_context() {
    let message = WaOutgoing::text_with_preview("Our catalogue: https://example.com/shop")
        .unwrap()
        .with_reply_to(MessageId::new(QUOTED));
    let mut expected = envelope(
        "text",
        json!({"preview_url": true, "body": "Our catalogue: https://example.com/shop"}),
    );
    expected["context"] = json!({"message_id": QUOTED});
    assert_eq!(sent_body(&message).await, expected);
}

#[tokio::test]
async fn text_over_4096_characters_is_refused_before_any_request() {
    let server = MockServer::start().await;
    answer(&server, wa_sent()).await;
    let client = builder(&server).build().unwrap();
    let err = whatsapp(&client)
        .send_text(&wa_user(), &"€".repeat(4097))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        GraphError::Invalid(MessageError::TooLong {
            len: 4097,
            max: 4096,
            ..
        })
    ));
    assert_eq!(err.kind(), GraphErrorKind::InvalidRequest);
    assert!(err.is_local());
    // Exactly 4096 characters (12 288 bytes) goes out.
    whatsapp(&client)
        .send_text(&wa_user(), &"€".repeat(4096))
        .await
        .unwrap();
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn media_by_id_and_by_link_with_caption_and_filename() {
    let cases = [
        (
            WaMedia::from_id(WaMediaKind::Image, MediaId::new("1037543291543636"))
                .unwrap()
                .with_caption("Linen shirt, €49")
                .unwrap(),
            json!({"id": "1037543291543636", "caption": "Linen shirt, €49"}),
        ),
        (
            WaMedia::from_link(WaMediaKind::Video, "https://example.com/clip.mp4")
                .unwrap()
                .with_caption("How to fold it")
                .unwrap(),
            json!({"link": "https://example.com/clip.mp4", "caption": "How to fold it"}),
        ),
        (
            WaMedia::from_id(WaMediaKind::Audio, MediaId::new("1166846181421424")).unwrap(),
            json!({"id": "1166846181421424"}),
        ),
        (
            WaMedia::from_link(WaMediaKind::Document, "https://example.com/invoice.pdf")
                .unwrap()
                .with_caption("Your invoice")
                .unwrap()
                .with_filename("invoice-1234.pdf")
                .unwrap(),
            json!({
                "link": "https://example.com/invoice.pdf",
                "caption": "Your invoice",
                "filename": "invoice-1234.pdf"
            }),
        ),
        (
            WaMedia::from_id(WaMediaKind::Sticker, MediaId::new("798882015472548")).unwrap(),
            json!({"id": "798882015472548"}),
        ),
    ];
    for (media, object) in cases {
        let kind = media.kind().as_str();
        let body = sent_body(&WaOutgoing::media(media)).await;
        assert_eq!(body, envelope(kind, object), "{kind}");
    }
}

#[tokio::test]
async fn reaction_and_its_removal() {
    let react = WaOutgoing::reaction(MessageId::new(QUOTED), "\u{1F600}").unwrap();
    assert_eq!(
        sent_body(&react).await,
        envelope("reaction", json!({"message_id": QUOTED, "emoji": "😀"}))
    );
    let remove = WaOutgoing::remove_reaction(MessageId::new(QUOTED)).unwrap();
    assert_eq!(
        sent_body(&remove).await,
        envelope("reaction", json!({"message_id": QUOTED, "emoji": ""}))
    );
}

#[tokio::test]
async fn reply_buttons_with_header_and_footer() {
    let buttons = WaReplyButtons::new(
        "Which size?",
        [
            WaReplyButton::new("SIZE_M", "M").unwrap(),
            WaReplyButton::new("SIZE_L", "L").unwrap(),
            WaReplyButton::new("AGENT", "Talk to a person").unwrap(),
        ],
    )
    .unwrap()
    .with_header(WaHeader::image(
        WaMediaSource::link("https://example.com/shirt.jpg").unwrap(),
    ))
    .with_footer("Free returns")
    .unwrap();
    assert_eq!(
        sent_body(&WaOutgoing::reply_buttons(buttons)).await,
        envelope(
            "interactive",
            json!({
                "type": "button",
                "header": {"type": "image", "image": {"link": "https://example.com/shirt.jpg"}},
                "body": {"text": "Which size?"},
                "footer": {"text": "Free returns"},
                "action": {"buttons": [
                    {"type": "reply", "reply": {"id": "SIZE_M", "title": "M"}},
                    {"type": "reply", "reply": {"id": "SIZE_L", "title": "L"}},
                    {"type": "reply", "reply": {"id": "AGENT", "title": "Talk to a person"}}
                ]}
            })
        )
    );
    // The minimal form: body and one button, with a text header.
    let one = WaReplyButtons::new("Still there?", [WaReplyButton::new("YES", "Yes").unwrap()])
        .unwrap()
        .with_header(WaHeader::text("Linen shirt").unwrap());
    assert_eq!(
        sent_body(&one.into()).await["interactive"],
        json!({
            "type": "button",
            "header": {"type": "text", "text": "Linen shirt"},
            "body": {"text": "Still there?"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "YES", "title": "Yes"}}]}
        })
    );
}

#[tokio::test]
async fn list_with_sections() {
    let list = WaList::new(
        "What can we do for you?",
        "Options",
        [
            WaListSection::new([
                WaListRow::new("ORDER_STATUS", "Order status").unwrap(),
                WaListRow::new("RETURNS", "Returns")
                    .unwrap()
                    .with_description("Within 30 days")
                    .unwrap(),
            ])
            .unwrap()
            .with_title("Orders")
            .unwrap(),
            WaListSection::new([WaListRow::new("AGENT", "Talk to a person").unwrap()])
                .unwrap()
                .with_title("Help")
                .unwrap(),
        ],
    )
    .unwrap()
    .with_header_text("Shop")
    .unwrap()
    .with_footer("We answer within the hour")
    .unwrap();
    assert_eq!(
        sent_body(&WaOutgoing::list(list)).await,
        envelope(
            "interactive",
            json!({
                "type": "list",
                "header": {"type": "text", "text": "Shop"},
                "body": {"text": "What can we do for you?"},
                "footer": {"text": "We answer within the hour"},
                "action": {
                    "button": "Options",
                    "sections": [
                        {"title": "Orders", "rows": [
                            {"id": "ORDER_STATUS", "title": "Order status"},
                            {"id": "RETURNS", "title": "Returns", "description": "Within 30 days"}
                        ]},
                        {"title": "Help", "rows": [{"id": "AGENT", "title": "Talk to a person"}]}
                    ]
                }
            })
        )
    );
}

#[tokio::test]
async fn template_with_header_body_and_button_parameters() {
    let template = WaTemplate::new("order_shipped", "en_US")
        .unwrap()
        .with_component(
            WaTemplateComponent::header([WaParameter::document(
                WaMediaSource::link("https://example.com/label.pdf").unwrap(),
            )
            .with_filename("label.pdf")
            .unwrap()])
            .unwrap(),
        )
        .with_component(
            WaTemplateComponent::body([
                WaParameter::text("Ana").unwrap(),
                WaParameter::currency("$49.99", "USD", 49_990).unwrap(),
                WaParameter::date_time("March 3, 2026").unwrap(),
            ])
            .unwrap(),
        )
        .with_component(WaTemplateComponent::quick_reply_button(0, "STOP_PROMOS").unwrap())
        .with_component(WaTemplateComponent::url_button(1, "track/1234").unwrap());
    assert_eq!(
        sent_body(&WaOutgoing::template(template)).await,
        envelope(
            "template",
            json!({
                "name": "order_shipped",
                "language": {"code": "en_US"},
                "components": [
                    {"type": "header", "parameters": [
                        {"type": "document", "document": {
                            "link": "https://example.com/label.pdf", "filename": "label.pdf"
                        }}
                    ]},
                    {"type": "body", "parameters": [
                        {"type": "text", "text": "Ana"},
                        {"type": "currency", "currency": {
                            "fallback_value": "$49.99", "code": "USD", "amount_1000": 49990
                        }},
                        {"type": "date_time", "date_time": {"fallback_value": "March 3, 2026"}}
                    ]},
                    {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [
                        {"type": "payload", "payload": "STOP_PROMOS"}
                    ]},
                    {"type": "button", "sub_type": "url", "index": "1", "parameters": [
                        {"type": "text", "text": "track/1234"}
                    ]}
                ]
            })
        )
    );
    // No parameters, named parameters, an image header by id.
    let bare = WaTemplate::new("hello_world", "en_US").unwrap();
    assert_eq!(
        sent_body(&WaOutgoing::template(bare)).await["template"],
        json!({"name": "hello_world", "language": {"code": "en_US"}})
    );
    let named = WaTemplate::new("welcome", "es")
        .unwrap()
        .with_component(
            WaTemplateComponent::header([WaParameter::image(
                WaMediaSource::id(MediaId::new("2762702990552401")).unwrap(),
            )])
            .unwrap(),
        )
        .with_component(
            WaTemplateComponent::body([WaParameter::named_text("first_name", "Ana").unwrap()])
                .unwrap(),
        );
    assert_eq!(
        sent_body(&named.into()).await["template"]["components"],
        json!([
            {"type": "header", "parameters": [
                {"type": "image", "image": {"id": "2762702990552401"}}
            ]},
            {"type": "body", "parameters": [
                {"type": "text", "parameter_name": "first_name", "text": "Ana"}
            ]}
        ])
    );
}

#[tokio::test]
async fn mark_read_with_and_without_typing() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"success": true}))).await;
    let client = builder(&server).build().unwrap();
    let wa = whatsapp(&client);
    wa.mark_read(&MessageId::new(WAMID), false).await.unwrap();
    wa.mark_read(&MessageId::new(WAMID), true).await.unwrap();
    let all = requests(&server).await;
    assert_eq!(all.len(), 2);
    assert_eq!(
        assert_wa_messages_post(&all[0]),
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": WAMID})
    );
    assert_eq!(
        assert_wa_messages_post(&all[1]),
        json!({
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": WAMID,
            "typing_indicator": {"type": "text"}
        })
    );
}

#[tokio::test]
async fn mark_read_answered_with_success_false_is_an_error() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"success": false}))).await;
    let client = builder(&server).build().unwrap();
    let err = whatsapp(&client)
        .mark_read(&MessageId::new(WAMID), true)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::Decode);
    assert!(
        whatsapp(&client)
            .mark_read(&MessageId::new(""), false)
            .await
            .unwrap_err()
            .is_local()
    );
}

#[tokio::test]
async fn an_answer_without_a_message_id_is_a_decode_error_not_a_resend() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({"messaging_product": "whatsapp", "contacts": [], "messages": []})),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let err = whatsapp(&client)
        .send_text(&wa_user(), "hi")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::Decode);
    assert!(!err.is_retryable());
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn ids_that_could_escape_the_path_are_refused() {
    let server = MockServer::start().await;
    answer(&server, wa_sent()).await;
    let client = builder(&server).build().unwrap();
    let wa = client.whatsapp(AccountId::new("../me"), AccessToken::new(TOKEN).unwrap());
    let err = wa.send_text(&wa_user(), "hi").await.unwrap_err();
    assert!(matches!(
        err,
        GraphError::Invalid(MessageError::InvalidId("phone number id"))
    ));
    let err = whatsapp(&client)
        .send_text(&UserId::new(""), "hi")
        .await
        .unwrap_err();
    assert!(err.is_local());
    let err = whatsapp(&client)
        .media(&MediaId::new("1?fields=x"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        GraphError::Invalid(MessageError::InvalidId("media id"))
    ));
    assert!(requests(&server).await.is_empty());
}

fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

#[tokio::test]
async fn window_helper_sends_free_form_inside_and_refuses_it_outside() {
    let server = MockServer::start().await;
    answer(&server, wa_sent()).await;
    let clock = ManualClock::new();
    let client = builder(&server).clock(clock.clone()).build().unwrap();
    let wa = whatsapp(&client);
    let now = meta_webhooks::client::Clock::now(&clock);
    let text = WaOutgoing::text("hi").unwrap();

    let open = MessagingWindow::new(now - hours(23));
    wa.send_in_window(&wa_user(), &text, open).await.unwrap();

    let closed = MessagingWindow::new(now - hours(25));
    let err = wa
        .send_in_window(&wa_user(), &text, closed)
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::WindowClosed(_)));
    assert_eq!(err.kind(), GraphErrorKind::OutsideWindow);
    assert!(err.is_local());
    assert_eq!(requests(&server).await.len(), 1, "nothing sent when closed");

    // A template goes out whatever the window says.
    let template = WaOutgoing::template(WaTemplate::new("hello_world", "en_US").unwrap());
    wa.send_in_window(&wa_user(), &template, closed)
        .await
        .unwrap();
    let all = requests(&server).await;
    assert_eq!(all.len(), 2);
    assert_eq!(assert_wa_messages_post(&all[1])["type"], "template");
}

#[tokio::test]
async fn send_or_template_picks_by_window_and_by_meta_s_answer() {
    let server = MockServer::start().await;
    let clock = ManualClock::new();
    let client = builder(&server).clock(clock.clone()).build().unwrap();
    let wa = whatsapp(&client);
    let now = meta_webhooks::client::Clock::now(&clock);
    let text = WaOutgoing::text("Your order shipped").unwrap();
    let template = WaTemplate::new("order_shipped", "en_US").unwrap();

    // Outside the window: the template only.
    answer(&server, wa_sent()).await;
    wa.send_or_template(
        &wa_user(),
        &text,
        &template,
        MessagingWindow::new(now - hours(30)),
    )
    .await
    .unwrap();
    let body = assert_wa_messages_post(&only_request(&server).await);
    assert_eq!(body["type"], "template");
    assert_eq!(body["template"]["name"], "order_shipped");

    // Inside: the text.
    server.reset().await;
    answer(&server, wa_sent()).await;
    wa.send_or_template(
        &wa_user(),
        &text,
        &template,
        MessagingWindow::new(now - hours(1)),
    )
    .await
    .unwrap();
    let body = assert_wa_messages_post(&only_request(&server).await);
    assert_eq!(body["type"], "text");

    // Inside by our clock, but Meta says 131047: the template follows.
    server.reset().await;
    wiremock::Mock::given(wiremock::matchers::body_partial_json(json!({"type": "text"})))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "(#131047) Re-engagement message",
            "type": "OAuthException",
            "code": 131047,
            "error_data": {"messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
            "fbtrace_id": "A1"
        }})))
        .mount(&server)
        .await;
    wiremock::Mock::given(wiremock::matchers::body_partial_json(
        json!({"type": "template"}),
    ))
    .respond_with(wa_sent())
    .mount(&server)
    .await;
    let sent = wa
        .send_or_template(
            &wa_user(),
            &text,
            &template,
            MessagingWindow::new(now - hours(1)),
        )
        .await
        .unwrap();
    assert_eq!(sent.message_id, WAMID);
    let all = requests(&server).await;
    assert_eq!(all.len(), 2);
    assert_eq!(assert_wa_messages_post(&all[0])["type"], "text");
    assert_eq!(assert_wa_messages_post(&all[1])["type"], "template");
}

#[tokio::test]
async fn a_client_on_the_instagram_host_refuses_locally() {
    // The default host is graph.instagram.com, which has no WhatsApp API: nothing is sent.
    let client = GraphClient::builder().build().unwrap();
    let err = whatsapp(&client)
        .send_text(&wa_user(), "hi")
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        GraphError::Invalid(MessageError::NotAllowed(_))
    ));
    assert!(err.is_local());
    assert!(err.to_string().contains("facebook_login"), "{err}");
}

#[test]
fn debug_output_never_shows_the_token() {
    let client = GraphClient::builder().facebook_login().build().unwrap();
    let wa = whatsapp(&client);
    let debug = format!("{wa:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains(PHONE), "{debug}");
    assert_eq!(wa.phone_number_id(), &AccountId::new(PHONE));
}
