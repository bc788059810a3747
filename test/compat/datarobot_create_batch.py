#!/usr/bin/env python3
"""Create a monitoring batch on a deployment, the way a DataRobot MLOps user scripts it.

Written against DataRobot's REST API (requests, a bearer token, the DataRobot-Key header,
`json={"batchName": ...}`, expects 201, reads the new batch's id). Pointed at batchlens, only
BASE changes.

    DATAROBOT_ENDPOINT=https://app.datarobot.com \
    DATAROBOT_API_TOKEN=... DEPLOYMENT_ID=... \
    python3 datarobot_create_batch.py "nightly scoring 2024-06-01"

Prints the new batch's id on stdout; on failure prints the answer on stderr and exits 1.
"""

import os
import sys
from datetime import datetime, timezone

import requests

BASE = os.environ.get("DATAROBOT_ENDPOINT", "https://app.datarobot.com").rstrip("/")
API_TOKEN = os.environ["DATAROBOT_API_TOKEN"]
DEPLOYMENT_ID = os.environ["DEPLOYMENT_ID"]
# Managed AI Cloud accounts send this key with every request; self-hosted servers ignore it.
DATAROBOT_KEY = os.environ.get("DATAROBOT_KEY", "544ec55f-61bf-f6ee-0caf-15c7f919a45d")


def create_monitoring_batch(batch_name, description=None, external_context_url=None):
    payload = {"batchName": batch_name}
    if description is not None:
        payload["description"] = description
    if external_context_url is not None:
        payload["externalContextUrl"] = external_context_url
    response = requests.post(
        f"{BASE}/api/v2/deployments/{DEPLOYMENT_ID}/monitoringBatches/",
        headers={
            "Authorization": f"Bearer {API_TOKEN}",
            "DataRobot-Key": DATAROBOT_KEY,
        },
        json=payload,
        timeout=30,
    )
    if response.status_code != 201:
        print(f"Could not create the batch: {response.status_code} {response.text}", file=sys.stderr)
        sys.exit(1)
    return response.json()


def main():
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    batch_name = sys.argv[1] if len(sys.argv) > 1 else f"scoring run {now}"
    batch = create_monitoring_batch(
        batch_name,
        description="Created by the nightly scoring script",
        external_context_url="https://ci.example.com/jobs/nightly-scoring/42",
    )
    print(batch["id"])


if __name__ == "__main__":
    main()
