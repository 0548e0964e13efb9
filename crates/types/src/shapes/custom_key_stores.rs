//! Shapes of custom key stores: CreateCustomKeyStore, ConnectCustomKeyStore,
//! DisconnectCustomKeyStore, UpdateCustomKeyStore, DeleteCustomKeyStore,
//! DescribeCustomKeyStores.

use super::{limit_and_marker, Validate};
use crate::enums::{
    ConnectionErrorCode, ConnectionState, CustomKeyStoreType, XksProxyConnectivity,
};
use crate::validate::Validator;
use crate::{SecretText, Timestamp};
use serde::{Deserialize, Serialize};

/// The XKS proxy's SigV4 credential. Both members are sensitive in botocore's model.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct XksProxyAuthenticationCredential {
    pub access_key_id: Option<SecretText>,
    pub raw_secret_access_key: Option<SecretText>,
}

/// Declares a request of CreateCustomKeyStore or UpdateCustomKeyStore: its own members, then the
/// members both take that say where the store's keys live (inline, as botocore's model lists
/// them), with `location()` to read those together.
macro_rules! with_location_members {
    ($(#[$meta:meta])* pub struct $name:ident { $(pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, Deserialize, Serialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            $(pub $field: $ty,)*
            pub cloud_hsm_cluster_id: Option<String>,
            pub key_store_password: Option<SecretText>,
            pub xks_proxy_uri_endpoint: Option<String>,
            pub xks_proxy_uri_path: Option<String>,
            pub xks_proxy_vpc_endpoint_service_name: Option<String>,
            pub xks_proxy_vpc_endpoint_service_owner: Option<String>,
            pub xks_proxy_authentication_credential: Option<XksProxyAuthenticationCredential>,
            pub xks_proxy_connectivity: Option<String>,
        }

        impl $name {
            /// The members that say where the store's keys live.
            pub fn location(&self) -> KeyStoreLocation<'_> {
                KeyStoreLocation {
                    cloud_hsm_cluster_id: &self.cloud_hsm_cluster_id,
                    key_store_password: &self.key_store_password,
                    xks_proxy_uri_endpoint: &self.xks_proxy_uri_endpoint,
                    xks_proxy_uri_path: &self.xks_proxy_uri_path,
                    xks_proxy_vpc_endpoint_service_name: &self.xks_proxy_vpc_endpoint_service_name,
                    xks_proxy_vpc_endpoint_service_owner: &self.xks_proxy_vpc_endpoint_service_owner,
                    xks_proxy_authentication_credential: &self.xks_proxy_authentication_credential,
                    xks_proxy_connectivity: &self.xks_proxy_connectivity,
                }
            }
        }
    };
}

/// The members of CreateCustomKeyStore and UpdateCustomKeyStore that say where a store's keys
/// live, borrowed from the request.
#[derive(Debug, Clone, Copy)]
pub struct KeyStoreLocation<'a> {
    pub cloud_hsm_cluster_id: &'a Option<String>,
    pub key_store_password: &'a Option<SecretText>,
    pub xks_proxy_uri_endpoint: &'a Option<String>,
    pub xks_proxy_uri_path: &'a Option<String>,
    pub xks_proxy_vpc_endpoint_service_name: &'a Option<String>,
    pub xks_proxy_vpc_endpoint_service_owner: &'a Option<String>,
    pub xks_proxy_authentication_credential: &'a Option<XksProxyAuthenticationCredential>,
    pub xks_proxy_connectivity: &'a Option<String>,
}

