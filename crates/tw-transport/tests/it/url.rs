//! Base-URL validation: nothing the user types can redirect the token.

use tw_transport::BaseUrl;

#[test]
fn tenants_and_regions_must_be_dns_labels() {
    for (tenant, region, url) in [
        ("acme", "eu3", "https://acme.eu3.techwolf.ai"),
        ("ACME-corp", "us", "https://acme-corp.us.techwolf.ai"),
        ("a", "eu", "https://a.eu.techwolf.ai"),
        ("x1-y2", "eu-west-1", "https://x1-y2.eu-west-1.techwolf.ai"),
    ] {
        assert_eq!(BaseUrl::for_tenant(tenant, region).unwrap().as_str(), url);
    }
    let long = "a".repeat(64);
    for (tenant, region) in [
        ("acme.evil.com", "eu"),
        ("acme", "eu.evil.com/x"),
        ("evil.com/", "eu"),
        ("user@evil", "eu"),
        ("acme corp", "eu"),
        ("", "eu"),
        ("acme", ""),
        ("-acme", "eu"),
        ("acme-", "eu"),
        ("acme", "eu#"),
        ("acmé", "eu"),
        (long.as_str(), "eu"),
    ] {
        let err = BaseUrl::for_tenant(tenant, region).unwrap_err();
        assert!(err.is_config(), "{tenant:?} {region:?}");
        assert!(err.to_string().contains("expected a DNS label"), "{err}");
    }
    insta::assert_snapshot!(
        "bad_tenant",
        BaseUrl::for_tenant("acme.evil.com", "eu").unwrap_err()
    );
}

#[test]
fn http_only_to_loopback() {
    for ok in [
        "https://acme.eu3.techwolf.ai",
        "https://proxy.corp.example:8443/techwolf/",
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://localhost:3000",
        "http://[::1]:9000",
        "https://[2001:db8::1]",
    ] {
        assert!(BaseUrl::parse(ok).is_ok(), "{ok}");
    }
    assert_eq!(
        BaseUrl::parse("https://proxy.corp.example:8443/techwolf/")
            .unwrap()
            .as_str(),
        "https://proxy.corp.example:8443/techwolf"
    );
    for bad in [
        "http://acme.eu3.techwolf.ai",
        "http://10.0.0.1",
        "http://192.168.1.1:8080",
        "http://localhost.evil.com",
        "http://127.0.0.1.evil.com",
        "ftp://acme.eu3.techwolf.ai",
        "acme.eu3.techwolf.ai",
        "https://user:pw@acme.eu3.techwolf.ai",
        "https://acme.eu3.techwolf.ai?x=1",
        "https://acme.eu3.techwolf.ai#frag",
        "https://",
        "https://acme.eu3.techwolf.ai:99999",
        "https://acme .techwolf.ai",
        "http://[::2]",
    ] {
        let err = BaseUrl::parse(bad).unwrap_err();
        assert!(err.is_config(), "{bad} gave {err}");
    }
    insta::assert_snapshot!(
        "http_elsewhere",
        BaseUrl::parse("http://acme.eu3.techwolf.ai").unwrap_err()
    );
}

#[test]
fn joining_paths_and_absolute_urls() {
    let base = BaseUrl::parse("http://127.0.0.1:9/prefix").unwrap();
    assert_eq!(
        base.join("/export/x").unwrap(),
        "http://127.0.0.1:9/prefix/export/x"
    );
    assert_eq!(
        base.join("https://techwolf.eu.auth0.com/oauth/token")
            .unwrap(),
        "https://techwolf.eu.auth0.com/oauth/token"
    );
    assert!(
        base.join("http://evil.example/oauth/token").is_err(),
        "a token URL in clear text elsewhere"
    );
    assert!(base.join("export/x").is_err());
}
