//! Every operation sends exactly the method, path, headers and body Meta documents.

use std::time::Duration;

use meta_webhooks::AccessToken;
use meta_webhooks::client::{
    Attachment, AttachmentType, Author, Button, GenericElement, GenericTemplate, GraphClient,
    GraphError, GraphErrorKind, Message, MessageError, MessageTag, MessagingType, MessagingWindow,
    QuickReply, SendOptions, SenderAction,
};
use meta_webhooks::payload::{AccountId, CommentId, MediaId, MessageId};
use serde_json::json;
use wiremock::MockServer;

use super::{
    ACCOUNT, ManualClock, TOKEN, USER, account, answer, assert_messages_post, builder, ok_json,
    only_request, requests, user,
};

fn sent_answer() -> wiremock::ResponseTemplate {
    ok_json(json!({"recipient_id": USER, "message_id": "aWdfZAG1faXRlbToxOklH"}))
}

#[tokio::test]
async fn text_message() {
    let server = MockServer::start().await;
    answer(&server, sent_answer()).await;
    let client = builder(&server).build().unwrap();
    assert_eq!(client.api_root(), format!("{}/v25.0", server.uri()));

    let sent = account(&client)
        .send_text(&user(), "¡Hola! ¿En qué te ayudo? 👋")
        .await
        .unwrap();
    assert_eq!(sent.recipient_id.unwrap(), USER);
    assert_eq!(sent.message_id.unwrap(), "aWdfZAG1faXRlbToxOklH");

    let body = assert_messages_post(&only_request(&server).await);
    assert_eq!(
        body,
        json!({
            "recipient": {"id": USER},
            "messaging_type": "RESPONSE",
            "message": {"text": "¡Hola! ¿En qué te ayudo? 👋"}
        })
    );
}

#[tokio::test]
async fn text_over_1000_bytes_is_refused_before_any_request() {
    let server = MockServer::start().await;
    answer(&server, sent_answer()).await;
    let client = builder(&server).build().unwrap();
    // 334 three-byte characters: 1002 bytes, far fewer than 1000 characters.
    let text = "€".repeat(334);
    let err = account(&client)
        .send_text(&user(), &text)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        GraphError::Invalid(MessageError::TextTooLong {
            len: 1002,
            max: 1000
        })
    ));
    assert_eq!(err.kind(), GraphErrorKind::InvalidRequest);
    assert!(err.is_local());
    assert!(err.to_string().contains("1000"), "{err}");
    // Exactly 1000 bytes is fine.
    let text = format!("{}{}", "€".repeat(333), "a");
    assert_eq!(text.len(), 1000);
    account(&client).send_text(&user(), &text).await.unwrap();
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn quick_replies() {
    let server = MockServer::start().await;
    answer(&server, sent_answer()).await;
    let client = builder(&server).build().unwrap();
    let message = Message::text("Size?")
        .unwrap()
        .with_quick_replies([
            QuickReply::text("M", "SIZE_M").unwrap(),
            QuickReply::text("L", "SIZE_L").unwrap(),
            QuickReply::user_email(),
            QuickReply::user_phone_number(),
        ])
        .unwrap();
    account(&client).send(&user(), &message).await.unwrap();
    let body = assert_messages_post(&only_request(&server).await);
    assert_eq!(
        body,
        json!({
            "recipient": {"id": USER},
            "messaging_type": "RESPONSE",
            "message": {
                "text": "Size?",
                "quick_replies": [
                    {"content_type": "text", "title": "M", "payload": "SIZE_M"},
                    {"content_type": "text", "title": "L", "payload": "SIZE_L"},
                    {"content_type": "user_email"},
                    {"content_type": "user_phone_number"}
                ]
            }
        })
    );
    let fourteen = (0..14).map(|i| QuickReply::text(format!("{i}"), "P").unwrap());
    assert_eq!(
        Message::text("x")
            .unwrap()
            .with_quick_replies(fourteen)
            .unwrap_err(),
        MessageError::TooManyQuickReplies { count: 14, max: 13 }
    );
}