impl KeyStoreLocation<'_> {
    fn validate(&self, v: &mut Validator) {
        v.string("cloudHsmClusterId", text(self.cloud_hsm_cluster_id), 19, 24);
        v.pattern(
            "cloudHsmClusterId",
            text(self.cloud_hsm_cluster_id),
            crate::ids::is_cloud_hsm_cluster_id,
            "cluster-[2-7a-zA-Z]{11,16}",
        );
        let password = self
            .key_store_password
            .as_ref()
            .map(|p| p.expose().chars().count());
        v.blob("keyStorePassword", password, 7, 32);
        v.string(
            "xksProxyUriEndpoint",
            text(self.xks_proxy_uri_endpoint),
            10,
            128,
        );
        v.pattern(
            "xksProxyUriEndpoint",
            text(self.xks_proxy_uri_endpoint),
            is_https_endpoint,
            "^https://[a-zA-Z0-9.-]+$",
        );
        v.string("xksProxyUriPath", text(self.xks_proxy_uri_path), 10, 128);
        v.pattern(
            "xksProxyUriPath",
            text(self.xks_proxy_uri_path),
            is_xks_path,
            "^(/[a-zA-Z0-9\\/_-]+/kms/xks/v\\d{1,2})$|^(/kms/xks/v\\d{1,2})$",
        );
        let service = text(self.xks_proxy_vpc_endpoint_service_name);
        v.string("xksProxyVpcEndpointServiceName", service, 20, 64);
        let owner = text(self.xks_proxy_vpc_endpoint_service_owner);
        v.string("xksProxyVpcEndpointServiceOwner", owner, 12, 12);
        v.pattern(
            "xksProxyVpcEndpointServiceOwner",
            owner,
            |o| o.bytes().all(|b| b.is_ascii_digit()),
            "[0-9]{12}",
        );
        v.one_of::<XksProxyConnectivity>("xksProxyConnectivity", text(self.xks_proxy_connectivity));
        if let Some(credential) = self.xks_proxy_authentication_credential {
            let id = credential.access_key_id.as_ref().map(SecretText::expose);
            let field = "xksProxyAuthenticationCredential.accessKeyId";
            if v.required(field, id.as_ref()) {
                v.blob(field, id.map(str::len), 20, 30);
                v.secret_pattern(field, id, is_base32_upper, "^[A-Z2-7]+$");
            }
            let secret = credential
                .raw_secret_access_key
                .as_ref()
                .map(SecretText::expose);
            let field = "xksProxyAuthenticationCredential.rawSecretAccessKey";
            if v.required(field, secret.as_ref()) {
                v.blob(field, secret.map(str::len), 43, 64);
                v.secret_pattern(field, secret, is_base64_text, "^[a-zA-Z0-9\\/+=]+$");
            }
        }
    }
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref()
}

fn is_https_endpoint(uri: &str) -> bool {
    uri.strip_prefix("https://").is_some_and(|host| {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    })
}

/// `^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$`.
fn is_xks_path(path: &str) -> bool {
    let Some((prefix, version)) = path.rsplit_once("/kms/xks/v") else {
        return false;
    };
    let prefix_ok = prefix.is_empty()
        || (prefix.len() > 1
            && prefix.starts_with('/')
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b)));
    prefix_ok && (1..=2).contains(&version.len()) && version.bytes().all(|b| b.is_ascii_digit())
}

fn is_base32_upper(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}

fn is_base64_text(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/+=".contains(&b))
}

fn custom_key_store_name(v: &mut Validator, field: &str, value: Option<&String>, required: bool) {
    if required && !v.required(field, value) {
        return;
    }
    v.string(field, value.map(String::as_str), 1, 256);
}

fn custom_key_store_id(v: &mut Validator, value: Option<&String>, required: bool) {
    if required && !v.required("customKeyStoreId", value) {
        return;
    }
    v.string("customKeyStoreId", value.map(String::as_str), 1, 64);
}

with_location_members! {
    pub struct CreateCustomKeyStoreRequest {
        pub custom_key_store_name: Option<String>,
        pub trust_anchor_certificate: Option<String>,
        pub custom_key_store_type: Option<String>,
    }
}

