//! Multi-Region keys through aws-sdk-kms, with clients signing for two Regions of one server:
//! CreateKey MultiRegion, ReplicateKey, ciphertexts opened across Regions, MultiRegionConfiguration,
//! UpdatePrimaryRegion, the permissions in the replica Region, and a primary's deletion waiting
//! for its replicas.

mod common;

use aws_sdk_kms::types::{KeyMetadata, KeyState, MultiRegionKeyType, Tag};
use common::*;

const WEST: &str = "eu-west-1";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

async fn describe(kms: &aws_sdk_kms::Client, id: &str) -> KeyMetadata {
    kms.describe_key()
        .key_id(id)
        .send()
        .await
        .expect("DescribeKey")
        .key_metadata
        .expect("KeyMetadata")
}

/// (type, primary Region, replica Regions) of a key's MultiRegionConfiguration.
fn configuration(m: &KeyMetadata) -> (MultiRegionKeyType, String, Vec<String>) {
    let c = m
        .multi_region_configuration()
        .expect("MultiRegionConfiguration");
    let primary = c.primary_key().expect("PrimaryKey");
    assert_eq!(
        primary.arn(),
        Some(arn_in(primary.region().unwrap(), m.key_id()).as_str())
    );
    let replicas = c
        .replica_keys()
        .iter()
        .map(|r| {
            let region = r.region().expect("Region").to_string();
            assert_eq!(r.arn(), Some(arn_in(&region, m.key_id()).as_str()));
            region
        })
        .collect();
    (
        c.multi_region_key_type().expect("type").clone(),
        primary.region().expect("Region").to_string(),
        replicas,
    )
}

fn arn_in(region: &str, key_id: &str) -> String {
    format!("arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}")
}