#[tokio::test]
async fn attachments_by_url_and_by_id() {
    let cases = [
        (AttachmentType::Image, "image"),
        (AttachmentType::Video, "video"),
        (AttachmentType::Audio, "audio"),
        (AttachmentType::File, "file"),
    ];
    for (kind, wire) in cases {
        let server = MockServer::start().await;
        answer(&server, sent_answer()).await;
        let client = builder(&server).build().unwrap();
        let by_url = Message::attachment(
            Attachment::from_url(kind.clone(), "https://cdn.example.com/a.bin").unwrap(),
        );
        let by_id = Message::attachment(Attachment::from_id(kind, "1857777774821032").unwrap());
        account(&client).send(&user(), &by_url).await.unwrap();
        account(&client).send(&user(), &by_id).await.unwrap();
        let all = requests(&server).await;
        assert_eq!(all.len(), 2);
        assert_eq!(
            assert_messages_post(&all[0]),
            json!({
                "recipient": {"id": USER},
                "messaging_type": "RESPONSE",
                "message": {"attachment": {"type": wire, "payload": {"url": "https://cdn.example.com/a.bin"}}}
            })
        );
        assert_eq!(
            assert_messages_post(&all[1]),
            json!({
                "recipient": {"id": USER},
                "messaging_type": "RESPONSE",
                "message": {"attachment": {"type": wire, "payload": {"attachment_id": "1857777774821032"}}}
            })
        );
    }
}

#[tokio::test]
async fn several_attachments_heart_and_media_share() {
    let server = MockServer::start().await;
    answer(&server, sent_answer()).await;
    let client = builder(&server).build().unwrap();
    let acc = account(&client);
    let two = Message::attachments([
        Attachment::from_id(AttachmentType::Image, "111").unwrap(),
        Attachment::from_url(AttachmentType::Image, "https://cdn.example.com/b.png").unwrap(),
    ])
    .unwrap();
    acc.send(&user(), &two).await.unwrap();
    acc.send(&user(), &Message::like_heart()).await.unwrap();
    acc.send(
        &user(),
        &Message::media_share(MediaId::new("17900000000000001")),
    )
    .await
    .unwrap();
    let bodies: Vec<_> = requests(&server)
        .await
        .iter()
        .map(assert_messages_post)
        .map(|b| b["message"].clone())
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"attachments": [
                {"type": "image", "payload": {"attachment_id": "111"}},
                {"type": "image", "payload": {"url": "https://cdn.example.com/b.png"}}
            ]}),
            json!({"attachment": {"type": "like_heart"}}),
            json!({"attachment": {"type": "MEDIA_SHARE", "payload": {"id": "17900000000000001"}}}),
        ]
    );
}

#[tokio::test]
async fn generic_template() {
    let server = MockServer::start().await;
    answer(&server, sent_answer()).await;
    let client = builder(&server).build().unwrap();
    let card = GenericElement::new("Linen shirt")
        .unwrap()
        .with_subtitle("€49")
        .with_image_url("https://shop.example.com/shirt.jpg")
        .unwrap()
        .with_default_action_url("https://shop.example.com/shirt")
        .unwrap()
        .with_button(Button::web_url("View", "https://shop.example.com/shirt").unwrap())
        .unwrap()
        .with_button(Button::postback("Buy", "BUY_42").unwrap())
        .unwrap();
    let message = Message::generic_template(GenericTemplate::new([card]).unwrap());
    account(&client).send(&user(), &message).await.unwrap();
    let body = assert_messages_post(&only_request(&server).await);
    assert_eq!(
        body,
        json!({
            "recipient": {"id": USER},
            "messaging_type": "RESPONSE",
            "message": {"attachment": {"type": "template", "payload": {
                "template_type": "generic",
                "elements": [{
                    "title": "Linen shirt",
                    "subtitle": "€49",
                    "image_url": "https://shop.example.com/shirt.jpg",
                    "default_action": {"type": "web_url", "url": "https://shop.example.com/shirt"},
                    "buttons": [
                        {"type": "web_url", "url": "https://shop.example.com/shirt", "title": "View"},
                        {"type": "postback", "title": "Buy", "payload": "BUY_42"}
                    ]
                }]
            }}}
        })
    );
}

#[tokio::test]
async fn sender_actions_are_sent_alone() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"recipient_id": USER}))).await;
    let client = builder(&server).build().unwrap();
    for action in [
        SenderAction::TypingOn,
        SenderAction::TypingOff,
        SenderAction::MarkSeen,
    ] {
        account(&client)
            .sender_action(&user(), &action)
            .await
            .unwrap();
    }
    let bodies: Vec<_> = requests(&server)
        .await
        .iter()
        .map(assert_messages_post)
        .collect();
    assert_eq!(
        bodies,
        ["typing_on", "typing_off", "mark_seen"]
            .map(|a| json!({"recipient": {"id": USER}, "sender_action": a}))
    );
}

