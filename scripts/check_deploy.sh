#!/bin/sh
# Validates the deployment kit without a Docker engine or a cluster (make deploy-check,
# part of make test):
#   docker-compose.yml   against the Compose specification (check-jsonschema)
#   Dockerfile           hadolint
#   deploy/k8s           kubernetes-validate --strict (KEDA's ScaledObject has no schema
#                        there: a warning)
#   deploy/prometheus    promtool check config / check rules
#   deploy/grafana       the dashboard is what scripts/make_dashboard.py writes, valid JSON
# The dashboard's queries are checked against a live Prometheus scraping a real worker by
# the DeployTopologyTests suite.
set -eu
venv=${DEPLOY_VENV:-.venv-deploy}
echo "== compose"
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml
echo "== Dockerfile"
"$venv/bin/hadolint" Dockerfile && echo "hadolint: no findings"
echo "== Kubernetes"
"$venv/bin/kubernetes-validate" --strict deploy/k8s/*.yaml deploy/k8s/autoscaling/*/*.yaml
echo "== Prometheus"
promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/alerts.yml
echo "== Grafana"
expected=$(mktemp)
trap 'rm -f "$expected"' EXIT
python3 -c 'import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("d", "scripts/make_dashboard.py"); d = importlib.util.module_from_spec(spec); spec.loader.exec_module(d)
sys.stdout.write(json.dumps(d.dashboard(), indent=2) + "\n")' > "$expected"
if ! cmp -s "$expected" deploy/grafana/streamscore.json; then
    echo "deploy/grafana/streamscore.json differs from what scripts/make_dashboard.py writes: run it" >&2
    exit 1
fi
python3 -m json.tool deploy/grafana/streamscore.json > /dev/null && echo "streamscore.json: valid, up to date"