/// A multi-Region primary key in REGION with a replica in WEST; its key id.
async fn primary_with_replica(server: &TestServer) -> String {
    let east = server.client();
    let id = east
        .create_key()
        .multi_region(true)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata
        .expect("KeyMetadata")
        .key_id
        .clone();
    east.replicate_key()
        .key_id(&id)
        .replica_region(WEST)
        .send()
        .await
        .expect("ReplicateKey");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_shares_id_and_material_and_opens_the_primarys_ciphertexts() {
    let server = TestServer::start().await;
    let (east, west) = (server.client(), server.client_in(WEST));
    let created = east
        .create_key()
        .multi_region(true)
        .description("primary")
        .send()
        .await
        .expect("CreateKey")
        .key_metadata
        .expect("KeyMetadata");
    let id = created.key_id().to_string();
    assert!(id.starts_with("mrk-") && id.len() == 36, "{id}");
    assert_eq!(created.arn(), Some(arn_in(REGION, &id).as_str()));
    assert_eq!(created.multi_region(), Some(true));
    assert_eq!(
        configuration(&created),
        (MultiRegionKeyType::Primary, REGION.to_string(), vec![])
    );
    let from_east = encrypt(&east, &id, b"made in the east").await;

    let tag = Tag::builder()
        .tag_key("site")
        .tag_value("west")
        .build()
        .unwrap();
    let out = east
        .replicate_key()
        .key_id(&id)
        .replica_region(WEST)
        .description("replica")
        .tags(tag.clone())
        .send()
        .await
        .expect("ReplicateKey");
    let replica = out.replica_key_metadata().expect("ReplicaKeyMetadata");
    assert_eq!(replica.key_id(), id);
    assert_eq!(replica.arn(), Some(arn_in(WEST, &id).as_str()));
    assert_eq!(replica.description(), Some("replica"));
    assert_eq!(replica.key_state(), Some(&KeyState::Enabled));
    assert_eq!(
        configuration(replica),
        (
            MultiRegionKeyType::Replica,
            REGION.to_string(),
            vec![WEST.to_string()]
        )
    );
    assert!(out.replica_policy().is_some_and(|p| p.contains("kms:*")));
    assert_eq!(out.replica_tags(), [tag]);

    // Either key opens the other's ciphertexts; each answers with its own ARN.
    let opened = west
        .decrypt()
        .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(from_east))
        .send()
        .await
        .expect("Decrypt in the replica's Region");
    assert_eq!(opened.plaintext().unwrap().as_ref(), b"made in the east");
    assert_eq!(opened.key_id(), Some(arn_in(WEST, &id).as_str()));
    let from_west = encrypt(&west, &id, b"made in the west").await;
    assert_eq!(decrypt(&east, &from_west).await, b"made in the west");

    // The primary now lists its replica; both Regions list the key under the shared id.
    let primary = describe(&east, &id).await;
    assert_eq!(primary.description(), Some("primary"));
    assert_eq!(
        configuration(&primary),
        (
            MultiRegionKeyType::Primary,
            REGION.to_string(),
            vec![WEST.to_string()]
        )
    );
    for (kms, region) in [(&east, REGION), (&west, WEST)] {
        let keys = kms.list_keys().send().await.expect("ListKeys");
        let listed: Vec<_> = keys
            .keys()
            .iter()
            .map(|k| (k.key_id().unwrap(), k.key_arn().unwrap()))
            .collect();
        assert_eq!(listed, [(id.as_str(), arn_in(region, &id).as_str())]);
    }

    // Aliases, state and tags are the replica's own.
    west.create_alias()
        .alias_name("alias/west-only")
        .target_key_id(&id)
        .send()
        .await
        .expect("CreateAlias");
    let aliases = west.list_aliases().send().await.expect("ListAliases");
    assert_eq!(aliases.aliases()[0].target_key_id(), Some(id.as_str()));
    let east_aliases = east.list_aliases().send().await.expect("ListAliases");
    assert!(east_aliases
        .aliases()
        .iter()
        .all(|a| a.alias_name() != Some("alias/west-only")));
    west.disable_key()
        .key_id(&id)
        .send()
        .await
        .expect("DisableKey");
    expect_err(
        west.encrypt()
            .key_id(&id)
            .plaintext(aws_sdk_kms::primitives::Blob::new("x"))
            .send()
            .await,
        "DisabledException",
    );
    encrypt(&east, &id, b"still enabled here").await;
    let east_tags = east.list_resource_tags().key_id(&id).send().await.unwrap();
    assert!(east_tags.tags().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicate_key_refusals() {
    let server = TestServer::start().await;
    let (east, west) = (server.client(), server.client_in(WEST));
    let id = primary_with_replica(&server).await;
    let replicate = |kms: &aws_sdk_kms::Client, key: &str, region: &str| {
        kms.replicate_key()
            .key_id(key)
            .replica_region(region)
            .send()
    };
    expect_err(replicate(&east, &id, WEST).await, "AlreadyExistsException");
    expect_err(replicate(&east, &id, REGION).await, "ValidationException");
    let message = expect_err(
        replicate(&west, &id, "ap-south-1").await,
        "UnsupportedOperationException",
    );
    assert!(
        message.contains("not a multi-Region primary key"),
        "{message}"
    );
    let single = create_key(&east).await;
    expect_err(
        replicate(&east, &single, WEST).await,
        "UnsupportedOperationException",
    );
    expect_err(replicate(&east, &id, "Mars").await, "ValidationException");
    // The replica in WEST is not reachable from another Region, nor by a store-internal name.
    expect_err(
        east.describe_key().key_id(arn_in(WEST, &id)).send().await,
        "NotFoundException",
    );
    expect_err(
        west.describe_key()
            .key_id(format!("{id}@{WEST}"))
            .send()
            .await,
        "NotFoundException",
    );
    expect_err(
        server
            .client_in("ap-south-1")
            .describe_key()
            .key_id(&id)
            .send()
            .await,
        "NotFoundException",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicate_key_needs_create_key_in_the_replica_region() {
    let server = TestServer::start().await;
    let east = server.client();
    let id = east
        .create_key()
        .multi_region(true)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let only_east = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"kms:ReplicateKey","Resource":"*"},
        {"Effect":"Allow","Action":"kms:CreateKey","Resource":"*",
         "Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}"#;
    let (limited, _) = user_with_policy(&server, ACCOUNT, "limited", Some(only_east)).await;
    let message = expect_err(
        limited
            .replicate_key()
            .key_id(&id)
            .replica_region(WEST)
            .send()
            .await,
        "AccessDeniedException",
    );
    assert!(message.contains("kms:CreateKey"), "{message}");
    let no_tagging = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["kms:ReplicateKey","kms:CreateKey"],"Resource":"*"}]}"#;
    let (replicator, _) = user_with_policy(&server, ACCOUNT, "replicator", Some(no_tagging)).await;
    let tag = Tag::builder().tag_key("a").tag_value("b").build().unwrap();
    let message = expect_err(
        replicator
            .replicate_key()
            .key_id(&id)
            .replica_region(WEST)
            .tags(tag)
            .send()
            .await,
        "AccessDeniedException",
    );
    assert!(message.contains("kms:TagResource"), "{message}");
    replicator
        .replicate_key()
        .key_id(&id)
        .replica_region(WEST)
        .send()
        .await
        .expect("ReplicateKey with kms:CreateKey in the replica Region");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_primary_region_swaps_primary_and_replica() {
    let server = TestServer::start().await;
    let (east, west) = (server.client(), server.client_in(WEST));
    let id = primary_with_replica(&server).await;
    expect_err(
        east.update_primary_region()
            .key_id(&id)
            .primary_region("ap-south-1")
            .send()
            .await,
        "NotFoundException",
    );
    east.update_primary_region()
        .key_id(&id)
        .primary_region(WEST)
        .send()
        .await
        .expect("UpdatePrimaryRegion");
    let (kind, primary, replicas) = configuration(&describe(&west, &id).await);
    assert_eq!(
        (kind, primary.as_str(), replicas),
        (MultiRegionKeyType::Primary, WEST, vec![REGION.to_string()])
    );
    let (kind, primary, _) = configuration(&describe(&east, &id).await);
    assert_eq!(
        (kind, primary.as_str()),
        (MultiRegionKeyType::Replica, WEST)
    );
    // The former primary is a replica now: it can neither move the primary nor be replicated.
    expect_err(
        east.update_primary_region()
            .key_id(&id)
            .primary_region(WEST)
            .send()
            .await,
        "UnsupportedOperationException",
    );
    expect_err(
        east.replicate_key()
            .key_id(&id)
            .replica_region("ap-south-1")
            .send()
            .await,
        "UnsupportedOperationException",
    );
    west.replicate_key()
        .key_id(&id)
        .replica_region("ap-south-1")
        .send()
        .await
        .expect("ReplicateKey from the new primary");
    let (_, _, replicas) = configuration(&describe(&west, &id).await);
    assert_eq!(replicas, ["ap-south-1", REGION]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_key_waits_for_its_replicas_before_its_waiting_period() {
    let server = TestServer::start().await;
    let (east, west) = (server.client(), server.client_in(WEST));
    let kms = &server.running.kms;
    let id = primary_with_replica(&server).await;
    let scheduled = east
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("ScheduleKeyDeletion");
    assert_eq!(
        scheduled.key_state(),
        Some(&KeyState::PendingReplicaDeletion)
    );
    assert_eq!(scheduled.deletion_date(), None);
    assert_eq!(scheduled.pending_window_in_days(), Some(7));
    let m = describe(&east, &id).await;
    assert_eq!(m.key_state(), Some(&KeyState::PendingReplicaDeletion));
    assert_eq!(m.pending_deletion_window_in_days(), Some(7));
    assert!(m.deletion_date().is_none());
    expect_err(
        east.encrypt()
            .key_id(&id)
            .plaintext(aws_sdk_kms::primitives::Blob::new("x"))
            .send()
            .await,
        "KMSInvalidStateException",
    );
    // A sweep leaves it waiting while the replica exists; its deletion can be cancelled.
    ferrokms_core::scheduler::delete_due_keys(kms)
        .await
        .expect("sweep");
    assert_eq!(
        describe(&east, &id).await.key_state(),
        Some(&KeyState::PendingReplicaDeletion)
    );
    east.cancel_key_deletion()
        .key_id(&id)
        .send()
        .await
        .expect("cancel");
    assert_eq!(
        describe(&east, &id).await.key_state(),
        Some(&KeyState::Disabled)
    );
    east.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("ScheduleKeyDeletion again");

    // The replica is deleted on its own schedule; here its waiting period is cut short by
    // destroying it as the sweep would when its date has passed.
    let replica = west
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("ScheduleKeyDeletion of the replica");
    assert_eq!(replica.key_state(), Some(&KeyState::PendingDeletion));
    let rows = kms.store().multi_region_keys(ACCOUNT, &id).await.unwrap();
    let row = rows.iter().find(|r| r.region == WEST).expect("replica row");
    kms.destroy_key(ACCOUNT, WEST, &row.key_id, row.row_version)
        .await
        .expect("destroy the replica");
    expect_err(
        west.describe_key().key_id(&id).send().await,
        "NotFoundException",
    );

    let before = now_ms();
    ferrokms_core::scheduler::delete_due_keys(kms)
        .await
        .expect("sweep");
    let m = describe(&east, &id).await;
    assert_eq!(m.key_state(), Some(&KeyState::PendingDeletion));
    let date = millis(m.deletion_date().expect("DeletionDate"));
    assert!((date - (before + 7 * DAY_MS)).abs() < 60_000, "{date}");
    assert_eq!(
        configuration(&m),
        (MultiRegionKeyType::Primary, REGION.to_string(), vec![])
    );
}

/// Key pairs and HMAC keys replicate too: a signature or MAC made in one Region verifies in the
/// other, and both Regions export the same public key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_and_mac_keys_work_across_regions() {
    use aws_sdk_kms::primitives::Blob;
    use aws_sdk_kms::types::{KeySpec, KeyUsageType, MacAlgorithmSpec, SigningAlgorithmSpec};
    let server = TestServer::start().await;
    let (east, west) = (server.client(), server.client_in(WEST));
    let make = |spec: KeySpec, usage: KeyUsageType| {
        east.create_key()
            .multi_region(true)
            .key_spec(spec)
            .key_usage(usage)
            .send()
    };
    let signer = make(KeySpec::EccNistP256, KeyUsageType::SignVerify)
        .await
        .expect("CreateKey")
        .key_metadata
        .unwrap()
        .key_id;
    let mac = make(KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac)
        .await
        .expect("CreateKey")
        .key_metadata
        .unwrap()
        .key_id;
    for key in [&signer, &mac] {
        east.replicate_key()
            .key_id(key)
            .replica_region(WEST)
            .send()
            .await
            .expect("ReplicateKey");
    }

    let message = Blob::new("signed in the east");
    let signature = east
        .sign()
        .key_id(&signer)
        .message(message.clone())
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("Sign")
        .signature
        .unwrap();
    let verified = west
        .verify()
        .key_id(&signer)
        .message(message)
        .signature(signature)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("Verify in the replica's Region");
    assert!(verified.signature_valid());
    let public = |kms: &aws_sdk_kms::Client| kms.get_public_key().key_id(&signer).send();
    assert_eq!(
        public(&east).await.unwrap().public_key,
        public(&west).await.unwrap().public_key
    );

    let tag = west
        .generate_mac()
        .key_id(&mac)
        .message(Blob::new("mac in the west"))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .expect("GenerateMac")
        .mac
        .unwrap();
    let checked = east
        .verify_mac()
        .key_id(&mac)
        .message(Blob::new("mac in the west"))
        .mac(tag)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .expect("VerifyMac in the primary's Region");
    assert!(checked.mac_valid());
}

/// Rotating a multi-Region primary gives every replica the new material: what the primary
/// encrypts after the rotation decrypts in the replica's Region, replicas made after a rotation
/// get every material, and rotation is refused on a replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_of_a_primary_reaches_its_replicas() {
    let server = TestServer::start().await;
    let east = server.client();
    let west = server.client_in(WEST);
    let id = primary_with_replica(&server).await;
    let before = encrypt(&east, &id, b"before rotation").await;

    east.rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .expect("RotateKeyOnDemand on the primary");
    let after = encrypt(&east, &id, b"after rotation").await;
    assert_eq!(decrypt(&west, &after).await, b"after rotation");
    assert_eq!(decrypt(&west, &before).await, b"before rotation");
    // The replica encrypts under the new material too: the primary opens it.
    let from_west = encrypt(&west, &id, b"from the replica").await;
    assert_eq!(decrypt(&east, &from_west).await, b"from the replica");

    // A replica made after the rotation has both materials.
    east.replicate_key()
        .key_id(&id)
        .replica_region("ap-south-1")
        .send()
        .await
        .expect("ReplicateKey after a rotation");
    let south = server.client_in("ap-south-1");
    assert_eq!(decrypt(&south, &before).await, b"before rotation");
    assert_eq!(decrypt(&south, &after).await, b"after rotation");

    expect_err(
        west.rotate_key_on_demand().key_id(&id).send().await,
        "UnsupportedOperationException",
    );

    // Automatic rotation follows the primary when it moves.
    east.enable_key_rotation()
        .key_id(&id)
        .rotation_period_in_days(120)
        .send()
        .await
        .expect("EnableKeyRotation on the primary");
    // A replica answers with its primary's schedule, which rotates them both.
    let replica_status = rotation_status(&west, &id).await;
    assert!(replica_status.key_rotation_enabled());
    assert_eq!(replica_status.rotation_period_in_days(), Some(120));
    east.update_primary_region()
        .key_id(&id)
        .primary_region(WEST)
        .send()
        .await
        .expect("UpdatePrimaryRegion");
    let west_status = rotation_status(&west, &id).await;
    assert!(west_status.key_rotation_enabled());
    assert_eq!(west_status.rotation_period_in_days(), Some(120));
    let east_status = rotation_status(&east, &id).await;
    // The old primary, now a replica, follows the schedule that moved to the new primary.
    assert!(east_status.key_rotation_enabled());
    assert_eq!(east_status.rotation_period_in_days(), Some(120));
    assert_eq!(
        east_status.next_rotation_date(),
        west_status.next_rotation_date()
    );
    // The old primary is now a replica.
    expect_err(
        east.enable_key_rotation().key_id(&id).send().await,
        "UnsupportedOperationException",
    );
    server.shutdown().await;
}

async fn rotation_status(
    kms: &aws_sdk_kms::Client,
    id: &str,
) -> aws_sdk_kms::operation::get_key_rotation_status::GetKeyRotationStatusOutput {
    kms.get_key_rotation_status()
        .key_id(id)
        .send()
        .await
        .expect("GetKeyRotationStatus")
}
