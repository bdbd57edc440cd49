"""Copies every object of one bucket into another (created if need be), as `aws s3 sync` does:
how the backup test backs up and restores attachments. Usage: copy_bucket.py ENDPOINT FROM TO"""
import sys

import boto3

endpoint, source, target = sys.argv[1:4]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="helpdesk-test",
    aws_secret_access_key="helpdesk-test-secret",
)
if target not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
    s3.create_bucket(Bucket=target)
copied = 0
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=source):
    for item in page.get("Contents", []):
        s3.copy({"Bucket": source, "Key": item["Key"]}, target, item["Key"])
        copied += 1
print(copied)