#[tokio::test]
async fn react_and_unreact() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"recipient_id": USER}))).await;
    let client = builder(&server).build().unwrap();
    let acc = account(&client);
    let mid = MessageId::new("aWdfZAG1faXRlbToxOklHTWVzc2FnZAZDZD");
    acc.react(&user(), &mid, "love").await.unwrap();
    acc.unreact(&user(), &mid).await.unwrap();
    let all = requests(&server).await;
    assert_eq!(
        assert_messages_post(&all[0]),
        json!({
            "recipient": {"id": USER},
            "sender_action": "react",
            "payload": {"message_id": mid.as_str(), "reaction": "love"}
        })
    );
    assert_eq!(
        assert_messages_post(&all[1]),
        json!({
            "recipient": {"id": USER},
            "sender_action": "unreact",
            "payload": {"message_id": mid.as_str()}
        })
    );
    assert_eq!(all.len(), 2);
}

#[tokio::test]
async fn private_reply_to_a_comment() {
    let server = MockServer::start().await;
    answer(&server, sent_answer()).await;
    let client = builder(&server).build().unwrap();
    let sent = account(&client)
        .private_reply(
            &CommentId::new("17952310476882035"),
            &Message::text("Te escribimos por DM 🙂").unwrap(),
        )
        .await
        .unwrap();
    assert!(sent.message_id.is_some());
    let body = assert_messages_post(&only_request(&server).await);
    assert_eq!(
        body,
        json!({
            "recipient": {"comment_id": "17952310476882035"},
            "message": {"text": "Te escribimos por DM 🙂"}
        })
    );
}

#[tokio::test]
async fn public_reply_to_a_comment() {
    let server = MockServer::start().await;
    answer(&server, ok_json(json!({"id": "17873440459141021"}))).await;
    let client = builder(&server).build().unwrap();
    let reply = account(&client)
        .reply_to_comment(&CommentId::new("17870913679156914"), "Gracias & 👍 = sí")
        .await
        .unwrap();
    assert_eq!(reply, "17873440459141021");

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/v25.0/17870913679156914/replies");
    assert_eq!(
        request.url.query(),
        None,
        "the text travels in the body, not the URL"
    );
    assert_eq!(
        request.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
    assert_eq!(
        pairs,
        [("message".to_owned(), "Gracias & 👍 = sí".to_owned())]
    );
}

#[tokio::test]
async fn messaging_types_and_reply_to() {
    let server = MockServer::start().await;
    answer(&server, sent_answer()).await;
    let client = builder(&server).build().unwrap();
    let acc = account(&client);
    let hi = Message::text("hi").unwrap();
    acc.send_with(
        &user(),
        &hi,
        &SendOptions::new().with_messaging_type(MessagingType::Update),
    )
    .await
    .unwrap();
    acc.send_with(
        &user(),
        &hi,
        &SendOptions::new()
            .with_messaging_type(MessagingType::MessageTag(MessageTag::HumanAgent))
            .with_reply_to(MessageId::new("m_1")),
    )
    .await
    .unwrap();
    let all = requests(&server).await;
    assert_eq!(
        assert_messages_post(&all[0]),
        json!({"recipient": {"id": USER}, "messaging_type": "UPDATE", "message": {"text": "hi"}})
    );
    assert_eq!(
        assert_messages_post(&all[1]),
        json!({
            "recipient": {"id": USER},
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
            "reply_to": {"mid": "m_1"},
            "message": {"text": "hi"}
        })
    );
}

#[tokio::test]
async fn messaging_window_picks_the_type_or_refuses_without_a_request() {
    let server = MockServer::start().await;
    answer(&server, sent_answer()).await;
    let clock = ManualClock::new();
    let client = builder(&server).clock(clock.clone()).build().unwrap();
    let acc = account(&client);
    let msg = Message::text("hola").unwrap();
    let window = MessagingWindow::new(meta_webhooks::client::Clock::now(&clock));
    let hour = Duration::from_secs(3600);

    clock.advance(23 * hour);
    acc.send_in_window(&user(), &msg, window, Author::Automated)
        .await
        .unwrap();
    clock.advance(7 * hour); // 30 h
    let err = acc
        .send_in_window(&user(), &msg, window, Author::Automated)
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::WindowClosed(_)));
    assert_eq!(err.kind(), GraphErrorKind::OutsideWindow);
    assert!(err.is_local() && !err.is_retryable());
    acc.send_in_window(&user(), &msg, window, Author::Human)
        .await
        .unwrap();
    clock.advance(6 * 24 * hour); // 7 days 6 h
    let err = acc
        .send_in_window(&user(), &msg, window, Author::Human)
        .await
        .unwrap_err();
    assert!(err.kind() == GraphErrorKind::OutsideWindow);

    let all = requests(&server).await;
    assert_eq!(all.len(), 2, "the closed window made no request");
    assert_eq!(assert_messages_post(&all[0])["messaging_type"], "RESPONSE");
    let tagged = assert_messages_post(&all[1]);
    assert_eq!(tagged["messaging_type"], "MESSAGE_TAG");
    assert_eq!(tagged["tag"], "HUMAN_AGENT");
}

