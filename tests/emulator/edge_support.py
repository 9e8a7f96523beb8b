"""What the CloudFront edge tests share: an Origin Access Control and the bucket policy that
admits distributions through it, distributions and behaviours, signing keys and a signer (botocore's
CloudFrontSigner, an implementation independent of the emulator's), CloudFront's 403 bodies."""

from __future__ import annotations

import base64
import json
import uuid
import xml.etree.ElementTree as ET

import requests
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def create_oac(lab, cf) -> str:
    """An S3 Origin Access Control that signs every request with SigV4; returns its id."""
    return cf.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": lab.name("oac"),
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]


def oac_policy(bucket: str, distribution_arns: list[str]) -> str:
    """The bucket policy CloudFront's console writes for OAC (StringEquals AWS:SourceArn)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowCloudFrontServicePrincipal",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                    "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arns}},
                }
            ],
        }
    )


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def cf_b64(data: bytes) -> str:
    """CloudFront's base64: `+`→`-`, `=`→`_`, `/`→`~`."""
    return base64.b64encode(data).decode().translate(str.maketrans("+=/", "-_~"))


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes, algorithm=hashes.SHA1) -> bytes:
    return key.sign(message, padding.PKCS1v15(), algorithm())


def signer_for(key: rsa.RSAPrivateKey, key_id: str) -> CloudFrontSigner:
    """AWS's documented boto3 recipe, with `cryptography` as the RSA signer."""
    return CloudFrontSigner(key_id, lambda message: rsa_sign(key, message))


def assert_refused(resp: requests.Response, code: str, message: str) -> None:
    assert resp.status_code == 403
    assert resp.headers["Content-Type"] == "text/xml"
    root = ET.fromstring(resp.content)
    assert root.tag == "Error"
    assert (root.findtext("Code"), root.findtext("Message")) == (code, message)
    assert resp.headers["X-Cache"] == "Error from cloudfront"


def assert_denied(resp: requests.Response) -> None:
    assert_refused(resp, "AccessDenied", "Access denied")


def behaviour(origin_id: str, pattern: str | None = None, *, query: bool = False, **extra) -> dict:
    out = {
        "TargetOriginId": origin_id,
        "ViewerProtocolPolicy": "allow-all",
        "AllowedMethods": {
            "Quantity": 2,
            "Items": ["GET", "HEAD"],
            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        },
        "ForwardedValues": {"QueryString": query, "Cookies": {"Forward": "none"}},
        "MinTTL": 0,
        **extra,
    }
    if pattern is not None:
        out["PathPattern"] = pattern
    return out


def create_distribution(cf, origins: list[dict], default: dict, behaviours: list[dict]) -> dict:
    return cf.create_distribution(
        DistributionConfig={
            "CallerReference": str(uuid.uuid4()),
            "Comment": "",
            "Enabled": True,
            "Origins": {"Quantity": len(origins), "Items": origins},
            "DefaultCacheBehavior": default,
            "CacheBehaviors": {"Quantity": len(behaviours), "Items": behaviours},
        }
    )["Distribution"]