impl Validate for CreateCustomKeyStoreRequest {
    fn validate(&self, v: &mut Validator) {
        custom_key_store_name(
            v,
            "customKeyStoreName",
            self.custom_key_store_name.as_ref(),
            true,
        );
        v.string(
            "trustAnchorCertificate",
            self.trust_anchor_certificate.as_deref(),
            1,
            5000,
        );
        v.one_of::<CustomKeyStoreType>("customKeyStoreType", self.custom_key_store_type.as_deref());
        self.location().validate(v);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateCustomKeyStoreResponse {
    pub custom_key_store_id: String,
}

/// ConnectCustomKeyStore, DisconnectCustomKeyStore and DeleteCustomKeyStore take one member.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomKeyStoreIdRequest {
    pub custom_key_store_id: Option<String>,
}

impl Validate for CustomKeyStoreIdRequest {
    fn validate(&self, v: &mut Validator) {
        custom_key_store_id(v, self.custom_key_store_id.as_ref(), true);
    }
}

with_location_members! {
    pub struct UpdateCustomKeyStoreRequest {
        pub custom_key_store_id: Option<String>,
        pub new_custom_key_store_name: Option<String>,
    }
}

impl Validate for UpdateCustomKeyStoreRequest {
    fn validate(&self, v: &mut Validator) {
        custom_key_store_id(v, self.custom_key_store_id.as_ref(), true);
        let name = self.new_custom_key_store_name.as_ref();
        custom_key_store_name(v, "newCustomKeyStoreName", name, false);
        self.location().validate(v);
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeCustomKeyStoresRequest {
    pub custom_key_store_id: Option<String>,
    pub custom_key_store_name: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

impl Validate for DescribeCustomKeyStoresRequest {
    fn validate(&self, v: &mut Validator) {
        custom_key_store_id(v, self.custom_key_store_id.as_ref(), false);
        let name = self.custom_key_store_name.as_ref();
        custom_key_store_name(v, "customKeyStoreName", name, false);
        limit_and_marker(v, self.limit, self.marker.as_ref());
    }
}

/// What DescribeCustomKeyStores shows of an external key store's proxy (never its secret).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct XksProxyConfiguration {
    pub connectivity: XksProxyConnectivity,
    pub access_key_id: String,
    pub uri_endpoint: String,
    pub uri_path: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomKeyStoresListEntry {
    pub custom_key_store_id: String,
    pub custom_key_store_name: String,
    pub custom_key_store_type: CustomKeyStoreType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_hsm_cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_anchor_certificate: Option<String>,
    pub connection_state: ConnectionState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_error_code: Option<ConnectionErrorCode>,
    pub creation_date: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xks_proxy_configuration: Option<XksProxyConfiguration>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeCustomKeyStoresResponse {
    pub custom_key_stores: Vec<CustomKeyStoresListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_the_models() {
        assert!(crate::ids::is_cloud_hsm_cluster_id("cluster-234567abcdefg"));
        assert!(
            !crate::ids::is_cloud_hsm_cluster_id("cluster-1234567abcdefg"),
            "1 is not base32"
        );
        assert!(!crate::ids::is_cloud_hsm_cluster_id("cluster-abc"));
        assert!(is_https_endpoint("https://xks.example.com"));
        assert!(!is_https_endpoint("http://xks.example.com"));
        assert!(!is_https_endpoint("https://xks.example.com/path"));
        assert!(is_xks_path("/kms/xks/v1"));
        assert!(is_xks_path("/prefix/a_b-c/kms/xks/v12"));
        assert!(!is_xks_path("/kms/xks/v123"));
        assert!(!is_xks_path("kms/xks/v1"));
        assert!(!is_xks_path("/x y/kms/xks/v1"));
    }

    #[test]
    fn secrets_are_never_echoed_in_validation_messages() {
        let request: CreateCustomKeyStoreRequest = serde_json::from_str(
            r#"{"CustomKeyStoreName":"s","KeyStorePassword":"hunter",
                "XksProxyAuthenticationCredential":{"AccessKeyId":"lower-case-secret-id-x",
                "RawSecretAccessKey":"not base64 but long enough to pass the length check...."}}"#,
        )
        .expect("parses");
        let mut v = Validator::new();
        request.validate(&mut v);
        let message = v
            .finish()
            .expect_err("three members are invalid")
            .to_string();
        assert!(message.contains("keyStorePassword"), "{message}");
        assert!(message.contains("accessKeyId"), "{message}");
        assert!(message.contains("rawSecretAccessKey"), "{message}");
        for secret in ["hunter", "lower-case-secret", "not base64"] {
            assert!(!message.contains(secret), "{message}");
        }
        assert!(!format!("{request:?}").contains("hunter"));
    }
}