#[tokio::test]
async fn user_profile() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({
            "name": "Ana Pérez",
            "username": "ana.p",
            "profile_pic": "https://scontent.cdninstagram.com/p.jpg",
            "follower_count": 1234,
            "is_user_follow_business": true,
            "is_business_follow_user": false,
            "is_verified_user": false,
            "id": USER
        })),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let profile = account(&client).user_profile(&user()).await.unwrap();
    assert_eq!(profile.name.as_deref(), Some("Ana Pérez"));
    assert_eq!(profile.username.as_deref(), Some("ana.p"));
    assert_eq!(profile.follower_count, Some(1234));
    assert_eq!(profile.is_user_follow_business, Some(true));
    assert_eq!(profile.is_business_follow_user, Some(false));
    assert_eq!(profile.id.unwrap(), USER);

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), format!("/v25.0/{USER}"));
    let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [(
            "fields".to_owned(),
            "name,username,profile_pic,follower_count,is_user_follow_business,is_business_follow_user,is_verified_user"
                .to_owned()
        )]
    );
    assert!(request.body.is_empty());
    assert_eq!(
        request.headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );
}

#[tokio::test]
async fn comment() {
    let server = MockServer::start().await;
    answer(
        &server,
        ok_json(json!({
            "id": "17870913679156914",
            "text": "¿Precio?",
            "from": {"id": USER, "username": "ana.p"},
            "media": {"id": "17895695668004550", "media_product_type": "FEED"},
            "parent_id": "17870913679156000",
            "timestamp": "2017-08-31T18:10:30+0000",
            "like_count": 3,
            "hidden": false
        })),
    )
    .await;
    let client = builder(&server).build().unwrap();
    let comment = account(&client)
        .comment(&CommentId::new("17870913679156914"))
        .await
        .unwrap();
    assert_eq!(comment.id, "17870913679156914");
    assert_eq!(comment.text.as_deref(), Some("¿Precio?"));
    let from = comment.from.unwrap();
    assert_eq!(from.id.unwrap(), USER);
    assert_eq!(from.username.as_deref(), Some("ana.p"));
    let media = comment.media.unwrap();
    assert_eq!(media.id, "17895695668004550");
    assert_eq!(media.media_product_type.as_deref(), Some("FEED"));
    assert_eq!(comment.parent_id.unwrap(), "17870913679156000");
    assert_eq!(comment.like_count, Some(3));

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/v25.0/17870913679156914");
    assert_eq!(
        request.url.query_pairs().into_owned().collect::<Vec<_>>(),
        [(
            "fields".to_owned(),
            "id,text,from,media,parent_id,timestamp,username,like_count,hidden".to_owned()
        )]
    );
}

#[tokio::test]
async fn version_and_multiple_accounts_share_one_client() {
    let server = MockServer::start().await;
    answer(&server, sent_answer()).await;
    let client = builder(&server).graph_version("v24.0").build().unwrap();
    let a = client.account(AccountId::new("111"), AccessToken::new("token-a").unwrap());
    let b = client
        .clone()
        .account(AccountId::new("222"), AccessToken::new("token-b").unwrap());
    a.send_text(&user(), "a").await.unwrap();
    b.send_text(&user(), "b").await.unwrap();
    let all = requests(&server).await;
    let seen: Vec<(String, String)> = all
        .iter()
        .map(|r| {
            (
                r.url.path().to_owned(),
                r.headers
                    .get("authorization")
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "/v24.0/111/messages".to_owned(),
                "Bearer token-a".to_owned()
            ),
            (
                "/v24.0/222/messages".to_owned(),
                "Bearer token-b".to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn ids_that_would_change_the_path_are_refused() {
    let server = MockServer::start().await;
    answer(&server, sent_answer()).await;
    let client = builder(&server).build().unwrap();
    let evil = client.account(
        AccountId::new("1/../../me?x="),
        AccessToken::new(TOKEN).unwrap(),
    );
    let err = evil.send_text(&user(), "x").await.unwrap_err();
    assert!(matches!(
        err,
        GraphError::Invalid(MessageError::InvalidId("account id"))
    ));
    let err = account(&client)
        .reply_to_comment(&CommentId::new("1#frag"), "x")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), GraphErrorKind::InvalidRequest);
    assert!(requests(&server).await.is_empty());
    assert_eq!(ACCOUNT.len(), 17);
}

#[test]
fn secrets_never_print() {
    let client = GraphClient::builder().build().unwrap();
    let acc = client.account(AccountId::new(ACCOUNT), AccessToken::new(TOKEN).unwrap());
    let debug = format!("{acc:?} {client:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains(ACCOUNT));
}
