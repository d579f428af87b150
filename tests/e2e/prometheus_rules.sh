#!/usr/bin/env bash
# The shipped Prometheus scrape config and alerting rules are valid.
set -euo pipefail
. "$(dirname "$0")/common.bash"
command -v promtool >/dev/null || { echo "promtool is not installed"; exit 77; }
promtool check rules "$ROOT/tools/prometheus/hb-alerts.rules.yml"
cp "$ROOT/tools/prometheus/hb-scrape.yml" "$ROOT/tools/prometheus/hb-alerts.rules.yml" "$T/"
promtool check config "$T/hb-scrape.yml"
