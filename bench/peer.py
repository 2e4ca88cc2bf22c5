#!/usr/bin/env python3
"""The peer: what a TechWolf customer would write without tw-export.

A straightforward script with `requests` and `json` that pages through
POST /export/employees/skill_clusters and writes JSONL. `cargo xtask bench`
runs it against the same sandbox as the exporter.

usage: peer.py BASE_URL TOKEN OUTPUT
"""
import json
import sys

import requests


def main():
    base_url, token, output = sys.argv[1], sys.argv[2], sys.argv[3]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    body = {
        "limit": 100,
        "include": ["current_skills", "related_skills", "rejected_skills", "sources"],
    }
    with open(output, "w", encoding="utf-8") as out:
        while True:
            response = session.post(f"{base_url}/export/employees/skill_clusters", json=body, timeout=120)
            response.raise_for_status()
            page = response.json()
            for record in page["records"]:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            if not page["has_next"]:
                break
            body["starting_after"] = page["next_starting_after"]


if __name__ == "__main__":
    main()
